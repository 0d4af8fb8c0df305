"""Phase planes and bifurcation diagrams of neurosim models with ``ns.dynamics``.

* AdEx (Naud et al. 2008 "tonic" preset) in its V-w plane below the rheobase: nullclines,
  arrows, trajectories, the stable rest state and the saddle (the spike/reset rule is not part
  of the flow).
* The AdEx rest state continued in the input current up to the saddle-node (fold), compared
  with the closed-form ``AdEx.rheobase()``.
* FitzHugh-Nagumo continued in the input: the two Hopf points (compared with the closed form
  ``v^2 = 1 - eps b``) and the limit cycle's amplitude by shooting between them.

Figures go to ``--out`` (default: a temporary directory); the last line printed is a JSON
summary. ``--quick`` computes fewer limit cycles (for CI).

Run: ``python examples/dynamics_phase_plane_bifurcation.py --quick``
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile
import time

import numpy as np

import neurosim as ns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="output directory (default: a temp dir)")
    ap.add_argument("--quick", action="store_true", help="fewer limit cycles (CI)")
    args = ap.parse_args()
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="neurosim_dynamics_"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # --- AdEx: V-w phase plane below the rheobase, then the fold in the input current
    adex = ns.neurons.AdEx.from_presets("tonic")
    rheo = float(adex.rheobase()[0])
    s_adex = ns.dynamics.system(adex)
    box = [(-85.0, -35.0), (-50.0, 250.0)]
    i_below = 0.9 * rheo
    pp = ns.dynamics.phase_plane(
        s_adex, box, {"i_ext": i_below}, starts=[[-50.0, 0.0], [-47.0, 60.0], [-80.0, 150.0]],
        t_max=150.0, dt=0.05,
    )  # fmt: skip
    rest = pp.fixed_points.x[np.argmin(pp.fixed_points.x[:, 0])]
    br_adex = ns.dynamics.continuation(
        s_adex, "i_ext", rest, {"i_ext": i_below}, ds=0.2, n_steps=150, box=box,
        scale=[1.0, 10.0, 10.0], bounds=(0.5 * rheo, 1.2 * rheo), ds_max=0.5,
    )  # fmt: skip
    folds = br_adex.of("fold")

    # --- FitzHugh-Nagumo: Hopf points and limit cycles between them
    fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
    br_fhn = ns.dynamics.continuation(fhn, "i_ext", [-1.2, -0.6], {"i_ext": 0.0}, ds=0.05,
                                      ds_max=0.05, n_steps=80, bounds=(-0.2, 1.8))  # fmt: skip
    hopf = br_fhn.of("hopf")
    i_h = [h.params["i_ext"] for h in hopf]
    eps, b = 0.08, 0.8
    v_h = np.sqrt(1 - eps * b) * np.array([-1.0, 1.0])
    i_h_ref = -(v_h - v_h**3 / 3 - (v_h + 0.7) / b)
    n_lc = 4 if args.quick else 12
    values = np.linspace(i_h[0], i_h[1], n_lc + 2)[1:-1] if len(i_h) == 2 else np.array([])
    cycles = [ns.dynamics.limit_cycle(fhn, [0.0, 0.0], {"i_ext": float(v)}, t_transient=300.0,
                                      dt=0.05, n_points=600) for v in values]  # fmt: skip

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    ns.viz.phase_plane(pp, ax=axes[0], title=f"AdEx (tonic) V-w plane, I = {i_below:.0f} pA")
    ns.viz.bifurcation(br_adex, ax=axes[1], title=f"AdEx rest state; rheobase {rheo:.1f} pA")
    ns.viz.bifurcation(br_fhn, ax=axes[2], cycles=(values, cycles),
                       title="FitzHugh-Nagumo: Hopf points, limit cycles")  # fmt: skip
    fig.tight_layout()
    fig_path = out / "dynamics_phase_plane_bifurcation.png"
    fig.savefig(fig_path, dpi=110)
    plt.close(fig)
    ns.viz.phase_plane(pp, out / "adex_phase_plane.png", title="AdEx V-w plane")
    ns.viz.bifurcation(br_fhn, out / "fhn_bifurcation.png", cycles=(values, cycles))

    summary = {
        "adex_rheobase_closed_form_pA": rheo,
        "adex_fold_pA": folds[0].params["i_ext"] if folds else None,
        "adex_fixed_points_below_rheobase": list(pp.fixed_points.kind),
        "fhn_hopf_i": i_h,
        "fhn_hopf_i_closed_form": i_h_ref.tolist(),
        "fhn_cycle_periods_ms": [round(c.period, 3) for c in cycles],
        "fhn_cycle_v_amplitude": [round(float(c.amplitude[0]), 4) for c in cycles],
        "cycles_converged": int(sum(c.converged for c in cycles)),
        "figure": str(fig_path),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
