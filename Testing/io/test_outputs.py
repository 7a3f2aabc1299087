"""Output checks before work, and outputs removed or restored after a late failure (issue 19)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cardiacmotion.errors import InputError
from cardiacmotion.io.atomic import atomic_output
from cardiacmotion.io.outputs import OutputGuard, check_outputs


def test_guard_removes_new_outputs_and_restores_replaced_ones(tmp_path):
    (tmp_path / "f.json").write_text("earlier")
    with pytest.raises(RuntimeError):
        with OutputGuard([tmp_path / "f.json", tmp_path / "f.csv", tmp_path / "c.png"]):
            for name in ("f.json", "f.csv"):
                with atomic_output(tmp_path / name) as tmp:
                    Path(tmp).write_text("new")
            raise RuntimeError("the plot failed late")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
    assert (tmp_path / "f.json").read_text() == "earlier"


def test_guard_keeps_outputs_on_success(tmp_path):
    (tmp_path / "f.json").write_text("earlier")
    with OutputGuard([tmp_path / "f.json", tmp_path / "g.json"]):
        for name in ("f.json", "g.json"):
            with atomic_output(tmp_path / name) as tmp:
                Path(tmp).write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "g.json"]
    assert (tmp_path / "f.json").read_text() == "new"


def test_folder_output_swapped_only_when_complete(tmp_path):
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "summary.json").write_text("earlier")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(tmp_path / "res") as tmp:
            tmp.mkdir()
            (tmp / "summary.json").write_text("half")
            raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["res"]
    assert (tmp_path / "res" / "summary.json").read_text() == "earlier"
    with atomic_output(tmp_path / "res") as tmp:
        tmp.mkdir()
        (tmp / "summary.json").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["res"]
    assert (tmp_path / "res" / "summary.json").read_text() == "new"


@pytest.mark.parametrize("outputs, reason", [
    ([("{d}/missing/x.json", "-o", (".json",))], "does not exist"),
    ([("{d}/x.txt", "-o", (".json",))], "unknown output type"),
    ([("{d}/a.json", "-o", (".json",)), ("{d}/a.json", "--csv", (".json",))], "same file"),
    ([("{d}/afile/x.json", "-o", (".json",))], "is a file"),
    ([("{d}/afile", "-o", (), True)], "is a file, not a folder"),
    ([("{d}/sub.json", "-o", (".json",))], "existing folder"),
])
def test_check_outputs_reasons(tmp_path, outputs, reason):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "sub.json").mkdir()
    filled = [(o[0].format(d=tmp_path),) + tuple(o[1:]) for o in outputs]
    with pytest.raises(InputError, match=reason):
        check_outputs(filled)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "sub.json"]
