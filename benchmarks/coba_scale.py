"""COBA at scale: stored vs procedural connectivity, 4k to 4M neurons, one fresh process per case.

Usage (from the repository root):
    python benchmarks/coba_scale.py                      # every case below (tens of minutes)
    python benchmarks/coba_scale.py --cases 4000:stored,4000:procedural
    python benchmarks/coba_scale.py --build-only --cases 400000:stored   # construction only

Cases (``N:connectivity``; default all): 4k, 40k and 400k neurons with stored CSR and with
procedural connectivity, and 4M with procedural connectivity, each 1 s of biological time
(COBA as pinned in docs/benchmarks/definitions.md, dt = 0.1 ms). Every case runs in its own process,
pinned to one core (``taskset -c 0``) with single-threaded XLA, and reports build time, the
peak RSS increase of the build over the RSS before it (a fresh process, JAX initialised;
covers the connectivity arrays, neuron parameters and generator compilation), the bytes of
the stored synapse arrays, compile time, run time (median of ``--repeats`` runs after the
compiling run; 1 run at 400k, the compiling run's own run time at 4M), firing rate and peak
RSS. Rows are printed as JSON lines and appended to ``benchmarks/out/coba-scale-*.jsonl``; a
Markdown table is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT = (
    "4000:stored,4000:procedural,40000:stored,40000:procedural,"
    "400000:stored,400000:procedural,4000000:procedural"
)
ONE_CORE = ["taskset", "-c", "0"] if shutil.which("taskset") else []
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
}

_CASE = """
import json, sys
from neurosim import bench
n, conn, repeats, duration, build_only = {n}, {conn!r}, {repeats}, {duration}, {build_only}
if build_only:
    net, seconds, peak = bench.measure_build("coba", n, connectivity=conn)
    row = dict(model="coba", n=n, connectivity=conn, build_s=round(seconds, 3),
               build_peak_mb=round(peak, 1), synapse_mb=round(bench.synapse_bytes(net) / 2**20, 1),
               synapses=sum(p.conn.nnz for p in net.projections),
               peak_rss_mb=round(bench.peak_rss_mb(), 1))
else:
    row = bench.run_case("coba", n, duration, repeats=repeats, connectivity=conn)
row["env"] = bench.environment()
print(json.dumps(row))
"""


def default_repeats(n: int) -> int:
    return 3 if n <= 40_000 else (1 if n <= 400_000 else 0)


def run_one(n: int, conn: str, repeats: int, duration: float, build_only: bool) -> dict:
    code = _CASE.format(n=n, conn=conn, repeats=repeats, duration=duration, build_only=build_only)
    t0 = time.perf_counter()
    p = subprocess.run(
        ONE_CORE + [sys.executable, "-c", code], capture_output=True, text=True, env=ENV
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        return {"n": n, "connectivity": conn, "error": tail, "process_wall_s": round(wall, 1)}
    row = json.loads(p.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = round(wall, 1)
    return row


def table(rows: list[dict]) -> str:
    head = (
        "| N | connectivity | build | build peak RSS (+MB) | synapse arrays (MB) | compile "
        "| run (1 s bio) | rate | peak RSS |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['n']:,} | {r['connectivity']} | error: {r['error'][-1]} |")
            continue
        run = f"{r['run_s']:.3f} s" if "run_s" in r else "—"
        comp = f"{r['compile_s']:.2f} s" if "compile_s" in r else "—"
        rate = f"{r['rate_hz']:.2f} Hz" if "rate_hz" in r else "—"
        lines.append(
            f"| {r['n']:,} | {r['connectivity']} | {r['build_s']:.2f} s | "
            f"{r['build_peak_mb']:.0f} | {r['synapse_mb']:.0f} | {comp} | {run} | {rate} | "
            f"{r['peak_rss_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=DEFAULT, help="comma-separated N:connectivity")
    ap.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs (default by size)")
    ap.add_argument("--build-only", action="store_true", help="measure construction only")
    args = ap.parse_args()
    out_dir = ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"coba-scale-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    rows = []
    for case in [c for c in args.cases.split(",") if c]:
        n_str, _, conn = case.partition(":")
        n = int(n_str)
        repeats = args.repeats if args.repeats is not None else default_repeats(n)
        row = run_one(n, conn or "stored", repeats, args.duration, args.build_only)
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(path, "a") as f:
            f.write(json.dumps(row) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
