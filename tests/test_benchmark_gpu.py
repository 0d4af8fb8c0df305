"""benchmarks/gpu.py --quick runs on CPU and prints a complete row per case."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_gpu_benchmark_quick_runs_on_cpu():
    p = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "gpu.py"), "--quick", "--backends",
         "auto", "--duration", "10"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    rows = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert [r["case"] for r in rows] == ["coba", "coba", "potjans_diesmann", "connectome"]
    for r in rows:
        assert "error" not in r, r
        if "skipped" in r:
            assert r["case"] == "potjans_diesmann" and "potjans_diesmann" in r["skipped"]
            continue
        assert r["run_s"] > 0 and r["compile_s"] > 0 and r["peak_mem_mb"] > 0
        # 10 ms biological; both rounded to 1e-4 s: rtf within 0.5e-4 / 0.01 + 0.5e-4
        assert r["rtf"] == pytest.approx(r["run_s"] / 0.010, abs=0.0051)
        assert 0 < r["rate_hz"] < 1000  # spikes happened, none runaway (refractory 5 ms: 200)
    assert "| case | size | backend |" in p.stdout  # the Markdown table
