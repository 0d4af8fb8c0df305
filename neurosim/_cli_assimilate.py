"""``neurosim assimilate``: the whole-brain twin experiment from the command line.

Registered by :mod:`neurosim.cli` (``register``); runs
:func:`neurosim.assimilate.twin_experiment` with settings from flags and/or a JSON config
file (flags given explicitly win over the file), and writes ``summary.json``,
``estimates.npz`` and ``assimilate.png`` into ``--out`` (documented in docs/cli.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

__all__ = ["register", "run"]

_OUTPUTS = ("summary.json", "estimates.npz", "assimilate.png")


def _fields():
    from .assimilate import TwinConfig

    return {f.name: f for f in dataclasses.fields(TwinConfig)}, TwinConfig()


def register(sub, fmt) -> None:
    """Add the ``assimilate`` subcommand to the ``sub`` parsers."""
    a = sub.add_parser(
        "assimilate",
        help="whole-brain twin: reduced Wong-Wang + BOLD on tvb-data's connectome, EnKF",
        formatter_class=fmt,
    )
    a.add_argument("--config", help="JSON file of TwinConfig fields (flags override it)")
    a.add_argument("--out", default="out", help="output directory")
    a.add_argument("--no-plot", action="store_true", help="do not write assimilate.png")
    S = argparse.SUPPRESS  # unset flags do not override the config file
    a.add_argument("--seed", type=int, default=S, help="random seed (default 0)")
    a.add_argument("--tr", type=float, default=S, help="repetition time, ms (default 800)")
    a.add_argument("--obs", choices=("abs", "z"), default=S, help="observations (default abs)")
    a.add_argument("--members", type=int, default=S, help="ensemble size (default 16)")
    a.add_argument("--regions", type=int, default=S, help="first k of 76 regions (default 76)")
    a.add_argument("--duration", type=float, default=S, help="assimilated s (default 60)")
    a.add_argument("--fc-duration", type=float, default=S, help="free-run s for FC (300)")
    a.add_argument("--burn-in", type=float, default=S, help="s left out of late scores (20)")
    a.add_argument("--spinup", type=float, default=S, help="forecast-only s (default 8)")
    a.add_argument("--obs-noise", type=float, default=S, help="x median BOLD std (0.2)")
    a.add_argument("--inflation", type=float, default=S, help="multiplicative (default 1)")
    a.add_argument("--rtps-params", type=float, default=S, help="RTPS of the parameters (0.7)")
    a.add_argument("--rtps-states", type=float, default=S, help="RTPS of the BOLD states (0.7)")
    a.add_argument("--g-mode", choices=("fc", "enkf"), default=S, help="G fit (default fc)")
    a.add_argument("--g-grid", type=int, default=S, help="G grid points (default 7)")
    a.add_argument("--g-seeds", type=int, default=S, help="free runs per G point (1)")
    a.add_argument("--rw-io", type=float, default=S, help="I_o random walk (default 0.03)")
    a.add_argument("--rw-g", type=float, default=S, help="G random walk (default 0.01)")
    a.add_argument(
        "--update-neural", action="store_true", default=S, help="also update the gating S"
    )


def _config(args):
    from .assimilate import TwinConfig

    fields, _ = _fields()
    values = {}
    if args.config:
        try:
            with open(args.config) as f:
                values = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(f"--config {args.config!r} is not a readable JSON file ({e})") from e
        if not isinstance(values, dict):
            raise ValueError(f"--config {args.config!r} must hold a JSON object")
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"--config: unknown fields {unknown}; known: {sorted(fields)}")
    values.update({k: v for k, v in vars(args).items() if k in fields})
    cfg = TwinConfig(**values)
    cfg.check()
    return cfg


def run(args) -> int:
    """Run the experiment, write the files, print the summary as the last stdout line."""
    import numpy as np

    from .assimilate import plot_twin, twin_experiment

    try:
        cfg = _config(args)
    except (ValueError, TypeError) as e:
        print(f"neurosim: error: {e}", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.out, exist_ok=True)
        for name in _OUTPUTS:  # never leave a previous run's files next to this one's
            p = os.path.join(args.out, name)
            if os.path.exists(p):
                os.remove(p)
    except OSError as e:
        print(f"neurosim: error: --out {args.out!r} is not writable ({e})", file=sys.stderr)
        return 2
    res = twin_experiment(cfg)
    a = res.arrays
    np.savez_compressed(
        os.path.join(args.out, "estimates.npz"),
        **{k: a[k] for k in ("io_true", "io_start", "io_hat", "observed", "forecast")},
        analysis=a["analysis_bold"],
        oracle=a["oracle"],
        io_mean=np.asarray(res.twin.io_t.forward(a["analysis_mean"][:, : res.twin.n])),
        io_lo=np.asarray(res.twin.io_t.forward(
            a["analysis_mean"][:, : res.twin.n] - a["analysis_std"][:, : res.twin.n])),
        io_hi=np.asarray(res.twin.io_t.forward(
            a["analysis_mean"][:, : res.twin.n] + a["analysis_std"][:, : res.twin.n])),
        fc_true=a["fc_true"],
        fc_free=a["fc_free"],
    )  # fmt: skip
    summary = {**res.summary, "config": dataclasses.asdict(cfg)}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if not args.no_plot:
        plot_twin(res, os.path.join(args.out, "assimilate.png"))
    print(json.dumps(res.summary))
    return 0
