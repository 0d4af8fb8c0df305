"""Twin (b): Digital-Twin-Brain-style spiking regions on tvb-data's connectome, BOLD, EnKF.

    python examples/assimilate_spiking_twin.py --quick             # CI (3 regions x 100 neurons)
    python examples/assimilate_spiking_twin.py --regions 20 --neurons 400 --members 16 \\
        --duration 60 --tr 800

The experiment is :func:`neurosim.assimilate.spiking_twin_experiment` (its module docstring
states the design): per region conductance LIF neurons with AMPA, NMDA, GABA_A, GABA_B and an
OU background (dt = 1 ms), BOLD from each region's spiking fraction through Balloon–Windkessel,
the stochastic EnKF estimating per-region receptor hyperparameters (per-neuron value =
hyperparameter x Gamma(5, 1/5)) and updating the haemodynamic states. Writes
``assimilate_spiking_twin.png``, ``summary.json`` and ``twin_b_arrays.npz`` into ``--out``;
the last stdout line is the JSON summary.
"""

import argparse
import dataclasses
import json
import pathlib
import warnings

import numpy as np

import neurosim as ns

QUICK = dict(regions=3, neurons=100, members=4, duration=4.8, burn_in=1.6, settle_ms=300.0)


def main():
    d = ns.assimilate.SpikingTwinConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny network and record (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    for f in dataclasses.fields(d):
        if f.name in ("progress", "estimate"):
            continue
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    among = ", ".join(ns.assimilate.RECEPTORS)
    ap.add_argument("--estimate", default=",".join(d.estimate),
                    help=f"receptors to estimate, comma-separated, among {among}")  # fmt: skip
    a = ap.parse_args()
    names = {f.name for f in dataclasses.fields(d)} - {"estimate", "progress"}
    cfg = ns.assimilate.SpikingTwinConfig(
        **{k: getattr(a, k) for k in names}, estimate=tuple(a.estimate.split(","))
    )
    if a.quick:
        cfg = dataclasses.replace(cfg, **QUICK)
    cfg = dataclasses.replace(cfg, progress=False if a.quick else None)
    with warnings.catch_warnings():  # delays rounded to whole 1 ms steps (stated in the docs)
        warnings.simplefilter("ignore", ns.network.DelayRoundingWarning)
        res = ns.assimilate.spiking_twin_experiment(cfg)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ns.assimilate.plot_spiking_twin(res, out / "assimilate_spiking_twin.png")
    (out / "summary.json").write_text(json.dumps(res.summary, indent=1))
    keep = ("forecast", "observed", "truth", "analysis_bold", "h_true", "h_hat", "h_start")
    np.savez_compressed(out / "twin_b_arrays.npz", **{k: res.arrays[k] for k in keep})
    print(json.dumps(res.summary))


if __name__ == "__main__":
    main()
