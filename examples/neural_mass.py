"""Neural-mass and rate models: Wong–Wang fixed point, Jansen–Rit rhythms, Hopf, Kuramoto.

    python examples/neural_mass.py            # full (long records, fine frequency resolution)
    python examples/neural_mass.py --quick    # short records (CI)

Checks four published behaviours with explicit parameters, and runs a small whole-brain
model (reduced Wong–Wang E–I nodes on a random connectome with conduction delays and noise)
to show its functional connectivity. Writes ``neural_mass.png`` into ``--out``; the last
stdout line is a JSON object of the headline metrics.
"""

import argparse
import json
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402


def wong_wang(ax, duration):
    """Deco et al. (2014) E–I node with TVB's defaults: S_E ~ 0.1648, S_I ~ 0.0392."""
    m = ns.rates.ReducedWongWangEI(1)
    res = ns.rates.simulate(m, None, duration, 0.1, key=jax.random.key(0),
                            record=["S_e", "S_i", "r_e"], every=10)  # fmt: skip
    times = res.trace_times["nodes.S_e"]
    ax.plot(times, res.traces["nodes.S_e"][:, 0], label="S_E")
    ax.plot(times, res.traces["nodes.S_i"][:, 0], label="S_I")
    ax.axhline(0.1648, ls=":", c="k", lw=0.8)
    ax.axhline(0.0392, ls=":", c="k", lw=0.8)
    ax.set(title="reduced Wong–Wang E–I (TVB defaults)", xlabel="time (ms)", ylabel="gating")
    ax.legend(fontsize=8)
    return {
        "ww_S_e": round(float(res.traces["nodes.S_e"][-1, 0]), 5),
        "ww_S_i": round(float(res.traces["nodes.S_i"][-1, 0]), 5),
        "ww_r_e_hz": round(float(res.traces["nodes.r_e"][-1, 0]), 4),
    }


def jansen_rit(ax_t, ax_f, duration, skip=2000.0):
    """Jansen & Rit (1995): alpha (~11 Hz) at v0 = 6 mV, ~6.8 Hz at v0 = 5.52 mV."""
    out = {}
    m = ns.rates.JansenRit(2, v0=np.array([6.0, 5.52]))  # two isolated columns, one run
    res = ns.rates.simulate(m, None, duration, 0.1, key=jax.random.key(0), record=["eeg"],
                            every=10)  # fmt: skip
    times = res.trace_times["nodes.eeg"]
    keep = times > skip
    f, p = ns.analysis.power_spectrum(res.traces["nodes.eeg"][keep], 1.0)
    peaks = np.asarray(ns.analysis.peak_frequency(res.traces["nodes.eeg"][keep], 1.0))
    for k, (v0, tag) in enumerate(((6.0, "6"), (5.52, "5_52"))):
        show = (times > skip) & (times < skip + 1000.0)
        ax_t.plot(times[show], res.traces["nodes.eeg"][show, k], label=f"v0 = {v0} mV")
        ax_f.semilogy(f, np.asarray(p[:, k]), label=f"v0 = {v0}: {peaks[k]:.2f} Hz")
        out[f"jr_peak_hz_v0_{tag}"] = round(float(peaks[k]), 3)
    out["jr_resolution_hz"] = round(1000.0 / (duration - skip), 3)
    ax_t.set(title="Jansen–Rit: y1 - y2", xlabel="time (ms)", ylabel="mV")
    ax_t.legend(fontsize=8)
    ax_f.set(title="Jansen–Rit spectrum", xlabel="Hz", xlim=(0, 30))
    ax_f.legend(fontsize=8)
    return out


def hopf(ax, duration, f0=20.0, a=0.01):
    """Stuart–Landau node: limit cycle of amplitude sqrt(a) at f0 above, decay at rate a below."""
    m = ns.rates.StuartLandau(2, a=np.array([a, -a]), omega=2 * np.pi * f0 * 1e-3,
                              init={"x": 0.02, "y": 0.0})  # fmt: skip
    res = ns.rates.simulate(m, None, duration, 0.1, key=jax.random.key(0),
                            integrator=ns.integrators.RK4())  # fmt: skip
    r = np.hypot(res.traces["nodes.x"], res.traces["nodes.y"])
    times = res.trace_times["nodes.x"]
    late = times > duration / 2
    ax.plot(times, res.traces["nodes.x"][:, 0], lw=0.6, label=f"a = {a}/ms")
    ax.plot(times, res.traces["nodes.x"][:, 1], lw=0.6, label=f"a = {-a}/ms")
    ax.set(title="Stuart–Landau (Hopf)", xlabel="time (ms)", ylabel="x")
    ax.legend(fontsize=8)
    decay = np.polyfit(times[late], np.log(r[late, 1]), 1)[0]
    return {
        "hopf_amplitude": round(float(r[-1, 0]), 6),
        "hopf_amplitude_expected": round(float(np.sqrt(a)), 6),
        "hopf_peak_hz": round(
            float(ns.analysis.peak_frequency(res.traces["nodes.x"][late, 0], 0.1)), 3
        ),
        "hopf_set_hz": f0,
        "hopf_decay_rate_per_ms": round(float(decay), 6),
    }


