"""Twin experiment: reduced Wong–Wang on tvb-data's 76-region connectome, BOLD, EnKF.

    python examples/assimilate_whole_brain.py --quick                  # CI (tiny ensemble)
    python examples/assimilate_whole_brain.py --seed 0 --tr 800 --obs abs
    python examples/assimilate_whole_brain.py --seed 0 --tr 2000 --obs z

The experiment itself is :func:`neurosim.assimilate.twin_experiment` (its module docstring
states the design: truth, observation noise, filter, localisation, G modes, scores); the
same run is ``neurosim assimilate`` on the command line. This script maps flags to a
:class:`neurosim.assimilate.TwinConfig` and writes ``assimilate_whole_brain.png``,
``summary.json`` and ``twin_arrays.npz`` into ``--out``; the last stdout line is the JSON
summary.
"""

import argparse
import dataclasses
import json
import pathlib

import numpy as np

import neurosim as ns


def add_arguments(ap):
    """The TwinConfig fields as flags (defaults from TwinConfig)."""
    d = ns.assimilate.TwinConfig()
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--tr", type=float, default=d.tr, help="repetition time (ms)")
    ap.add_argument("--obs", choices=("abs", "z"), default=d.obs)
    ap.add_argument("--members", type=int, default=d.members)
    ap.add_argument("--regions", type=int, default=d.regions, help="first k of 76 regions")
    ap.add_argument("--duration", type=float, default=d.duration, help="assimilated record (s)")
    ap.add_argument("--fc-duration", type=float, default=d.fc_duration, help="free runs (s)")
    ap.add_argument(
        "--burn-in",
        type=float,
        default=d.burn_in,
        help="first assimilated seconds left out of the after-burn-in scores",
    )
    ap.add_argument("--spinup", type=float, default=d.spinup, help="forecast-only start (s)")
    ap.add_argument("--obs-noise", type=float, default=d.obs_noise, help="x median BOLD std")
    ap.add_argument("--inflation", type=float, default=d.inflation)
    ap.add_argument(
        "--rtps-params",
        type=float,
        default=d.rtps_params,
        help="relaxation to prior spread of the parameters (0: none, 1: keep the forecast's)",
    )
    ap.add_argument(
        "--rtps-states", type=float, default=d.rtps_states, help="the same, haemodynamic states"
    )
    ap.add_argument(
        "--g-mode",
        choices=("fc", "enkf"),
        default=d.g_mode,
        help="G from the observed FC (then fixed) or in the EnKF state",
    )
    ap.add_argument("--g-grid", type=int, default=d.g_grid, help="G grid points (g-mode fc)")
    ap.add_argument("--g-seeds", type=int, default=d.g_seeds, help="free runs per G point")
    ap.add_argument("--rw-io", type=float, default=d.rw_io, help="I_o random walk per window")
    ap.add_argument("--rw-g", type=float, default=d.rw_g, help="G random walk per window")
    ap.add_argument(
        "--update-neural",
        action="store_true",
        help="also update each region's gating S (DTB leaves neural states alone)",
    )


QUICK = dict(members=6, duration=8.0, spinup=1.6, fc_duration=8.0, burn_in=2.0)


def config_from(args) -> "ns.assimilate.TwinConfig":
    names = {f.name for f in dataclasses.fields(ns.assimilate.TwinConfig)}
    cfg = ns.assimilate.TwinConfig(**{k: v for k, v in vars(args).items() if k in names})
    return dataclasses.replace(cfg, **QUICK) if args.quick else cfg


def write_outputs(res, out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ns.assimilate.plot_twin(res, out / "assimilate_whole_brain.png")
    (out / "summary.json").write_text(json.dumps(res.summary, indent=1))
    keep = ("forecast", "observed", "analysis_bold", "oracle", "io_true", "io_hat", "io_start")
    np.savez_compressed(out / "twin_arrays.npz", **{k: res.arrays[k] for k in keep})


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny ensemble and record (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    add_arguments(ap)
    a = ap.parse_args()
    cfg = dataclasses.replace(config_from(a), progress=False if a.quick else None)
    res = ns.assimilate.twin_experiment(cfg)
    write_outputs(res, a.out)
    print(json.dumps(res.summary))
