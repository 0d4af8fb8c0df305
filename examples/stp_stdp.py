"""Short- and long-term plasticity: Tsodyks–Markram PSC trains, the STDP window, and the
frequency dependence of triplet STDP (Pfister & Gerstner 2006, visual-cortex minimal model).

    python examples/stp_stdp.py            # full
    python examples/stp_stdp.py --quick    # CI (a few seconds)

Writes ``stp_stdp.png``; the last stdout line is a JSON object of headline metrics: the
largest errors against the closed forms (relative for PSC amplitudes, in units of A+ for
the STDP window) and the triplet rule's weight changes.
"""

import argparse
import json
import pathlib

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402


def stp_trains(dt=0.1, w=50.0, tau_s=3.0):
    """A 20 Hz train of 8 spikes and a recovery spike 500 ms later, through STP synapses."""
    times = np.concatenate([50.0 + 50.0 * np.arange(8), [900.0]])
    sets = {  # (U, tau_rec, tau_facil)
        "depressing (U=0.5, tau_rec=800 ms)": (0.5, 800.0, 0.0),
        "facilitating (U=0.1, tau_rec=100 ms, tau_facil=1000 ms)": (0.1, 100.0, 1000.0),
    }
    U, tr, tf = (np.array(v) for v in zip(*sets.values(), strict=True))
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.inputs.SpikeTimes(2, [times, times], dt=dt))
    b.add_population("cell", ns.neurons.LIF(2, tau_m=20.0, g_l=10.0, e_l=-70.0, v_th=1e6))
    b.connect(
        "src",
        "cell",
        ns.connectivity.from_dense(w * np.eye(2)),
        synapse=ns.synapses.Exponential(tau_s),
        dynamics=ns.plasticity.TsodyksMarkram(U=U, tau_rec=tr, tau_facil=tf),
    )
    res = ns.simulate(b.build(), 1000.0, dt, key=jax.random.key(1), record=["cell.syn0.g"])
    g = res.traces["cell.syn0.g"].astype(np.float64)
    k = np.round(times / dt).astype(int)
    jumps = g[k] - g[k - 1] * np.exp(-dt / tau_s)
    err = 0.0
    for j in range(2):
        ref = w * ns.plasticity.tsodyks_markram_train(U[j], tr[j], tf[j], np.diff(times))[0]
        err = max(err, float(np.max(np.abs(jumps[:, j] / ref - 1))))
    return res.trace_times["cell.syn0.g"], g, list(sets), err


def stdp_window(dt=0.1, n_dt=41):
    """One pre/post pairing per synapse, lags -50..50 ms, through a network.

    Post neurons are forced to fire by a one-step current pulse; pre spikes come from a
    spike-time generator. Pair rule, additive: dw = A+ exp(-lag/tau+) (lag > 0), -A- exp(lag/
    tau-) (lag < 0), 0 at lag 0 (simultaneous spikes do not interact).
    """
    a_plus, a_minus, tau_p, tau_m = 0.01, 0.012, 16.8, 33.7
    lags = np.linspace(-50.0, 50.0, n_dt)
    t_post = 100.0
    n_steps = int(200.0 / dt)
    pulses = np.zeros((n_steps, n_dt), np.float32)
    pulses[int(round(t_post / dt))] = 1e5  # ~100 mV in one step
    rule = ns.plasticity.PairSTDP(
        tau_plus=tau_p, tau_minus=tau_m, a_plus=a_plus, a_minus=a_minus, w_min=0.0, w_max=1.0
    )
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("pre", ns.inputs.SpikeTimes(n_dt, [[t_post - lag] for lag in lags], dt=dt))
    b.add_population("post", ns.neurons.LIF(n_dt, tau_m=10.0, t_ref=5.0))
    b.add_input("post", ns.inputs.ArrayCurrent(pulses))
    name = b.connect(
        "pre",
        "post",
        ns.connectivity.from_dense(0.5 * np.eye(n_dt)),
        synapse=ns.synapses.Exponential(2.0),
        dynamics=rule,
    )
    net = b.build()
    res = ns.simulate(net, n_steps * dt, dt, key=jax.random.key(1))
    dw = np.asarray(ns.plasticity.plastic_weights(net, res.final_state, name)) - 0.5
    ltd = np.where(lags < 0, -a_minus * np.exp(lags / tau_m), 0.0)
    ref = np.where(lags > 0, a_plus * np.exp(-lags / tau_p), ltd)
    return lags, dw, ref, float(np.max(np.abs(dw - ref)) / a_plus)


