"""The CPU thread policy: bounds, overrides, and the OpenMP wait policy set before torch starts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _probe(env_extra: dict) -> list[str]:
    code = ("from cardiacmotion.threads import apply_thread_policy, available_cores\n"
            "n = apply_thread_policy()\n"
            "import os, torch\n"
            "print(n, available_cores(), torch.get_num_threads(), os.environ.get('OMP_WAIT_POLICY'))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CARDIACMOTION_THREADS", "OMP_WAIT_POLICY")}
    env.update(PYTHONPATH=str(REPO), **env_extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_policy_uses_at_most_the_free_cores_and_waits_passively():
    n, cores, torch_threads, wait = _probe({})
    assert 1 <= int(n) <= int(cores) and torch_threads == n and wait == "PASSIVE"


def test_overrides_are_respected():
    n, cores, torch_threads, _ = _probe({"CARDIACMOTION_THREADS": "3"})
    assert n == "3" and int(torch_threads) == min(3, int(cores)) or torch_threads == "3"
    n, _, torch_threads, _ = _probe({"OMP_NUM_THREADS": "1"})
    assert n == torch_threads == "1"
