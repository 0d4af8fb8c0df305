"""The ``neurosim`` command line (see docs/cli.md).

``neurosim run MODEL`` checks the request before building anything, and refuses with a
one-line error (exit 2) rather than run something other than what was asked:

* ``--seed`` must lie in ``[0, 2**32 - 1]`` (a JAX key holds 32 bits; larger values would
  silently wrap onto another seed);
* ``--duration`` must be a whole number of ``--dt`` steps (to 1e-9 relative); the two
  nearest valid durations are suggested. ``summary.json`` records ``n_steps`` and
  ``simulated_ms``;
* ``--dt`` must be at most ``tau_min / 10``, ``tau_min`` the fastest time constant of the
  model (:func:`neurosim._preflight.fastest_time_constant`); above ``tau_min / 20`` it
  warns. ``--allow-coarse-dt`` turns the refusal into a warning;
* the estimated memory (state, stored synapses, spike buffers, recorded spikes at 50 Hz)
  must fit in 80 % of the available memory; for runs estimated over a minute (CPU), the
  estimated run time is printed on stderr first.

Each finished segment (spikes, and a config's recorded traces) is streamed to ``DIR/stream``
and ``--resume DIR`` continues an interrupted, killed or failed run bitwise, built-in model
or config (:mod:`neurosim._cli_stream`, :mod:`neurosim._cli_resume`).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from . import _cli_resume
from ._cli_checks import LONG_RUN_S, check_dt, check_out, check_size, fail, whole_steps
from ._cli_write import simulate_and_write

__all__ = ["main", "SEED_MAX"]

SEED_MAX = 2**32 - 1  # jax.random.key takes a 32-bit seed


def _seed(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, {SEED_MAX}] (2**32 - 1), got {text!r}"
        )
    return value


def _version() -> str:
    from . import __version__

    return __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump, no traceback
        print(f"neurosim: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _threads_arg(text: str):
    if text == "auto":
        return text
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer >= 1, got {text!r}")
    return value


def _add_threads(p) -> None:
    p.add_argument(
        "--threads",
        type=_threads_arg,
        default="auto",
        help="CPU threads of XLA's pools (auto: see docs/cli.md); set before JAX starts",
    )


def _parser() -> argparse.ArgumentParser:
    from ._cli_models import NEST_MODELS, add_options
    from .models import MODELS
    from .ops import BACKENDS

    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = _Parser(
        prog="neurosim",
        description="JAX-based, differentiable brain simulation.",
        formatter_class=fmt,
    )
    p.add_argument("--version", action="version", version=f"neurosim {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="simulate a built-in network or a config", formatter_class=fmt)
    r.add_argument(
        "model",
        nargs="?",
        help=f"built-in network ({', '.join([*MODELS, *NEST_MODELS])}) or a config file (.toml)",
    )
    r.add_argument("--n", type=int, default=4000, help="number of neurons")
    r.add_argument(
        "--duration", type=float, default=1000.0, help="biological time (ms), whole steps of --dt"
    )
    r.add_argument(
        "--dt",
        type=float,
        default=0.1,
        help="time step (ms), in (0, 1] and at most 1/10 of the model's fastest time constant",
    )
    r.add_argument("--seed", type=_seed, default=0, help=f"random seed, 0 .. {SEED_MAX}")
    r.add_argument("--out", default="out", help="output directory")
    r.add_argument("--no-plot", action="store_true", help="do not write raster.png")
    r.add_argument(
        "--format",
        default="npz",
        choices=("npz", "nwb"),
        help="nwb: also write result.nwb (Neurodata Without Borders; needs pynwb)",
    )
    r.add_argument(
        "--connectivity",
        default="auto",
        choices=("auto", "stored", "procedural"),
        help="stored sparse synapses or procedural (regenerated from a seed)",
    )
    r.add_argument(
        "--allow-coarse-dt",
        action="store_true",
        help="run (with a warning) when --dt exceeds 1/10 of the fastest time constant",
    )
    from ._cli_config import add_config_arguments

    add_config_arguments(r)
    _cli_resume.add_arguments(r)
    add_options(r)
    _add_threads(r)
    b = sub.add_parser("bench", help="run the benchmark suite", formatter_class=fmt)
    b.add_argument("--sizes", default="4000", help="comma-separated network sizes")
    b.add_argument("--models", default="coba", help="comma-separated models")
    b.add_argument("--repeats", type=int, default=3, help="timed repeats per case")
    b.add_argument("--json", action="store_true", help="print JSON rows")
    b.add_argument(
        "--connectivity",
        default="stored",
        choices=("auto", "stored", "procedural"),
        help="connectivity of the benchmark networks",
    )
    b.add_argument(
        "--backend",
        default=None,
        choices=BACKENDS,
        help="event-delivery backend (None: each projection's own, auto)",
    )
    _add_threads(b)
    from ._cli_assimilate import register

    register(sub, fmt)
    return p


_whole_steps = whole_steps  # its name here before the checks had their own module


def _check_size(args, tiny, n_steps: int, connectivity: str) -> dict:
    """:func:`neurosim._cli_checks.check_size` with this module's ``LONG_RUN_S``."""
    return check_size(args, tiny, n_steps, connectivity, long_run_s=LONG_RUN_S)


