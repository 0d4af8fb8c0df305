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


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS, where Linux allows it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def current_rss_mb() -> float:
    """Resident set size now (MB); falls back to the peak where /proc is missing."""
    now = _status_mb("VmRSS")
    return now if now is not None else peak_rss_mb()


def window_peak_rss_mb() -> float:
    """Peak RSS since the last :func:`reset_peak_rss` (MB)."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else peak_rss_mb()


def measure_build(model: str, n: int, seed: int = 0, **model_kwargs):
    """Build a network; ``(network, seconds, peak RSS increase over the pre-build RSS in MB)``.

    Run it in a fresh process (after ``import neurosim``) for a clean number: the increase
    then covers the connectivity arrays, the neuron parameters and the compilation of the
    generator kernels.
    """
    import jax.numpy as jnp

    jnp.zeros(1).block_until_ready()  # JAX runtime up before the baseline
    reset_peak_rss()
    before = current_rss_mb()
    t0 = time.perf_counter()
    net = models.MODELS[model](n=n, key=jax.random.key(seed), **model_kwargs)
    jax.block_until_ready(net)
    seconds = time.perf_counter() - t0
    return net, seconds, window_peak_rss_mb() - before


def synapse_bytes(net) -> int:
    """Bytes held by the projections' connectivity operators."""
    return sum(p.conn.nbytes() for p in net.projections)


def run_case(
    model: str,
    n: int,
    duration: float = 1000.0,
    dt: float = 0.1,
    *,
    seed: int = 0,
    repeats: int = 3,
    connectivity: str = "stored",
    backend: str | None = None,
    **model_kwargs,
) -> dict:
    """Build and time one benchmark case; returns a dict row (also JSON-serialisable).

    ``connectivity``: ``"stored"``, ``"procedural"`` or ``"auto"``. ``backend`` (e.g.
    ``"loop"``, ``"ffi"``) overrides every projection's event-delivery backend (default: as
    built, ``"auto"``). ``repeats`` timed runs follow a first (compiling) run; with
    ``repeats=0`` the first run's own run time (compile excluded, measured separately) is
    reported, for cases too long to repeat.
    """
    conn = models.resolve_connectivity(model, n, connectivity)["connectivity"]
    net, build_s, build_mb = measure_build(model, n, seed, connectivity=conn, **model_kwargs)
    if backend is not None:
        ops.check_backend(backend)
        net = dataclasses.replace(
            net,
            projections=tuple(dataclasses.replace(p, backend=backend) for p in net.projections),
        )
    key = jax.random.key(seed + 1)
    reset_peak_rss()
    first = simulate(net, duration, dt, key=key, progress=False)
    runs, rate, n_spikes = [first.run_s], first.rate_hz, first.n_spikes
    compile_s, first_call_s = first.compile_s, first.compile_s + first.run_s
    del first  # at 4M neurons the spike record alone is > 1 GB
    if repeats > 0:
        runs = []
        for _ in range(repeats):
            res = simulate(net, duration, dt, key=key, progress=False)
            runs.append(res.run_s)
            rate = res.rate_hz
            del res
    return {
        "model": model,
        "n": n,
        "connectivity": conn,
        "backend": backend or "auto",
        "duration_ms": duration,
        "build_s": round(build_s, 3),
        "build_peak_mb": round(build_mb, 1),
        "synapse_mb": round(synapse_bytes(net) / 2**20, 1),
        "compile_s": round(compile_s, 3),
        "first_call_s": round(first_call_s, 3),
        "run_s": round(statistics.median(runs), 4),
        "run_s_all": [round(r, 4) for r in runs],
        "rate_hz": round(rate, 2),
        "n_spikes": int(n_spikes),
        "synapses": sum(p.conn.nnz for p in net.projections),
        "sim_peak_mb": round(window_peak_rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def format_row(row: dict) -> str:
    return (
        f"{row['model']:>7} n={row['n']:<8d} {row.get('connectivity', ''):>10} "
        f"[{row.get('backend', 'auto')}] build={row['build_s']:7.2f}s "
        f"compile={row['compile_s']:6.2f}s run={row['run_s']:8.3f}s "
        f"rate={row['rate_hz']:6.2f}Hz rss={row['peak_rss_mb']:.0f}MB"
    )


def main(
    cases=(("coba", 4000),),
    repeats: int = 3,
    as_json: bool = False,
    connectivity="stored",
    backend: str | None = None,
) -> list[dict]:
    rows = []
    for model, n in cases:
        row = run_case(model, n, repeats=repeats, connectivity=connectivity, backend=backend)
        rows.append(row)
        print(json.dumps(row) if as_json else format_row(row), flush=True)
    return rows