def triplet_frequency(freqs, n_pairs, dt=0.5):
    """Sjöström-style pairing protocol (n_pairs pairs at each frequency, lag +-10 ms) with
    the minimal all-to-all visual-cortex triplet model; weight change in units of w_scale."""
    rule = ns.plasticity.TripletSTDP.from_pfister_gerstner(
        "visual_cortex", model="minimal", w_scale=1.0, w_min=-10.0, w_max=10.0
    )
    conn = ns.connectivity.from_dense(np.eye(2))  # synapse 0: +10 ms, synapse 1: -10 ms
    out = {}
    for f in freqs:
        period = int(round(1000.0 / f / dt))
        n_steps = n_pairs * period + int(200 / dt)
        pre = np.zeros((n_steps, 2), np.float32)
        post = np.zeros((n_steps, 2), np.float32)
        t0 = np.arange(n_pairs) * period + int(20 / dt)
        lag = int(round(10.0 / dt))
        pre[t0, 0], post[t0 + lag, 0] = 1, 1  # pre before post
        post[t0, 1], pre[t0 + lag, 1] = 1, 1  # post before pre

        @jax.jit
        def go(pre, post):
            bound = rule.bind(conn)
            st = bound.init(None, dt)

            def body(st, sp):
                drive = ns.network.ProjectionDrive(conn, sp[0], sp[1])
                return bound.step(st, drive, 0, dt, None)[0], None

            return jax.lax.scan(body, st, (pre, post))[0]["w"][:2]

        out[f] = np.asarray(go(jnp.asarray(pre), jnp.asarray(post))) - 1.0
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    freqs = [1.0, 10.0, 20.0, 40.0, 50.0] if args.quick else [0.1, 1, 5, 10, 20, 30, 40, 50]
    n_pairs = 15 if args.quick else 60

    t, g, labels, stp_err = stp_trains()
    lags, dw, ref, win_err = stdp_window(n_dt=21 if args.quick else 101)
    trip = triplet_frequency(freqs, n_pairs)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for j, lab in enumerate(labels):
        axes[0].plot(t, g[:, j], label=lab)
    axes[0].set(xlabel="time (ms)", ylabel="PSC (pA)", title="Tsodyks–Markram STP")
    axes[0].legend(fontsize=7)
    axes[1].plot(lags, dw, "o", label="simulated")
    axes[1].plot(lags, ref, "-", label="closed form")
    axes[1].axhline(0, color="gray", lw=0.5)
    axes[1].set(xlabel="t_post - t_pre (ms)", ylabel="Δw", title="pair STDP window")
    axes[1].legend()
    fs = list(trip)
    axes[2].plot(fs, [trip[f][0] for f in fs], "o-", label="+10 ms (pre→post)")
    axes[2].plot(fs, [trip[f][1] for f in fs], "s-", label="−10 ms (post→pre)")
    axes[2].axhline(0, color="gray", lw=0.5)
    axes[2].set(
        xlabel="pairing frequency (Hz)",
        ylabel=f"Δw ({n_pairs} pairings)",
        title="triplet STDP (minimal, visual cortex)",
    )
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(out / "stp_stdp.png", dpi=110)

    metrics = {
        "stp_psc_max_rel_err": stp_err,
        "stdp_window_max_err_over_a_plus": win_err,
        "triplet_n_pairs": n_pairs,
        "triplet_dw_plus10_low_f": float(trip[fs[0]][0]),
        "triplet_dw_minus10_low_f": float(trip[fs[0]][1]),
        "triplet_dw_plus10_50hz": float(trip[50.0][0]),
        "triplet_dw_minus10_50hz": float(trip[50.0][1]),
    }
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
