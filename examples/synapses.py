"""Synaptic kinetics, receptors and gap junctions against their closed forms; a mixed network.

    python examples/synapses.py            # mixed network: 1 s, with and without NMDA
    python examples/synapses.py --quick    # mixed network: 200 ms (CI)

Panels: PSPs of exponential, alpha and dual-exponential currents on an LIF (simulated vs the
continuous closed forms), the Jahr–Stevens Mg²⁺ block, two cells coupled by a gap junction
(difference mode vs its closed form), and the mixed E–I network's rates with/without NMDA.
Writes ``OUT/synapses.png``; the last stdout line is a JSON object of headline metrics.
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

DT, TAU_M, G_L, E_L = 0.1, 20.0, 10.0, -70.0
C_M = TAU_M * G_L


def psp_traces(n_steps=600, w=100.0, tau_s=2.0):
    """One presynaptic spike at t = 0 onto three LIFs with exp, alpha and dual-exp currents."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    # Starts above threshold (one spike in step 0), then refractory for the whole run.
    b.add_population("pre", ns.neurons.LIF(1, v_init=0.0, t_ref=1e4))
    kinetics = {
        "exp": ns.synapses.Exponential(tau_s),
        "alpha": ns.synapses.Alpha(tau_s),
        "dual": ns.synapses.DualExponential(1.0, 5.0),
    }
    for name, kin in kinetics.items():
        b.add_population(name, ns.neurons.LIF(1, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0))
        b.connect("pre", name, ns.connectivity.from_dense([[w]]), synapse=kin)
    net = b.build()
    _, out = ns.run(
        net,
        net.init_state(jax.random.key(1), DT),
        n_steps,
        DT,
        key=jax.random.key(2),
        record=[f"{k}.v" for k in kinetics],
    )
    s = DT * np.arange(n_steps)  # sample m is m dt after the conductance onset
    sim = {k: np.asarray(out.traces[f"{k}.v"][:, 0]) - E_L for k in kinetics}

    def exp_psp(tau):  # Rotter & Diesmann (1999)
        return (w / C_M) * TAU_M * tau / (tau - TAU_M) * (np.exp(-s / tau) - np.exp(-s / TAU_M))

    a = 1.0 / tau_s - 1.0 / TAU_M
    alpha = (w * np.e / (C_M * tau_s)) * (
        (np.exp(-s / TAU_M) - np.exp(-s / tau_s)) / a**2 - s * np.exp(-s / tau_s) / a
    )
    tp = 5.0 * np.log(5.0) / 4.0
    norm = 1.0 / (np.exp(-tp / 5.0) - np.exp(-tp / 1.0))
    exact = {
        "exp": exp_psp(tau_s),
        "alpha": alpha,
        "dual": norm * (exp_psp(5.0) - exp_psp(1.0)),
    }
    return s, sim, exact


def gap_pair(g=5.0, n_steps=300):
    b = ns.NetworkBuilder()
    b.add_population(
        "P", ns.neurons.LIF(2, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0, v_init=[-60.0, -75.0])
    )
    b.gap_junctions("P", np.array([[0.0, g], [g, 0.0]]))
    net = b.build()
    _, out = ns.run(
        net,
        net.init_state(jax.random.key(0), DT),
        n_steps,
        DT,
        key=jax.random.key(1),
        record=["P.v"],
    )
    v = np.asarray(out.traces["P.v"])
    t = DT * np.arange(1, n_steps + 1)
    return t, v, 15.0 * np.exp(-t * (G_L + 2 * g) / C_M)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short mixed-network run (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    duration = 200.0 if args.quick else 1000.0
    metrics = {}

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    s, sim, exact = psp_traces()
    ax = axes[0, 0]
    for k in sim:
        ax.plot(s, exact[k], "k-", lw=0.8)
        ax.plot(s[::20], sim[k][::20], "o", ms=3, label=k)
        err = np.abs(sim[k] - exact[k]).max() / exact[k].max()
        metrics[f"psp_{k}_max_rel_err"] = round(float(err), 4)
    ax.set(xlabel="time after onset (ms)", ylabel="PSP (mV)", title="PSPs: simulated vs exact")
    ax.legend()

    v = np.linspace(-100.0, 20.0, 241)
    ax = axes[0, 1]
    for mg in (0.5, 1.0, 2.0):
        ax.plot(v, np.asarray(ns.synapses.mg_block(v, mg)), label=f"[Mg] = {mg} mM")
    ax.set(xlabel="v (mV)", ylabel="B(v)", title="NMDA Mg block (Jahr & Stevens 1990)")
    ax.legend()

    t, vg, diff_exact = gap_pair()
    ax = axes[1, 0]
    ax.plot(t, vg[:, 0], label="cell 1")
    ax.plot(t, vg[:, 1], label="cell 2")
    ax.plot(t, vg[:, 0] - vg[:, 1] + E_L, label="difference + E_L")
    ax.plot(t, diff_exact + E_L, "k--", lw=0.8, label="closed form")
    ax.set(xlabel="time (ms)", ylabel="v (mV)", title="Gap junction, g = 5 nS")
    ax.legend(fontsize=8)
    metrics["gap_diff_max_err_mv"] = round(float(np.abs(vg[:, 0] - vg[:, 1] - diff_exact).max()), 4)

    ax = axes[1, 1]
    for w_nmda, color in ((1.0, "C0"), (0.0, "C3")):
        net = ns.models.mixed_receptors(100, key=jax.random.key(0), nmda_weight=w_nmda)
        res = ns.simulate(net, duration, DT, key=jax.random.key(7))
        r = res.group_rates_hz
        label = "with NMDA" if w_nmda else "without NMDA"
        sel = (res.spike_indices >= 100) & (res.spike_indices < 200)  # E cells
        y = res.spike_indices[sel] - 100 + (0 if w_nmda else 85)
        text = f"{label}: E {r['E']:.1f}, I {r['I']:.1f} Hz"
        ax.plot(res.spike_times[sel], y, "|", ms=2, color=color, label=text)
        tag = "nmda" if w_nmda else "no_nmda"
        metrics[f"mixed_{tag}_rate_e_hz"] = round(r["E"], 2)
        metrics[f"mixed_{tag}_rate_i_hz"] = round(r["I"], 2)
    ax.set(xlabel="time (ms)", ylabel="E cell (runs stacked)", title="Mixed network")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out / "synapses.png", dpi=110)
    metrics["duration_ms"] = duration
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
