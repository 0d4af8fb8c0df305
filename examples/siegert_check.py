"""LIF neurons under white-noise input: simulated firing rates vs the Siegert formula
(diffusion approximation) across mean input mu and noise sigma, sub- to supra-threshold.

    python examples/siegert_check.py            # full: 9 x 3 regimes, 200 neurons, 4 s
    python examples/siegert_check.py --quick    # CI: 5 x 2 regimes, 60 neurons, 1 s

Theta = 20 mV, V_reset = 10 mV, tau_m = 20 ms, t_ref = 2 ms (Brunel 2000's single-neuron
parameters), dt = 0.05 ms. Writes ``siegert_check.png``; the last stdout line is a JSON object
with the largest relative deviation (regimes above 2 Hz) from the Siegert rate and from the
Siegert rate with the discrete-time threshold correction (+0.5826 sigma sqrt(dt/tau_m)).
"""

import argparse
import json
import pathlib

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402

TAU, G_L, THETA, V_R, T_REF = 20.0, 10.0, 20.0, 10.0, 2.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        mus, sigmas, m, duration = np.linspace(12.0, 28.0, 5), np.array([2.0, 6.0]), 60, 1100.0
    else:
        mus, sigmas, m, duration = np.linspace(10.0, 30.0, 9), np.array([2.0, 4.0, 6.0]), 200, 4100
    dt, burn = 0.05, 100.0
    mu_g, sg_g = np.meshgrid(mus, sigmas, indexing="ij")  # (n_mu, n_sigma)
    mu_n, sg_n = np.repeat(mu_g.ravel(), m), np.repeat(sg_g.ravel(), m)

    b = ns.NetworkBuilder()
    b.add_population(
        "N",
        ns.neurons.LIF(
            mu_n.size, tau_m=TAU, g_l=G_L, e_l=0.0, v_th=THETA, v_reset=V_R, t_ref=T_REF, v_init=V_R
        ),
    )
    # mu (mV) = E_L + I/g_L; sigma (mV) = sigma_I / (g_L sqrt(tau_m))
    b.add_input("N", ns.inputs.WhiteNoiseCurrent(mu_n * G_L, sg_n * G_L * np.sqrt(TAU)))
    res = ns.simulate(b.build(), duration, dt, key=jax.random.key(0))
    keep = res.spike_times >= burn
    counts = np.bincount(res.spike_indices[keep], minlength=mu_n.size).reshape(-1, m).sum(1)
    rate = (counts / (m * (duration - burn) * 1e-3)).reshape(mu_g.shape)

    theory = ns.theory.siegert_rate(mu_g, sg_g, TAU, THETA, V_R, T_REF)
    theta_eff = THETA + 0.5826 * sg_g * np.sqrt(dt / TAU)  # Siegmund's correction
    corrected = ns.theory.siegert_rate(mu_g, sg_g, TAU, theta_eff, V_R, T_REF)
    ok = theory > 2.0
    err = np.abs(rate / theory - 1)[ok]
    err_c = np.abs(rate / corrected - 1)[ok]

    fig, ax = plt.subplots(figsize=(6, 4.5))
    mu_fine = np.linspace(mus[0], mus[-1], 200)
    for j, s in enumerate(sigmas):
        line = ax.plot(
            mu_fine,
            ns.theory.siegert_rate(mu_fine, s, TAU, THETA, V_R, T_REF),
            label=f"Siegert, σ = {s:g} mV",
        )
        ax.plot(mus, rate[:, j], "o", color=line[0].get_color(), label=f"simulated, σ = {s:g}")
    ax.axvline(THETA, color="gray", lw=0.5)
    ax.set(xlabel="μ (mV)", ylabel="rate (Hz)", title="LIF with white noise vs Siegert")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "siegert_check.png", dpi=110)
    print(
        json.dumps(
            {
                "n_regimes": int(ok.sum()),
                "neurons_per_regime": m,
                "max_rel_err": float(err.max()),
                "max_rel_err_corrected": float(err_c.max()),
                "mean_rel_err": float(err.mean()),
                "run_s": round(res.run_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
