"""Phase planes and bifurcation diagrams of neurosim models with ``ns.dynamics``.

* AdEx (Naud et al. 2008 "tonic" preset) in its V-w plane below the rheobase: nullclines,
  arrows, trajectories, the stable rest state and the saddle (the spike/reset rule is not part
  of the flow).
* The AdEx rest state continued in the input current up to the saddle-node (fold), compared
  with the closed-form ``AdEx.rheobase()``.
* FitzHugh-Nagumo continued in the input: the two Hopf points (compared with the closed form
  ``v^2 = 1 - eps b``) and the limit cycle's amplitude by shooting between them.
* Morris-Lecar, both classes of Rinzel & Ermentrout (1989): the class I ("snic") set below
  its saddle-node (node, saddle, source on the invariant circle) and the class II ("hopf")
  set past its Hopf point (unstable focus inside the cycle), each with its branch in I.
* Jansen-Rit continued in the afferent rate p: Hopf points and folds, compared with
  Grimbert & Faugeras (2006): Hopf at p = -12.15, 89.83, 315.70 Hz.

Runs in float64 (continuations locate the points to ~1e-12).

Figures go to ``--out`` (default: a temporary directory); the last line printed is a JSON
summary. ``--quick`` computes fewer limit cycles (for CI).

Run: ``python examples/phase_plane_bifurcation.py --quick``
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

ML_BOX = [(-75.0, 45.0), (-0.05, 0.8)]
JR_HOPF_GF2006_HZ = [-12.15, 89.83, 315.70]  # Grimbert & Faugeras (2006), Fig. 3


def morris_lecar(name: str, frac: float, quick: bool):
    """Branch in I of one Morris-Lecar set, and its phase plane at ``frac`` x the first
    bifurcation current (below the fold for class I, above the Hopf point for class II)."""
    s = ns.dynamics.system(ns.neurons.MorrisLecar.from_set(name))
    fp = ns.dynamics.fixed_points(s, ML_BOX, {"i_ext": 0.0})
    br = ns.dynamics.continuation(
        s,
        "i_ext",
        fp.x[0],
        {"i_ext": 0.0},
        ds=1.0,
        n_steps=150,
        box=ML_BOX,
        scale=[1.0, 0.01, 1.0],
        bounds=(-10.0, 150.0),
    )
    i_b = br.events[0].params["i_ext"]
    i_pp = frac * i_b
    pp = ns.dynamics.phase_plane(s, ML_BOX, {"i_ext": i_pp}, starts=[[-30.0, 0.0], [0.0, 0.4]],
                                 t_max=200.0 if quick else 600.0, dt=0.2)  # fmt: skip
    return br, pp, i_pp


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

    # --- Morris-Lecar: class I (saddle-node on invariant circle) and class II (Hopf)
    ml = {name: morris_lecar(name, frac, args.quick) for name, frac in (("snic", 0.97),
                                                                       ("hopf", 1.05))}  # fmt: skip

    # --- Jansen-Rit: fixed points over the afferent rate p (1/ms; x 1000 for Hz)
    jr = ns.dynamics.system(ns.rates.JansenRit(1))
    br_jr = ns.dynamics.continuation(
        jr,
        "p",
        np.zeros(6),
        {"p": -0.1},
        ds=0.05,
        n_steps=220,
        bounds=(-0.15, 0.4),
        scale=[0.1, 1, 1, 1, 1, 1, 0.01],
    )
    jr_hz = {k: sorted(round(1e3 * e.params["p"], 3) for e in br_jr.of(k))
             for k in ("hopf", "fold")}  # fmt: skip

    fig, axes = plt.subplots(2, 4, figsize=(21, 9))
    axes = axes.ravel()
    ns.viz.phase_plane(pp, ax=axes[0], title=f"AdEx (tonic) V-w plane, I = {i_below:.0f} pA")
    ns.viz.bifurcation(br_adex, ax=axes[1], title=f"AdEx rest state; rheobase {rheo:.1f} pA")
    ns.viz.bifurcation(br_fhn, ax=axes[2], cycles=(values, cycles),
                       title="FitzHugh-Nagumo: Hopf points, limit cycles")  # fmt: skip
    ns.viz.bifurcation(br_jr, ax=axes[3], var="y1",
                       title="Jansen-Rit in p (1/ms): folds and Hopf points")  # fmt: skip
    for k, (name, label) in enumerate((("snic", "class I (SNIC)"), ("hopf", "class II (Hopf)"))):
        br, pp_ml, i_pp = ml[name]
        ns.viz.phase_plane(pp_ml, ax=axes[4 + 2 * k],
                           title=f"Morris-Lecar {label}, I = {i_pp:.1f} pA")  # fmt: skip
        ns.viz.bifurcation(br, ax=axes[5 + 2 * k], title=f"Morris-Lecar {label} in I")
    fig.tight_layout()
    fig_path = out / "phase_plane_bifurcation.png"
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
        "morris_lecar_class_I_first_event": [
            ml["snic"][0].events[0].kind,
            ml["snic"][0].events[0].params["i_ext"],
        ],
        "morris_lecar_class_II_first_event": [
            ml["hopf"][0].events[0].kind,
            ml["hopf"][0].events[0].params["i_ext"],
        ],
        "morris_lecar_phase_plane_kinds": {k: list(v[1].fixed_points.kind) for k, v in ml.items()},
        "jansen_rit_hopf_hz": jr_hz["hopf"],
        "jansen_rit_hopf_hz_grimbert_faugeras_2006": JR_HOPF_GF2006_HZ,
        "jansen_rit_fold_hz": jr_hz["fold"],
        "figure": str(fig_path),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
