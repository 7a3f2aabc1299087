"""The independent generator stays independent: no training path imports it, it imports no phantom."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "cardiacmotion"


def _imported_modules(path: Path, package: str = "") -> set[str]:
    """Every module a file names in an import (absolute and resolved relative ones) or in a string."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = package or ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("cardiacmotion."):
            out.add(node.value)  # importlib.import_module("cardiacmotion....")
    return out


def _offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for name in _imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    return bad


def test_training_and_phantom_never_import_the_independent_generator_statically():
    for folder in ("training", "phantom"):
        assert (PKG / folder).is_dir(), folder
        assert _offenders(PKG / folder, ("cardiacmotion.independent",)) == []
    cmd_train = PKG / "cli" / "cmd_train.py"
    bad = [n for n in _imported_modules(cmd_train) if n.startswith("cardiacmotion.independent")]
    assert bad == []


def test_independent_generator_imports_no_phantom_or_training_code():
    assert _offenders(PKG / "independent", ("cardiacmotion.phantom", "cardiacmotion.training")) == []


def test_the_offender_scan_can_fail(tmp_path):
    # the scan itself must see every import form (else the two tests above could never fail)
    probe = tmp_path / "probe.py"
    probe.write_text("from cardiacmotion import independent\nfrom .independent import mr\n"
                     "import importlib\nimportlib.import_module('cardiacmotion.independent.echo')\n")
    names = _imported_modules(probe, package="cardiacmotion")
    assert {"cardiacmotion.independent", "cardiacmotion.independent.mr", "cardiacmotion.independent.echo"} <= names


def test_importing_every_training_module_leaves_the_generator_unloaded():
    code = (
        "import importlib, pkgutil, sys\n"
        "import cardiacmotion.training as tr\n"
        "names = [m.name for m in pkgutil.walk_packages(tr.__path__, 'cardiacmotion.training.')]\n"
        "for n in names + ['cardiacmotion.cli.cmd_train']:\n"
        "    importlib.import_module(n)\n"
        "leaked = sorted(m for m in sys.modules if m.startswith('cardiacmotion.independent'))\n"
        "print(len(names), leaked)\n"
        "sys.exit(1 if leaked or not names else 0)\n"
    )
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(REPO))
    assert proc.returncode == 0, proc.stdout + proc.stderr
