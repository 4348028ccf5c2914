"""`python -m bench --quick` runs end to end, exits 0 and prints a table with every scenario."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_quick_runs_and_prints_every_scenario():
    from bench.__main__ import SCENARIOS

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    table = out.stdout
    assert "scenario" in table and "baseline/minimum" in table
    for name in SCENARIOS:
        assert f"\n{name} " in table, f"{name} missing from the table:\n{table}"
    assert "crashed" not in table, table
