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

Each finished segment is streamed to ``DIR/stream`` and ``--resume DIR`` continues a killed
or failed run bitwise (:mod:`neurosim._cli_stream`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from . import _cli_stream

__all__ = ["main", "SEED_MAX"]

SEED_MAX = 2**32 - 1  # jax.random.key takes a 32-bit seed
LONG_RUN_S = 60.0  # print an estimated run time above this


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


def _fail(message: str, code: int = 2):
    print(f"neurosim: error: {message}", file=sys.stderr)
    raise SystemExit(code)


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
    _cli_stream.add_arguments(r)
    add_options(r)
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
    from ._cli_assimilate import register

    register(sub, fmt)
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


def _whole_steps(duration: float, dt: float) -> int:
    """The number of steps, or a one-line refusal if ``duration`` is not whole steps of dt."""
    steps = duration / dt
    n_steps = round(steps)
    if abs(steps - n_steps) > 1e-9 * max(1.0, steps):
        lo, hi = math.floor(steps), math.ceil(steps)
        options = " or ".join(f"{k * dt:.10g}" for k in (lo, hi) if k >= 1)
        _fail(
            f"--duration {duration:g} ms is not a whole number of --dt {dt:g} ms steps "
            f"({steps:.6g} steps); use --duration {options}"
        )
    return int(n_steps)


def _warn(message: str) -> None:
    print(f"neurosim: warning: {message}", file=sys.stderr)


def _check_dt(args, tiny) -> dict:
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
            _fail(
                f"{text}; at most 1/{DT_REFUSE_RATIO:g} of it ({limit:g} ms) gives accurate "
                "results: use a smaller --dt, or --allow-coarse-dt to run anyway"
            )
        _warn(f"{text}; results may be inaccurate (--allow-coarse-dt)")
    elif args.dt > tau / DT_WARN_RATIO * (1 + 1e-9):
        _warn(f"{text}; above 1/{DT_WARN_RATIO:g} of it, check the result at a smaller --dt")
    return info


def _check_size(args, tiny, n_steps: int, connectivity: str) -> dict:
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
            _fail(
                f"--n {args.n} for {args.duration:g} ms needs an estimated "
                f"{pf.format_bytes(need)} of {where} memory ({parts}), more than "
                f"{pf.MEMORY_FRACTION:.0%} of the {pf.format_bytes(avail)} available ({src}); "
                f"use a smaller --n or --duration{fix}"
            )
    seconds = pf.estimate_run_seconds(args.n, n_steps, connectivity, device.platform)
    if seconds is not None and seconds > LONG_RUN_S:
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


def _cmd_run(args) -> int:
    from ._cli_config import config_run, is_config_run
    from ._cli_models import NEST_MODELS
    from ._cli_models import build as build_nest_model
    from .models import MODELS

    if is_config_run(args, _fail):  # neurosim run net.toml: see _cli_config.py
        if args.resume is not None:
            _fail(
                "--resume continues the runs of built-in models; a config run's finished "
                "segments stay in OUT/stream/ (ns.io.load_state reads its state)"
            )
        c = config_run(args, _fail, _whole_steps, _check_out)
        checks = _check_dt(c.args, c.network)
        settings = {"model": c.args.model, "n": c.args.n, "connectivity": "config"}
        settings.update(duration_ms=float(c.args.duration), dt_ms=float(c.args.dt))
        settings["seed"] = c.args.seed
        try:
            stream = _cli_stream.open_stream(c.args, settings)
        except ValueError as e:
            _fail(str(e))
        return _simulate_and_write(
            c.args, c.network, c.n_steps, checks, c.build_s, "config", stream, c.extra, c.record
        )
    if args.model not in MODELS and args.model not in NEST_MODELS:
        _fail(f"unknown model {args.model!r}; choose from {', '.join([*MODELS, *NEST_MODELS])}")
    if args.n < 1:
        _fail(f"--n must be >= 1, got {args.n}")
    if not args.duration > 0 or not math.isfinite(args.duration):
        _fail(f"--duration must be a finite number > 0 ms, got {args.duration}")
    if not (args.dt > 0 and args.dt <= 1.0):
        _fail(f"--dt must be in (0, 1] ms, got {args.dt}")
    if args.duration / args.dt < 1:
        _fail(f"--duration ({args.duration} ms) is shorter than one step (--dt {args.dt} ms)")
    n_steps = _whole_steps(args.duration, args.dt)
    if args.resume is not None:
        args.out = args.resume  # continue the run in that directory
    _check_out(args.out)

    if args.model in NEST_MODELS:
        net, kwargs, checks, build_s = build_nest_model(args, _fail)
    else:
        net, kwargs, checks, build_s = _build(args, n_steps)
    connectivity = kwargs.get("connectivity", args.connectivity)
    settings = {"model": args.model, "n": args.n, "duration_ms": float(args.duration)}
    settings.update(dt_ms=float(args.dt), seed=args.seed, connectivity=connectivity)
    try:
        stream = _cli_stream.open_stream(args, settings)
    except ValueError as e:
        _fail(str(e))
    return _simulate_and_write(args, net, n_steps, checks, build_s, connectivity, stream)


def _build(args, n_steps: int):
    """``(network, kwargs, checks, build_s)`` of a Brette benchmark network, pre-flighted."""
    import jax

    from .models import MODELS

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
        # A tiny copy (procedural: nothing to generate) answers the pre-flight questions.
        tiny = MODELS[args.model](
            n=min(args.n, 16) if args.n >= 2 else args.n,
            key=jax.random.key(args.seed),
            connectivity="procedural",
        )
    except ValueError as e:
        _fail(str(e))
    checks = _check_dt(args, tiny)
    checks.update(_check_size(args, tiny, n_steps, kwargs.get("connectivity", "stored")))
    try:
        net = MODELS[args.model](n=args.n, key=jax.random.key(args.seed), **kwargs)
    except ValueError as e:
        _fail(str(e))
    return net, kwargs, checks, time.perf_counter() - t0


def _simulate_and_write(
    args, net, n_steps, checks, build_s, connectivity, stream, extra=None, record=None
):
    """Simulate ``net`` in streamed segments (Ctrl-C, a kill or a full disk keep what
    finished) and write the run's files to ``args.out``."""
    import jax

    from . import analysis

    key = jax.random.fold_in(jax.random.key(args.seed), 1)
    _remove_outputs(args.out)
    try:
        res, status, message, code = stream.run(net, n_steps, args.dt, key, record)
    except ValueError as e:
        _fail(str(e))

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
        **(extra or {}),
    }
    if stream.resumed_from_ms is not None:
        summary["resumed_from_ms"] = stream.resumed_from_ms
    try:
        _cli_stream.write_json(os.path.join(args.out, "summary.json"), summary)
    except OSError as e:
        _fail(f"writing summary.json failed ({e.strerror or e}); {message}", code or 4)
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


def _remove_outputs(out: str) -> None:
    """Delete a previous run's files, so that none of them can pass for this run's."""
    for name in OUTPUTS:
        try:
            os.remove(os.path.join(out, name))
        except FileNotFoundError:
            pass


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
        if args.command == "assimilate":
            from ._cli_assimilate import run

            return run(args)
        return _cmd_bench(args)
    except KeyboardInterrupt:
        print("neurosim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
