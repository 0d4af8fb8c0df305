"""``neurosim assimilate``: the whole-brain twin experiments from the command line.

Registered by :mod:`neurosim.cli` (``register``); runs
:func:`neurosim.assimilate.twin_experiment` (``--twin rate``, the default: twin a) or
:func:`neurosim.assimilate.spiking_twin_experiment` (``--twin spiking``: twin b) with
settings from flags and/or a JSON config file (flags given explicitly win over the file), and
writes ``summary.json``, ``estimates.npz`` and ``assimilate.png`` into ``--out`` (documented
in docs/cli.md). A flag or config field of the other twin is refused (exit 2), never ignored.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

__all__ = ["register", "run"]

_OUTPUTS = ("summary.json", "estimates.npz", "assimilate.png")


def _classes():
    from .assimilate import SpikingTwinConfig, TwinConfig

    return {"rate": TwinConfig, "spiking": SpikingTwinConfig}


def _fields(twin: str = "rate"):
    cls = _classes()[twin]
    return {f.name: f for f in dataclasses.fields(cls) if f.name != "progress"}, cls()


def _receptors(text: str) -> tuple:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def register(sub, fmt) -> None:
    """Add the ``assimilate`` subcommand to the ``sub`` parsers."""
    a = sub.add_parser(
        "assimilate",
        help="whole-brain twins on tvb-data's connectome (rate or spiking regions), BOLD, EnKF",
        formatter_class=fmt,
    )
    a.add_argument(
        "--twin",
        choices=("rate", "spiking"),
        default="rate",
        help="rate: reduced Wong-Wang (twin a); spiking: conductance LIF regions (twin b)",
    )
    a.add_argument("--config", help="JSON file of the twin's config fields (flags override it)")
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
    sp = a.add_argument_group("--twin spiking only (SpikingTwinConfig; defaults there)")
    sp.add_argument("--neurons", type=int, default=S, help="neurons per region (400)")
    sp.add_argument("--estimate", type=_receptors, default=S,
                    help="receptors estimated, comma-separated (AMPA)")  # fmt: skip
    sp.add_argument("--spread", type=float, default=S, help="truth h in 1 +- spread (0.3)")
    sp.add_argument("--prior-sd", type=float, default=S, help="start ensemble sd, logit (8)")
    sp.add_argument("--rw", type=float, default=S, help="h random walk per window (0.5)")
    sp.add_argument("--settle-ms", type=float, default=S, help="spin-up, ms (1000)")
    sp.add_argument("--k-e", type=int, default=S, help="local E in-degree (57)")
    sp.add_argument("--k-i", type=int, default=S, help="local I in-degree (14)")
    sp.add_argument("--k-ext", type=int, default=S, help="long-range in-degree (29)")


def _config(args):
    twin = getattr(args, "twin", "rate")
    cls = _classes()[twin]
    fields, _ = _fields(twin)
    every = set().union(*(_fields(t)[0] for t in _classes()))
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
            raise ValueError(
                f"--config: unknown fields {unknown} for --twin {twin}; known: {sorted(fields)}"
            )
    given = {k: v for k, v in vars(args).items() if k in every}
    other = sorted(set(given) - set(fields))
    if other:
        flags = ", ".join("--" + k.replace("_", "-") for k in other)
        raise ValueError(f"{flags} do(es) not apply to --twin {twin}")
    values.update(given)
    if "estimate" in values:
        values["estimate"] = tuple(values["estimate"])
    cfg = cls(**values)
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
    if getattr(args, "twin", "rate") == "spiking":
        return _run_spiking(args, cfg)
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
    return _finish(args, cfg, res, "rate", plot_twin)


def _run_spiking(args, cfg) -> int:
    """Twin (b): run, write summary.json, estimates.npz (h_* arrays) and assimilate.png."""
    import warnings

    import numpy as np

    from .assimilate import plot_spiking_twin, spiking_twin_experiment
    from .network import DelayRoundingWarning

    with warnings.catch_warnings():  # tract delays rounded to the 1 ms step (docs/cli.md)
        warnings.simplefilter("ignore", DelayRoundingWarning)
        res = spiking_twin_experiment(cfg)
    a = res.arrays
    keep = ("h_true", "h_start", "h_hat", "observed", "forecast", "truth")
    np.savez_compressed(
        os.path.join(args.out, "estimates.npz"),
        **{k: a[k] for k in keep},
        analysis=a["analysis_bold"],
        analysis_mean=a["analysis_mean"],
        analysis_std=a["analysis_std"],
    )
    return _finish(args, cfg, res, "spiking", plot_spiking_twin)


def _finish(args, cfg, res, twin: str, plot) -> int:
    """Write summary.json (scores + twin + config) and the figure; print the summary line."""
    summary = {**res.summary, "twin": twin, "config": dataclasses.asdict(cfg)}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if not args.no_plot:
        plot(res, os.path.join(args.out, "assimilate.png"))
    print(json.dumps(res.summary))
    return 0
