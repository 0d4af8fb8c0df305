"""``neurosim run``: simulate in streamed segments, then write the run's files.

``summary.json``, ``spikes.npz``, and on request ``result.nwb`` (``--format nwb``),
``result.npz`` (a config's ``[run] record``) and ``raster.png``; a previous run's files are
removed first so that none can pass for this run's.
"""

from __future__ import annotations

import json
import os
import sys

from . import _cli_stream
from ._cli_checks import fail

__all__ = ["OUTPUTS", "simulate_and_write", "remove_outputs"]


def simulate_and_write(
    args, net, n_steps, checks, build_s, connectivity, stream, extra=None, record=None
):
    """Simulate ``net`` in streamed segments (Ctrl-C, a kill or a full disk keep what
    finished) and write the run's files to ``args.out``."""
    import jax

    from . import analysis

    key = jax.random.fold_in(jax.random.key(args.seed), 1)
    remove_outputs(args.out)
    try:
        res, status, message, code = stream.run(net, n_steps, args.dt, key, record)
    except ValueError as e:
        fail(str(e))

    times, idx = res.spike_times, res.spike_indices
    try:  # after a failed write the segments in DIR/stream are the partial result
        if status != "failed":
            _cli_stream.write_spikes(os.path.join(args.out, "spikes.npz"), times, idx)
    except OSError as e:
        status, code = "failed", _cli_stream.EXIT_FAILED
        message = f"{message}; " if message else ""
        message += f"writing spikes.npz failed: {e.strerror or e}; the segments are in "
        message += f"{stream.root}: free space and continue with --resume"
    summary = {
        "model": args.model,
        "n": args.n,
        "duration_ms": float(args.duration),
        "dt_ms": float(args.dt),
        "n_steps": n_steps,
        "seed": args.seed,
        "connectivity": connectivity,
        "n_spikes": int(res.n_spikes),
        "rate_hz": round(res.rate_hz, 3),
        "rates_hz": {k: round(v, 3) for k, v in res.group_rates_hz.items()},
        "cv_isi": _round(analysis.isi_cv(times, idx)),
        "build_s": round(build_s, 3),
        "compile_s": round(res.compile_s, 3),
        "run_s": round(res.run_s, 3),
        "simulated_ms": res.simulated_ms,
        "checks": checks,
        "status": status,
        "message": message,
        "device": jax.devices()[0].platform,
        "jax_version": jax.__version__,
        "cpu_threads": getattr(args, "cpu_threads", None),
        **(extra or {}),
    }
    if stream.resumed_from_ms is not None:
        summary["resumed_from_ms"] = stream.resumed_from_ms
    try:
        _cli_stream.write_json(os.path.join(args.out, "summary.json"), summary)
    except OSError as e:
        fail(f"writing summary.json failed ({e.strerror or e}); {message}", code or 4)
    if args.format == "nwb" and status != "failed":
        from .io import to_nwb

        meta = {k: summary[k] for k in ("model", "n", "seed", "connectivity", "duration_ms")}
        to_nwb(res, os.path.join(args.out, "result.nwb"), metadata=meta)
    if res.traces and status != "failed":  # [run] record of a config (ns.io.load_result)
        from .io import save_result

        save_result(res, os.path.join(args.out, "result.npz"), metadata={"model": args.model})
    # A rate-only network has no raster.
    if not args.no_plot and res.n_steps > 0 and status != "failed" and net.populations:
        from .viz import raster

        raster(res, os.path.join(args.out, "raster.png"), title=f"{args.model}, n={args.n}")
    print(
        json.dumps(
            {
                k: summary[k]
                for k in ("model", "n", "n_spikes", "rate_hz", "compile_s", "run_s", "status")
            }
        )
    )
    if status == "ok":
        stream.remove()
    if code in (3, _cli_stream.EXIT_FAILED):
        print(f"neurosim: error: {message}", file=sys.stderr)
    elif code:
        print(f"neurosim: {message}", file=sys.stderr)
    return code


OUTPUTS = ("summary.json", "spikes.npz", "raster.png", "result.nwb", "result.npz")


def remove_outputs(out: str) -> None:
    """Delete a previous run's files, so that none of them can pass for this run's."""
    for name in OUTPUTS:
        try:
            os.remove(os.path.join(out, name))
        except FileNotFoundError:
            pass


def _round(x, nd=3):
    return None if x != x else round(float(x), nd)  # NaN -> null