def kuramoto(ax, n, duration, dt=0.5, sigma=0.005):
    """All-to-all Kuramoto, normal frequencies: order rises past K_c = 2/(pi g(0))."""
    q = (np.arange(n) + 0.5) / n
    from statistics import NormalDist

    omega = sigma * np.array([NormalDist().inv_cdf(x) for x in q])
    k_c = 2.0 / (np.pi * (1.0 / (sigma * np.sqrt(2 * np.pi))))
    model = ns.rates.Kuramoto(n, omega=omega)
    cpl = ns.rates.KuramotoCoupling(np.ones((n, n)) / n, G=0.0)
    s0 = ns.rates.init_state(model, cpl, jax.random.key(0), dt)
    n_steps = int(duration / dt)

    def mean_r(G):
        c = eqx.tree_at(lambda c: c.G, cpl, G)
        _, tr = ns.rates.run(model, c, s0, n_steps, dt, key=jax.random.key(1), every=10)
        r = ns.analysis.kuramoto_order(tr.traces["nodes.theta"])
        return jnp.mean(r[r.shape[0] // 2 :])

    ratios = np.linspace(0.0, 3.0, 13)
    r = np.asarray(jax.jit(jax.vmap(mean_r))(jnp.asarray(ratios * k_c)))
    ax.plot(ratios, r, "o-")
    ax.axvline(1.0, ls=":", c="k")
    ax.set(title=f"Kuramoto, N = {n}", xlabel="K / K_c", ylabel="order parameter r")
    return {
        "kuramoto_n": n,
        "kuramoto_k_c": round(k_c, 6),
        "kuramoto_r_at_0.5Kc": round(float(r[2]), 3),
        "kuramoto_r_at_2Kc": round(float(r[8]), 3),
    }


def whole_brain(ax, n, duration):
    """Wong–Wang E–I nodes on a random connectome with distance delays and noise: FC."""
    rng = np.random.default_rng(0)
    sc = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    sc = np.triu(sc, 1)
    sc = (sc + sc.T) / np.max(sc.sum(axis=1))
    pos = rng.random((n, 3)) * 100.0  # mm
    delays = np.linalg.norm(pos[:, None] - pos[None, :], axis=-1) / 5.0  # 5 m/s -> ms
    m = ns.rates.ReducedWongWangEI(n)
    cpl = ns.rates.LinearCoupling(sc, G=0.6, delays=delays)
    noise = ns.rates.AdditiveNoise({"S_e": 0.0032, "S_i": 0.0032})  # per sqrt(ms)
    res = ns.rates.simulate(m, cpl, duration, 0.1, key=jax.random.key(2), noise=noise,
                            record=["S_e"], every=10)  # fmt: skip
    keep = res.trace_times["nodes.S_e"] > 1000.0
    fc = np.asarray(ns.analysis.functional_connectivity(res.traces["nodes.S_e"][keep]))
    im = ax.imshow(fc, vmin=-1, vmax=1, cmap="RdBu_r")
    plt.colorbar(im, ax=ax, fraction=0.046)
    ax.set(title=f"whole brain ({n} nodes): FC of S_E", xlabel="node", ylabel="node")
    return {
        "brain_nodes": n,
        "brain_max_delay_ms": round(float(delays.max()), 2),
        "brain_fc_sc_similarity": round(float(ns.analysis.fc_similarity(fc, sc)), 3),
        "brain_run_s": round(res.run_s, 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short records (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    q = args.quick

    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    metrics = {"quick": q}
    metrics |= wong_wang(axes[0, 0], 2000.0 if q else 5000.0)
    metrics |= jansen_rit(axes[0, 1], axes[0, 2], 6000.0 if q else 22000.0)
    metrics |= hopf(axes[1, 0], 2000.0)
    metrics |= kuramoto(axes[1, 1], 64 if q else 200, 4000.0 if q else 8000.0)
    metrics |= whole_brain(axes[1, 2], 20 if q else 40, 5000.0 if q else 60000.0)
    fig.tight_layout()
    fig.savefig(out / "neural_mass.png", dpi=110)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
