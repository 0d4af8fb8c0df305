"""Benchmark cases run by ``neurosim bench`` and the scripts in ``benchmarks/``.

Each case builds a network, simulates it once to warm up (compile), then times ``repeats``
runs; it reports build, compile and run time (median) with the firing rate beside them.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import resource
import statistics
import time

import jax

from . import models, ops
from .network import simulate

__all__ = ["run_case", "environment"]


def environment() -> dict:
    """Machine and versions, for RESULTS.md."""
    import numpy as np

    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "device": str(jax.devices()[0]),
        "cpu_kernels": ops.ffi_status()["available"],
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(
    model: str,
    n: int,
    duration: float = 1000.0,
    dt: float = 0.1,
    *,
    seed: int = 0,
    repeats: int = 3,
    backend: str | None = None,
    **model_kwargs,
) -> dict:
    """Build and time one benchmark case; returns a dict row (also JSON-serialisable).

    ``backend`` (e.g. ``"loop"``, ``"ffi"``) overrides every projection's event-delivery
    backend (default: as built, ``"auto"``).
    """
    factory = models.MODELS[model]
    t0 = time.perf_counter()
    net = factory(n=n, key=jax.random.key(seed), **model_kwargs)
    jax.block_until_ready(net)
    build_s = time.perf_counter() - t0
    if backend is not None:
        if backend not in ops.BACKENDS:
            raise ValueError(f"backend must be one of {ops.BACKENDS}, got {backend!r}")
        net = dataclasses.replace(
            net,
            projections=tuple(dataclasses.replace(p, backend=backend) for p in net.projections),
        )
    key = jax.random.key(seed + 1)
    first = simulate(net, duration, dt, key=key, progress=False)
    runs, rates = [], []
    for _ in range(repeats):
        res = simulate(net, duration, dt, key=key, progress=False)
        runs.append(res.run_s)
        rates.append(res.rate_hz)
    return {
        "model": model,
        "n": n,
        "backend": backend or "auto",
        "duration_ms": duration,
        "build_s": round(build_s, 3),
        "compile_s": round(first.compile_s, 3),
        "first_call_s": round(first.compile_s + first.run_s, 3),
        "run_s": round(statistics.median(runs), 4),
        "run_s_all": [round(r, 4) for r in runs],
        "rate_hz": round(rates[-1], 2),
        "synapses": sum(p.conn.nnz for p in net.projections),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def format_row(row: dict) -> str:
    return (
        f"{row['model']:>7} n={row['n']:<8d} [{row['backend']}] build={row['build_s']:7.2f}s "
        f"compile={row['compile_s']:6.2f}s run={row['run_s']:8.3f}s "
        f"rate={row['rate_hz']:6.2f}Hz rss={row['peak_rss_mb']:.0f}MB"
    )


def main(
    cases=(("coba", 4000),), repeats: int = 3, as_json: bool = False, backend: str | None = None
) -> list[dict]:
    rows = []
    for model, n in cases:
        row = run_case(model, n, repeats=repeats, backend=backend)
        rows.append(row)
        print(json.dumps(row) if as_json else format_row(row), flush=True)
    return rows