def _cmd_run(args) -> int:
    from ._cli_config import config_run, is_config_run
    from ._cli_models import NEST_MODELS
    from ._cli_models import build as build_nest_model
    from .models import MODELS

    if is_config_run(args, fail):  # neurosim run net.toml: see _cli_config.py
        if args.resume is not None:
            args.out = args.resume  # continue the run in that directory
        c = config_run(args, fail, whole_steps, check_out)
        checks = check_dt(c.args, c.network)
        settings = {"model": c.args.model, "n": c.args.n, "connectivity": "config"}
        settings.update(duration_ms=float(c.args.duration), dt_ms=float(c.args.dt))
        settings.update(seed=c.args.seed, config=c.extra["config"], config_sha256=c.digest)
        try:
            stream = _cli_resume.open_stream(c.args, settings)
        except ValueError as e:
            fail(str(e))
        return simulate_and_write(
            c.args, c.network, c.n_steps, checks, c.build_s, "config", stream, c.extra, c.record
        )
    if args.model not in MODELS and args.model not in NEST_MODELS:
        fail(f"unknown model {args.model!r}; choose from {', '.join([*MODELS, *NEST_MODELS])}")
    if args.n < 1:
        fail(f"--n must be >= 1, got {args.n}")
    if not args.duration > 0 or not math.isfinite(args.duration):
        fail(f"--duration must be a finite number > 0 ms, got {args.duration}")
    if not (args.dt > 0 and args.dt <= 1.0):
        fail(f"--dt must be in (0, 1] ms, got {args.dt}")
    if args.duration / args.dt < 1:
        fail(f"--duration ({args.duration} ms) is shorter than one step (--dt {args.dt} ms)")
    n_steps = whole_steps(args.duration, args.dt)
    if args.resume is not None:
        args.out = args.resume  # continue the run in that directory
    check_out(args.out)

    if args.model in NEST_MODELS:
        net, kwargs, checks, build_s = build_nest_model(args, fail)
    else:
        net, kwargs, checks, build_s = _build(args, n_steps)
    connectivity = kwargs.get("connectivity", args.connectivity)
    settings = {"model": args.model, "n": args.n, "duration_ms": float(args.duration)}
    settings.update(dt_ms=float(args.dt), seed=args.seed, connectivity=connectivity)
    try:
        stream = _cli_resume.open_stream(args, settings)
    except ValueError as e:
        fail(str(e))
    return simulate_and_write(args, net, n_steps, checks, build_s, connectivity, stream)


def _build(args, n_steps: int):
    """``(network, kwargs, checks, build_s)`` of a Brette benchmark network, pre-flighted."""
    import jax

    from .models import MODELS

    try:
        from .models import resolve_connectivity
    except ImportError:  # procedural connectivity not available in this build
        resolve_connectivity = None
    if args.connectivity == "procedural" and resolve_connectivity is None:
        fail("--connectivity procedural is not available in this version; use stored")
    t0 = time.perf_counter()
    try:
        kwargs = {}
        if resolve_connectivity is not None:
            kwargs = resolve_connectivity(args.model, args.n, args.connectivity)
        # A tiny copy (procedural: nothing to generate) answers the pre-flight questions.
        tiny = MODELS[args.model](
            n=min(args.n, 16) if args.n >= 2 else args.n,
            key=jax.random.key(args.seed),
            connectivity="procedural",
        )
    except ValueError as e:
        fail(str(e))
    checks = check_dt(args, tiny)
    checks.update(_check_size(args, tiny, n_steps, kwargs.get("connectivity", "stored")))
    try:
        net = MODELS[args.model](n=args.n, key=jax.random.key(args.seed), **kwargs)
    except ValueError as e:
        fail(str(e))
    return net, kwargs, checks, time.perf_counter() - t0


def _cmd_bench(args) -> int:
    from . import bench

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s]
    except ValueError:
        fail(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    models_ = [m for m in args.models.split(",") if m]
    from .models import MODELS

    for m in models_:
        if m not in MODELS:
            fail(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    if any(s < 2 for s in sizes):
        fail("--sizes must all be >= 2")
    bench.main(
        [(m, s) for m in models_ for s in sizes],
        repeats=args.repeats,
        as_json=args.json,
        connectivity=args.connectivity,
        backend=args.backend,
    )
    return 0


def _apply_threads(args) -> None:
    """Size XLA's CPU pools (``--threads``) before anything starts JAX's backend."""
    from ._threads import auto_cpu_threads, set_cpu_threads

    want = getattr(args, "threads", None)
    if want is None:
        return
    try:
        n = auto_cpu_threads() if want == "auto" else want
        args.cpu_threads = set_cpu_threads(n)
    except RuntimeError as e:  # JAX already started in this process (main() from Python)
        if want != "auto":
            fail(f"--threads {want}: {e}")
        args.cpu_threads = None  # auto: leave the running backend as it is


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("run", "bench"):
        _apply_threads(args)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "assimilate":
            from ._cli_assimilate import run

            return run(args)
        return _cmd_bench(args)
    except KeyboardInterrupt:
        print("neurosim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
