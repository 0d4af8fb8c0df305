"""Multistability of the reduced Wong-Wang whole-brain network over the global coupling G.

The 76-region TVB connectome (``tvb-data``; weights normalised to a maximum of 1, no self
connections), one reduced Wong-Wang node per region with the local parameters of Deco et
al. (2013, J. Neurosci. 33:11239): w = 0.9, I_o = 0.3 nA.

* A scan over G: from an all-low and an all-high start the flow is integrated and its end
  points polished by Newton (exact 76 x 76 Jacobians by autodiff); the distinct stable
  fixed points are counted. Where there are two or more, the network is multistable (Deco
  et al. 2013/2014: a low state, a high state and, between, coexisting attractors).
* The low-activity branch continued over G (all 76 NMDA gating variables at once), with
  the first fold where it loses stability (a cascade of folds follows, as regions switch
  to the high state one after another).

Figures go to ``--out``; the last line printed is a JSON summary. ``--quick``: a coarser
G grid (step 0.01), shorter runs.

Run: ``python examples/wong_wang_multistability.py --quick``
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import neurosim as ns  # noqa: E402


def scan(net, n, g_values, t_max):
    """For each G: integrate from an all-low and an all-high start, polish the end points
    by Newton (``fixed_points`` from those starts) and keep the distinct stable ones."""
    box = [(0.0, 1.0)] * n
    counts, means = [], []
    for g in g_values:
        ends = ns.dynamics.trajectories(
            net, [np.full(n, 0.05), np.full(n, 0.9)], {"G": g}, t_max=t_max, dt=1.0
        )[:, -1]
        fp = ns.dynamics.fixed_points(net, box, {"G": g}, starts=np.asarray(ends))
        stable = [
            x for x, k in zip(fp.x, fp.kind, strict=True) if k in ("stable node", "stable focus")
        ]
        counts.append(len(stable))
        means.append(sorted(float(x.mean()) for x in stable))
    return counts, means


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="output directory (default: a temp dir)")
    ap.add_argument("--quick", action="store_true", help="fewer continuation steps (CI)")
    ap.add_argument("--g-max", type=float, default=0.1, help="largest G scanned")
    args = ap.parse_args()
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="neurosim_ww_"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    con = ns.connectome.Connectome.from_tvb_data(76).without_self_connections()
    W = np.asarray(con.normalized("max").weights)
    n = W.shape[0]
    net = ns.dynamics.system(
        ns.rates.ReducedWongWang(n, w=0.9, I_o=0.3), ns.rates.LinearCoupling(W, G=0.0)
    )
    g_values = np.linspace(0.0, args.g_max, 11 if args.quick else 41)
    counts, means = scan(net, n, g_values, 1500.0 if args.quick else 4000.0)
    multi = g_values[np.asarray(counts) >= 2]
    # the low branch continued over G (all 76 variables), with its first fold
    low = ns.dynamics.continuation(net, "G", np.full(n, 0.05), {"G": 0.0}, ds=0.02,
                                   n_steps=40 if args.quick else 120, box=[(0.0, 1.0)] * n,
                                   bounds=(0.0, args.g_max))  # fmt: skip
    folds = low.of("fold")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    g, sm = low.param(), low.x.mean(axis=1)
    ax.plot(np.where(low.stable, g, np.nan), sm, "tab:blue", lw=2, label="low branch, stable")
    ax.plot(np.where(low.stable, np.nan, g), sm, "tab:blue", ls="--", label="unstable")
    for gv, ms in zip(g_values, means, strict=True):
        ax.plot([gv] * len(ms), ms, "ko", ms=3)
    ax.plot([], [], "ko", ms=3, label="stable states (simulation + Newton)")
    ax.set(xlabel="global coupling G", ylabel="mean S over 76 regions",
           title="Reduced Wong-Wang on the TVB 76-region connectome")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig_path = out / "wong_wang_multistability.png"
    fig.savefig(fig_path, dpi=110)
    plt.close(fig)

    summary = {
        "n_regions": n,
        "G_values": [round(float(g), 4) for g in g_values],
        "n_stable_states": counts,
        "multistable_G_range": [float(multi.min()), float(multi.max())] if multi.size else None,
        "grid_step_G": float(g_values[1] - g_values[0]),
        "low_branch_first_fold_G": folds[0].params["G"] if folds else None,
        # where the continued low branch turns back (its fold, to within one step)
        "low_branch_turning_G": float(low.param().max()),
        "low_branch_status": low.status,
        "figure": str(fig_path),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
