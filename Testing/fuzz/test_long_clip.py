"""A 1000-frame synthetic echo clip through ``segment``: peak memory reported and bounded.

The clip is 1000 frames of 112 x 112 (50 MB as float32). Measured on a loaded 2-core machine
(issue 19): peak RSS 548 MB with registration and 549 MB with memory propagation, i.e. the
interpreter, torch and a few copies of the clip; 538 MB alone on the merged product, but 1509 MB once
inside a whole-suite run (not explained yet; see the README limits). Bound: :data:`PEAK_RSS_BOUND_MB`.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from fuzz_support import PYTHON_ENV, write_long_echo

#: peak resident memory allowed for the whole ``segment`` process on the 1000-frame clip
PEAK_RSS_BOUND_MB = 2048

_MEASURED_MAIN = (
    "import resource, sys\n"
    "from cardiacmotion.cli.main import main\n"
    "code = main(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.exit(code)\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["registration"])
def test_thousand_frame_echo_clip_memory(tmp_path, method):
    clip = write_long_echo(tmp_path / "in", frames=1000, size=112)
    out = tmp_path / "seg.nii.gz"
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED_MAIN, str(tmp_path / "rss"), "segment", clip["video"], "--spacing", clip["spacing"],
         "--seed", clip["seed"], "-o", str(out), "--method", method],
        env=PYTHON_ENV, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-800:]
    peak_mb = int((tmp_path / "rss").read_text()) / 1024.0
    print(f"\n1000-frame 112x112 echo clip, {method}: peak RSS {peak_mb:.0f} MB (bound {PEAK_RSS_BOUND_MB} MB)")
    assert peak_mb < PEAK_RSS_BOUND_MB

    from cardiacmotion.io import read_labels

    seg = read_labels(out)
    assert seg.phases == 1000
    assert (seg.array.reshape(1000, -1) == 1).any(axis=1).mean() > 0.95  # the cavity is found in (nearly) every frame
