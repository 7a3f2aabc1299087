"""The background-process runner the modules use: command lines, progress parsing, cancel kills the tree."""
import os
import sys
import textwrap
import time

import numpy as np
import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.slicerbridge import runner


def test_progress_lines_parse_and_other_lines_are_ignored():
    ev = runner.parse_progress_line('{"progress": 0.25, "message": "propagating phase 3"}\n')
    assert ev.fraction == 0.25 and ev.message == "propagating phase 3" and ev.device is None
    assert runner.parse_progress_line('{"progress": 1.7, "message": "x", "device": "cuda"}').fraction == 1.0
    assert runner.parse_progress_line('{"progress": 0.1, "message": "device: cpu"}').device == "cpu"
    for line in ("loading...", "{not json", '{"other": 1}', '{"progress": "abc"}', ""):
        assert runner.parse_progress_line(line) is None


def test_segment_command_follows_cli_contract():
    cmd = runner.segment_command("im.nii.gz", "seg.nii.gz", seed="seed.nii.gz", seed_phase=0, method="registration",
                                 device="cpu", python="py")
    assert cmd[:5] == ["py", "-m", "cardiacmotion", "segment", "im.nii.gz"]
    joined = " ".join(cmd)
    assert "-o seg.nii.gz" in joined and "--seed seed.nii.gz --seed-phase 0" in joined
    assert "--method registration" in joined and "--device cpu" in joined and "--progress json" in joined
    with pytest.raises(InputError):
        runner.segment_command("im.nii.gz", "seg.nii.gz")


def test_edited_seed_keeps_only_edited_phases():
    labels = np.random.default_rng(0).integers(0, 4, (5, 2, 4, 4)).astype(np.uint8)
    seed = runner.edited_seed(labels, [3, 1])
    assert np.array_equal(seed[[1, 3]], labels[[1, 3]]) and not seed[[0, 2, 4]].any()
    with pytest.raises(InputError):
        runner.edited_seed(labels, [])
    with pytest.raises(InputError):
        runner.edited_seed(labels, [7])


def test_job_reports_progress_and_device(tmp_path):
    script = textwrap.dedent("""
        import json, sys
        for i in range(3):
            print(json.dumps({"progress": i / 2, "message": f"step {i}", "device": "cpu"}), flush=True)
        print("not a progress line")
    """)
    job = runner.BackgroundJob([sys.executable, "-c", script]).start()
    assert job.wait(30) == 0
    time.sleep(0.2)  # the reader thread drains the pipe
    events = job.poll()
    assert [e.fraction for e in events] == [0.0, 0.5, 1.0] and job.device == "cpu"


def test_cancel_kills_the_process_tree(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print('{{"progress": 0.1, "message": "started"}}', flush=True)
        time.sleep(60)
    """)
    job = runner.BackgroundJob([sys.executable, "-c", script]).start()
    deadline = time.time() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline, "child never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    job.cancel()
    assert job.cancelled
    job.wait(10)
    for _ in range(100):  # the grandchild goes too (reaped by init, so poll for its absence)
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the engine's child process survived cancel")


def test_failed_job_gives_the_cli_one_line_reason():
    script = "import sys; print('cardiacmotion: error: the seed is empty', file=sys.stderr); sys.exit(2)"
    job = runner.BackgroundJob([sys.executable, "-c", script]).start()
    assert job.wait(30) == 2
    time.sleep(0.2)
    assert job.error_message() == "error: the seed is empty"


def test_inputs_written_for_the_cli(tmp_path):
    from cardiacmotion.io import read_image
    from cardiacmotion.io.markups import read_markups
    from cardiacmotion.slicerbridge import selftest

    case = selftest.toy_mr_case(phases=3, slices=2, size=24)
    paths = runner.write_inputs(tmp_path, case.image, case.labels, case.landmarks)
    back = read_image(paths["image"])
    assert back.array.shape == case.image.array.shape and np.allclose(back.ijk_to_ras, case.image.ijk_to_ras, atol=1e-4)
    assert set(read_markups(paths["landmarks"])) == set(case.landmarks)


def test_cancel_never_blocks_the_gui_and_still_kills_a_stubborn_engine():
    """An engine that ignores SIGTERM: cancel returns at once, the watcher kills it after the grace time."""
    script = textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('{"progress": 0.1, "message": "started"}', flush=True)
        time.sleep(60)
    """)
    job = runner.BackgroundJob([sys.executable, "-c", script], grace_s=1.0).start()
    deadline = time.time() + 20
    while not job.poll():
        assert time.time() < deadline, "engine never started"
        time.sleep(0.05)
    t0 = time.time()
    job.cancel()
    assert time.time() - t0 < 0.5, "cancel blocked the caller"
    assert job.wait(10) != 0 and job.cancelled


def test_engine_output_reaches_the_log_panel():
    script = "import sys; print('loading weights'); print('warning: slow', file=sys.stderr); sys.exit(3)"
    job = runner.BackgroundJob([sys.executable, "-c", script]).start()
    assert job.wait(30) == 3
    job.drain()
    assert set(job.new_log_lines()) == {"loading weights", "warning: slow"}
    assert "warning: slow" in job.error_message()
