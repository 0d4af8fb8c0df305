"""GPU benchmark: one prepared command, one row per (case, backend).

Usage (from the repository root):
    python benchmarks/gpu.py                 # full sizes (a GPU machine; tens of minutes)
    python benchmarks/gpu.py --quick         # tiny sizes, any machine (the test runs this)
    python benchmarks/gpu.py --backends auto,compact --duration 1000 --cases coba:4000

Cases: COBA (Brette et al. 2007) at 4k, 40k, 400k neurons (stored CSR) and 4M (procedural
connectivity); the Potjans–Diesmann microcircuit (``ns.models.potjans_diesmann``, skipped
with a message where this version lacks it); a multi-region network
(``ns.connectome.dtb_network`` on TVB's 76-region connectome, or a seeded random 20-region
connectome where tvb-data is not installed). Backends: ``auto`` (on a CUDA GPU: the Pallas
kernel; on CPU: the compiled FFI kernel) and ``compact`` (pure-XLA compacted scatter); add
``pallas`` to force the kernel (interpret mode off GPU: slow).

Each case runs in a fresh process (so peak memory is its own) and reports: build time,
compile time, run time (the run after the compiling run), real-time factor (wall seconds per
biological second), mean firing rate, and peak device memory (``device.memory_stats()``
``peak_bytes_in_use``; where the device reports none, as on CPU, the process's peak RSS,
marked ``rss``). Rows are JSON lines, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

FULL = [
    ("coba", 4_000, "stored"),
    ("coba", 40_000, "stored"),
    ("coba", 400_000, "stored"),
    ("coba", 4_000_000, "procedural"),
    ("potjans_diesmann", 1.0, None),  # scale
    ("connectome", 76, {"neurons_per_region": 200}),  # regions, dtb_network keywords
]
QUICK = [
    ("coba", 200, "stored"),
    ("coba", 200, "procedural"),
    ("potjans_diesmann", 0.002, None),
    ("connectome", 4, {"neurons_per_region": 20, "k_e": 8, "k_i": 2, "k_ext": 4}),
]

_CASE = r"""
import dataclasses, inspect, json, sys, time
import jax, numpy as np
import neurosim as ns
from neurosim import bench

kind, size, extra, backend, duration, dt = {args!r}
row = dict(case=kind, size=size, extra=extra, backend=backend, duration_ms=duration,
           platform=jax.default_backend(), device=str(jax.devices()[0].device_kind))
t0 = time.perf_counter()
if kind == "coba":
    net = ns.models.coba(n=size, key=jax.random.key(0), connectivity=extra)
elif kind == "potjans_diesmann":
    fn = getattr(ns.models, "potjans_diesmann", None)
    if fn is None:
        row["skipped"] = "ns.models.potjans_diesmann is not in this version"
        print(json.dumps(row)); sys.exit(0)
    kw = {{"scale": size}} if "scale" in inspect.signature(fn).parameters else {{}}
    net = fn(**kw)
else:
    try:
        if size != 76:
            raise ImportError("quick case: synthetic connectome")
        con = ns.connectome.Connectome.from_tvb_data(76)
        row["connectome"] = "tvb-76"
    except Exception:
        rng = np.random.default_rng(0)
        w = rng.random((size, size)) * (rng.random((size, size)) < 0.5)
        np.fill_diagonal(w, 0.0)
        lengths = 20.0 + 80.0 * rng.random((size, size))
        con = ns.connectome.Connectome(w, tract_lengths=(lengths + lengths.T) / 2)
        row["connectome"] = f"random-{{size}}"
    net = ns.connectome.dtb_network(con, key=jax.random.key(0), **extra)
    net = net.network
row["build_s"] = round(time.perf_counter() - t0, 3)
row["neurons"] = int(sum(p.n for p in net.populations))
if backend != "auto":
    ns.ops.check_backend(backend)
    net = dataclasses.replace(net, projections=tuple(
        dataclasses.replace(p, backend=backend) for p in net.projections))
key = jax.random.key(1)
first = ns.simulate(net, duration, dt, key=key, progress=False)
row["compile_s"] = round(first.compile_s, 3)
del first
res = ns.simulate(net, duration, dt, key=key, progress=False)
row["run_s"] = round(res.run_s, 4)
row["rtf"] = round(res.run_s / (duration / 1000.0), 4)
row["rate_hz"] = round(float(res.rate_hz), 2)
stats = jax.devices()[0].memory_stats() or {{}}
if "peak_bytes_in_use" in stats:
    row["peak_mem_mb"], row["mem_kind"] = round(stats["peak_bytes_in_use"] / 2**20, 1), "device"
else:
    row["peak_mem_mb"], row["mem_kind"] = round(bench.peak_rss_mb(), 1), "rss"
print(json.dumps(row))
"""

COLUMNS = ("case", "size", "backend", "neurons", "build_s", "compile_s", "run_s", "rtf",
           "rate_hz", "peak_mem_mb")  # fmt: skip


def run_case(args: tuple, timeout: float) -> dict:
    """Run one case in a fresh process; its JSON row (or an error row)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = _CASE.format(args=args)
    kind, size, extra, backend = args[:4]
    try:
        p = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return dict(case=kind, size=size, backend=backend, error=f"timed out after {timeout} s")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return dict(case=kind, size=size, backend=backend, error=err[:300])
    return json.loads(lines[-1])


def table(rows) -> str:
    """Markdown table of the rows (skipped and failed rows say why)."""
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        note = r.get("skipped") or r.get("error")
        if note:
            out.append(f"| {r['case']} | {r['size']} | {r['backend']} | {note} |")
            continue
        cells = [str(r.get(c, "")) for c in COLUMNS]
        if r.get("mem_kind") == "rss":
            cells[-1] += " (rss)"
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (any machine, tests)")
    ap.add_argument("--backends", default="auto,compact", help="comma-separated backends")
    ap.add_argument("--duration", type=float, default=None, help="ms (default 1000; quick 20)")
    ap.add_argument("--dt", type=float, default=0.1, help="ms")
    ap.add_argument("--cases", default=None, help="e.g. coba:4000,connectome:76 (default all)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    a = ap.parse_args(argv)
    cases = QUICK if a.quick else FULL
    if a.cases:
        wanted = {tuple(c.split(":")) for c in a.cases.split(",")}
        cases = [c for c in cases if (c[0], str(c[1])) in wanted or (c[0],) in wanted]
        if not cases:
            ap.error(f"--cases {a.cases!r} matches none of {[f'{c[0]}:{c[1]}' for c in FULL]}")
    duration = a.duration if a.duration is not None else (20.0 if a.quick else 1000.0)
    rows = []
    for kind, size, extra in cases:
        for backend in a.backends.split(","):
            row = run_case((kind, size, extra, backend, duration, a.dt), a.timeout)
            print(json.dumps(row), flush=True)
            rows.append(row)
            if row.get("skipped"):
                break  # one message per absent model, not one per backend
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
