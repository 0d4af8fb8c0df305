"""The pre-flight refusals of ``neurosim run`` (listed in :mod:`neurosim.cli`).

Each check prints one line and exits 2 through :func:`fail` rather than run something other
than what was asked: an unwritable ``--out``, a ``--duration`` that is not whole ``--dt``
steps, a ``--dt`` too coarse for the model's fastest time constant, an estimated memory
beyond what is available (and a run-time estimate on stderr for long runs).
"""

from __future__ import annotations

import math
import os
import sys

__all__ = ["LONG_RUN_S", "fail", "warn", "check_out", "whole_steps", "check_dt", "check_size"]

LONG_RUN_S = 60.0  # print an estimated run time above this


def fail(message: str, code: int = 2):
    """Print ``neurosim: error: message`` on stderr and exit with ``code``."""
    print(f"neurosim: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def check_out(path: str) -> None:
    """Refuse an ``--out`` directory that cannot be created or written."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".neurosim-write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as e:
        fail(f"--out {path!r} is not writable ({e.strerror or e})")


def whole_steps(duration: float, dt: float) -> int:
    """The number of steps, or a one-line refusal if ``duration`` is not whole steps of dt."""
    steps = duration / dt
    n_steps = round(steps)
    if abs(steps - n_steps) > 1e-9 * max(1.0, steps):
        lo, hi = math.floor(steps), math.ceil(steps)
        options = " or ".join(f"{k * dt:.10g}" for k in (lo, hi) if k >= 1)
        fail(
            f"--duration {duration:g} ms is not a whole number of --dt {dt:g} ms steps "
            f"({steps:.6g} steps); use --duration {options}"
        )
    return int(n_steps)


def warn(message: str) -> None:
    print(f"neurosim: warning: {message}", file=sys.stderr)


def check_dt(args, tiny) -> dict:
    """Refuse (or warn about) a step too coarse for the model's fastest time constant."""
    from ._preflight import DT_REFUSE_RATIO, DT_WARN_RATIO, fastest_time_constant

    found = fastest_time_constant(tiny, args.model)
    if found is None:
        return {"fastest_tau_ms": None, "where": None}
    tau, where = found
    where = where.replace(f"{args.model}.", "", 1)
    info = {"fastest_tau_ms": tau, "where": where, "dt_over_tau": args.dt / tau}
    limit = tau / DT_REFUSE_RATIO
    text = (
        f"--dt {args.dt:g} ms is {args.dt / tau:.3g} of the fastest time constant of "
        f"{args.model} ({where} = {tau:g} ms)"
    )
    if args.dt > limit * (1 + 1e-9):
        if not args.allow_coarse_dt:
            fail(
                f"{text}; at most 1/{DT_REFUSE_RATIO:g} of it ({limit:g} ms) gives accurate "
                "results: use a smaller --dt, or --allow-coarse-dt to run anyway"
            )
        warn(f"{text}; results may be inaccurate (--allow-coarse-dt)")
    elif args.dt > tau / DT_WARN_RATIO * (1 + 1e-9):
        warn(f"{text}; above 1/{DT_WARN_RATIO:g} of it, check the result at a smaller --dt")
    return info


def check_size(args, tiny, n_steps: int, connectivity: str, long_run_s: float = LONG_RUN_S) -> dict:
    """Refuse a run whose estimated memory does not fit; print a run-time estimate if long."""
    import jax

    from . import _preflight as pf
    from .models import stored_synapse_bytes

    per_neuron = pf.state_bytes_per_neuron(tiny, jax.random.key(0), args.dt)
    syn = stored_synapse_bytes(args.n) if connectivity == "stored" else 0
    est = pf.estimate_memory(
        args.n, n_steps, args.dt, state_per_neuron=per_neuron, synapse_bytes=syn
    )
    host_avail, source = pf.available_memory()
    device = jax.devices()[0]
    dev_avail = pf.device_memory(device)
    checks = [("host", est["total"] if dev_avail is None else est["host"], host_avail, source)]
    if dev_avail is not None:
        checks.append((device.platform, est["device"], dev_avail, "device memory_stats"))
    parts = (
        f"state {pf.format_bytes(est['state'])}, synapses {pf.format_bytes(est['synapses'])}, "
        f"spike buffers {pf.format_bytes(est['spike_buffers'])}, recorded spikes "
        f"{pf.format_bytes(est['spikes_host'])} at {pf.ASSUMED_RATE_HZ:g} Hz"
    )
    fix = ", or --connectivity procedural" if connectivity == "stored" else ""
    for where, need, avail, src in checks:
        if need > pf.MEMORY_FRACTION * avail:
            fail(
                f"--n {args.n} for {args.duration:g} ms needs an estimated "
                f"{pf.format_bytes(need)} of {where} memory ({parts}), more than "
                f"{pf.MEMORY_FRACTION:.0%} of the {pf.format_bytes(avail)} available ({src}); "
                f"use a smaller --n or --duration{fix}"
            )
    seconds = pf.estimate_run_seconds(args.n, n_steps, connectivity, device.platform)
    if seconds is not None and seconds > long_run_s:
        print(
            f"neurosim: estimated run time ~{pf.format_seconds(seconds)} on this CPU "
            f"({args.n} neurons x {n_steps} steps, {connectivity} connectivity; rough, "
            f"~{pf.NS_PER_NEURON_STEP[connectivity]:g} ns per neuron-step), memory "
            f"~{pf.format_bytes(est['total'])}",
            file=sys.stderr,
        )
    return {
        "memory_estimate_bytes": est["total"],
        "memory_available_bytes": host_avail if dev_avail is None else dev_avail,
        "run_s_estimate": None if seconds is None else round(seconds, 3),
    }
