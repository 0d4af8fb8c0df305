"""``neurosim run net.toml`` (or ``--config net.toml``): a network from a config file.

The file's ``[run]`` section gives ``dt``, ``duration`` and ``seed``; ``--dt``, ``--duration``
and ``--seed`` given on the command line override it. ``[run] allow_coarse_dt = true`` is
``--allow-coarse-dt`` (run, with a warning, at a step above 1/10 of the fastest time
constant integrated with a dt error), ``[run] record_spikes`` chooses the populations
whose spikes are written. The same checks as for the built-in models run first (whole steps,
the time step against the fastest time constant, a writable ``--out``), and the same files are
written (docs/cli.md), plus ``result.npz`` with the traces of ``[run] record``. Spikes and
traces are streamed segment by segment, and ``--resume OUT`` continues an interrupted run of
the same config (:mod:`neurosim._cli_resume`). A malformed config exits with status 2 and one
line naming the file, the key path and the fix.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import NamedTuple

__all__ = ["add_config_arguments", "is_config_run", "config_run", "ConfigRun"]


class _DefaultFloat(float):
    """A default the user did not type (so a config's own value wins)."""


class _DefaultInt(int):
    """A default the user did not type."""


class _DefaultStr(str):
    """A default the user did not type."""


_OVERRIDES = ("duration", "dt", "seed")
_BUILT_IN_ONLY = ("n", "connectivity")


def _mark(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _DefaultInt(value)
    if isinstance(value, float):
        return _DefaultFloat(value)
    return _DefaultStr(value) if isinstance(value, str) else value


def _given(args, name: str) -> bool:
    return not isinstance(getattr(args, name), (_DefaultFloat, _DefaultInt, _DefaultStr))


def add_config_arguments(run: argparse.ArgumentParser) -> None:
    """Add ``--config`` to the ``run`` parser, and mark its defaults so that a config's
    ``[run]`` settings apply unless an option is typed."""
    run.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="network config file (TOML, see docs/config.md) instead of MODEL; its [run] "
        "dt/duration/seed apply unless --dt/--duration/--seed are given",
    )
    run.set_defaults(**{k: _mark(run.get_default(k)) for k in (*_OVERRIDES, *_BUILT_IN_ONLY)})


def is_config_run(args, fail) -> bool:
    """True when ``neurosim run`` was given a config file (``--config``, or a ``.toml`` MODEL);
    ``fail(message)`` exits for neither or both."""
    if args.model is None and args.config is None:
        fail("give a MODEL (coba, cuba, cobahh) or a config file: neurosim run net.toml")
    if args.model is not None and args.config is not None:
        fail(f"give MODEL {args.model!r} or --config {args.config!r}, not both")
    return args.config is not None or str(args.model).endswith(".toml")


class ConfigRun(NamedTuple):
    """What the run needs: the effective options, the network and its run settings."""

    args: argparse.Namespace
    network: object
    n_steps: int
    record: list | None
    extra: dict
    build_s: float
    digest: str  # of the normalised config (neurosim._cli_resume.config_digest)


def config_run(args, fail, whole_steps, check_out) -> ConfigRun:
    """Load and build the config of ``args``; ``fail(message)`` exits with a one-line error,
    ``whole_steps(duration, dt)`` and ``check_out(dir)`` are the built-in run's checks."""
    from ._cli_resume import config_digest
    from .config import ConfigError, load

    path = args.config if args.config is not None else args.model
    for opt in _BUILT_IN_ONLY:
        if _given(args, opt):
            fail(
                f"--{opt} is for the built-in models; a config sets sizes and connectivity in "
                f"the file ({path})"
            )
    t0 = time.perf_counter()
    try:
        cfg = load(path)
        changes = {k: getattr(args, k) for k in _OVERRIDES if _given(args, k)}
        if changes:
            cfg = cfg.with_run(**{k: type(cfg.run[k])(v) for k, v in changes.items()})
        run = cfg.run
        if not 0 < run["dt"] <= 1.0:
            fail(f"{path}: run.dt must be in (0, 1] ms, got {run['dt']:g}")
        if not math.isfinite(run["duration"]) or run["duration"] / run["dt"] < 1:
            fail(f"{path}: run.duration ({run['duration']:g} ms) is shorter than one step")
        n_steps = whole_steps(run["duration"], run["dt"])
        check_out(args.out)
        net = cfg.network
        record = cfg.record() or None
    except ConfigError as e:
        fail(str(e))
    n = sum(p.n for p in net.populations)
    options = {**vars(args), **{k: run[k] for k in _OVERRIDES}, "model": cfg.name, "n": n}
    options["record_spikes"] = run.get("record_spikes")  # read by _cli_resume.open_stream
    options["allow_coarse_dt"] = args.allow_coarse_dt or run.get("allow_coarse_dt", False)
    extra = {"config": str(path), "rate_populations": [rp.name for rp in net.rate_populations]}
    build_s = time.perf_counter() - t0
    digest = config_digest(cfg.spec)
    return ConfigRun(argparse.Namespace(**options), net, n_steps, record, extra, build_s, digest)
