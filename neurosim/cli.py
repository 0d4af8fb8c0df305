"""The ``neurosim`` command line (see docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump, no traceback
        print(f"neurosim: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _fail(message: str, code: int = 2):
    print(f"neurosim: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    from .models import MODELS

    p = _Parser(prog="neurosim", description="JAX-based, differentiable brain simulation.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="simulate a built-in network")
    r.add_argument("model", help=f"built-in network: {', '.join(MODELS)}")
    r.add_argument("--n", type=int, default=4000, help="number of neurons (default 4000)")
    r.add_argument("--duration", type=float, default=1000.0, help="biological time (ms)")
    r.add_argument("--dt", type=float, default=0.1, help="time step (ms), in (0, 1]")
    r.add_argument("--seed", type=int, default=0, help="random seed")
    r.add_argument("--out", default="out", help="output directory (default ./out)")
    r.add_argument("--no-plot", action="store_true", help="do not write raster.png")
    r.add_argument(
        "--connectivity",
        default="auto",
        choices=("auto", "stored", "procedural"),
        help="stored sparse synapses or procedural (regenerated from a seed)",
    )
    b = sub.add_parser("bench", help="run the benchmark suite")
    b.add_argument("--sizes", default="4000", help="comma-separated network sizes (default 4000)")
    b.add_argument("--models", default="coba", help="comma-separated models (default coba)")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--json", action="store_true", help="print JSON rows")
    b.add_argument(
        "--connectivity",
        default="stored",
        choices=("auto", "stored", "procedural"),
        help="connectivity of the benchmark networks (default stored)",
    )
    b.add_argument(
        "--backend", default=None, help="event-delivery backend (default auto; e.g. ffi, loop)"
    )
    return p


def _check_out(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".neurosim-write-test")
        with open(probe, "w") as f:
            f.write("")
        os.remove(probe)
    except OSError as e:
        _fail(f"--out {path!r} is not writable ({e.strerror or e})")


def _cmd_run(args) -> int:
    from .models import MODELS

    if args.model not in MODELS:
        _fail(f"unknown model {args.model!r}; choose from {', '.join(MODELS)}")
    if args.n < 1:
        _fail(f"--n must be >= 1, got {args.n}")
    if not args.duration > 0:
        _fail(f"--duration must be > 0 ms, got {args.duration}")
    if not (args.dt > 0 and args.dt <= 1.0):
        _fail(f"--dt must be in (0, 1] ms, got {args.dt}")
    if args.duration / args.dt < 1:
        _fail(f"--duration ({args.duration} ms) is shorter than one step (--dt {args.dt} ms)")
    _check_out(args.out)

    import jax
    import numpy as np

    from . import analysis
    from .network import SimulationError, simulate

    try:
        from .models import resolve_connectivity
    except ImportError:  # procedural connectivity not available in this build
        resolve_connectivity = None
    if args.connectivity == "procedural" and resolve_connectivity is None:
        _fail("--connectivity procedural is not available in this version; use stored")
    t0 = time.perf_counter()
    try:
        kwargs = {}
        if resolve_connectivity is not None:
            kwargs = resolve_connectivity(args.model, args.n, args.connectivity)
        net = MODELS[args.model](n=args.n, key=jax.random.key(args.seed), **kwargs)
    except ValueError as e:
        _fail(str(e))
    build_s = time.perf_counter() - t0
    key = jax.random.fold_in(jax.random.key(args.seed), 1)
    status, message, code = "ok", "", 0
    try:
        res = simulate(net, args.duration, args.dt, key=key)
    except SimulationError as e:
        res, status, message, code = e.result, "fault", str(e), 3
    except ValueError as e:
        _fail(str(e))

    times, idx = res.spike_times, res.spike_indices
    np.savez(
        os.path.join(args.out, "spikes.npz"),
        times_ms=times.astype(np.float64),
        indices=idx.astype(np.int64),
    )
    summary = {
        "model": args.model,
        "n": args.n,
        "duration_ms": float(args.duration),
        "dt_ms": float(args.dt),
        "seed": args.seed,
        "connectivity": kwargs.get("connectivity", args.connectivity),
        "n_spikes": int(res.n_spikes),
        "rate_hz": round(res.rate_hz, 3),
        "group_rates_hz": {k: round(v, 3) for k, v in res.group_rates_hz.items()},
        "cv_isi": _round(analysis.isi_cv(times, idx)),
        "build_s": round(build_s, 3),
        "compile_s": round(res.compile_s, 3),
        "run_s": round(res.run_s, 3),
        "simulated_ms": res.simulated_ms,
        "status": status,
        "message": message,
        "device": jax.devices()[0].platform,
        "jax_version": jax.__version__,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if not args.no_plot:
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
    if code:
        print(f"neurosim: error: {message}", file=sys.stderr)
    return code


def _cmd_bench(args) -> int:
    from . import bench

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s]
    except ValueError:
        _fail(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    models_ = [m for m in args.models.split(",") if m]
    from .models import MODELS

    for m in models_:
        if m not in MODELS:
            _fail(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    if any(s < 2 for s in sizes):
        _fail("--sizes must all be >= 2")
    from .ops import BACKENDS

    if args.backend is not None and args.backend not in BACKENDS:
        _fail(f"--backend must be one of {', '.join(BACKENDS)}, got {args.backend!r}")
    bench.main(
        [(m, s) for m in models_ for s in sizes],
        repeats=args.repeats,
        as_json=args.json,
        connectivity=args.connectivity,
        backend=args.backend,
    )
    return 0


def _round(x, nd=3):
    return None if x != x else round(float(x), nd)  # NaN -> null


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_bench(args)
    except KeyboardInterrupt:
        print("neurosim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
