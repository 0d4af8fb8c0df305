"""Whole-brain models on TVB's 76-region connectome: Wong–Wang nodes and the DTB spiking design.

    python examples/whole_brain.py            # 76 regions, 200 LIF neurons per region
    python examples/whole_brain.py --quick    # CI: short runs, 12 regions x 80 neurons (b)

Needs TVB's sample data (``pip install neurosim[data]``). Builds (a) 76 reduced Wong–Wang E–I
nodes (Deco et al. 2014) coupled by the connectome with 3 m/s conduction delays, simulated with
``ns.rates.simulate``, and (b) the Digital Twin Brain design -- one E/I LIF population per
region, local E/I wiring, long-range E->E synapses whose counts follow the connectome, with
tract-length delays -- simulated with ``ns.simulate``. Reports the functional connectivity (FC)
of both and its correlation with the structural weights (upper triangles). Writes
``whole_brain_connectome.png``, ``whole_brain_activity.png``, ``whole_brain_fc_rates.png`` and
``whole_brain_fc_spiking.png`` into ``--out``; the last stdout line is a JSON object.
"""

import argparse
import json
import pathlib
import time

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402

VELOCITY = 3.0  # m/s (TVB's default conduction speed)


def rates_part(con, duration, dt=0.5, skip=1000.0):
    """(a) Reduced Wong–Wang E–I nodes, one per region, noise-driven around the low state."""
    net = ns.connectome.rate_network(con, G=0.3, velocity=VELOCITY, normalize="row_sum")
    noise = ns.rates.AdditiveNoise({"S_e": 0.0032, "S_i": 0.0032})  # per sqrt(ms)
    res = ns.rates.simulate(
        net.model, net.coupling, duration, dt, key=jax.random.key(2), noise=noise,
        record=["S_e", "r_e"], every=20, progress=False,
    )  # fmt: skip
    keep = res.trace_times["nodes.S_e"] > skip
    fc = np.asarray(ns.analysis.functional_connectivity(res.traces["nodes.S_e"][keep]))
    return net, res, keep, fc


def spiking_part(con, duration, n_per_region, k, skip=100.0):
    """(b) DTB design: E/I LIF per region, long-range E->E with tract-length delays."""
    t0 = time.perf_counter()
    brain = ns.connectome.dtb_network(
        con, neurons_per_region=n_per_region, k_e=k[0], k_i=k[1], k_ext=k[2],
        velocity=VELOCITY, key=jax.random.key(3),
    )  # fmt: skip
    build_s = time.perf_counter() - t0
    res = ns.simulate(brain.network, duration, 0.1, key=jax.random.key(4), progress=False)
    t, r = brain.layout.region_rates(res, bin_ms=10.0)
    keep = t > skip
    fc = np.asarray(ns.analysis.functional_connectivity(r[keep]))
    return brain, res, t, r, keep, fc, build_s


def activity_figure(path, res_a, keep_a, t_b, r_b, labels, n_show=8):
    fig, (ax_a, ax_b) = plt.subplots(2, 1, figsize=(10, 7))
    show = np.linspace(0, len(labels) - 1, min(n_show, len(labels))).astype(int)
    for k in show:
        t_a = res_a.trace_times["nodes.r_e"][keep_a]
        ax_a.plot(t_a, res_a.traces["nodes.r_e"][keep_a, k], lw=0.6, label=labels[k])
    ax_a.set(title="(a) Wong–Wang E–I nodes: excitatory rate r_E", xlabel="time (ms)",
             ylabel="Hz")  # fmt: skip
    ax_a.legend(fontsize=6, ncol=4, loc="upper right")
    im = ax_b.imshow(r_b.T, aspect="auto", cmap="viridis", interpolation="nearest",
                     extent=(t_b[0], t_b[-1], r_b.shape[1] - 0.5, -0.5))  # fmt: skip
    fig.colorbar(im, ax=ax_b, label="E rate (Hz, 10 ms bins)")
    ax_b.set(title="(b) DTB spiking network: E rate per region", xlabel="time (ms)",
             ylabel="region")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs, fewer neurons (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    q = args.quick
    t_start = time.perf_counter()

    con = ns.connectome.Connectome.from_tvb_data(76)
    print(con.summary())
    ns.viz.connectome(con, out / "whole_brain_connectome.png")
    sc = con.without_self_connections().weights

    # (a) rate network, all 76 regions.
    net, res_a, keep_a, fc_a = rates_part(con, 4000.0 if q else 30000.0)
    fc_sc_a = float(ns.analysis.fc_similarity(fc_a, sc))
    print(f"(a) {con.n} Wong–Wang nodes, {res_a.duration:g} ms: compile {res_a.compile_s:.1f} s, "
          f"run {res_a.run_s:.1f} s, FC-SC r = {fc_sc_a:.3f}")  # fmt: skip
    ns.viz.functional_connectivity(fc_a, out / "whole_brain_fc_rates.png", labels=con.labels,
                                   reference=sc, reference_name="SC weight",
                                   title="(a) FC of S_E (Wong–Wang)")  # fmt: skip

    # (b) DTB spiking network: all regions x 200 neurons (quick: 12 regions x 80 neurons, the
    # smallest size that keeps DTB's in-degrees 57 : 14 : 29, so the dynamics are alike).
    sub = con.subset(list(range(0, con.n, 6))[:12]) if q else con
    n_per = 80 if q else 200
    k = (57, 14, 29)
    brain, res_b, t_b, r_b, keep_b, fc_b, build_s = spiking_part(sub, 300.0 if q else 1000.0,
                                                                 n_per, k)  # fmt: skip
    sc_b = sub.without_self_connections().weights
    fin = np.isfinite(fc_b).all()
    fc_sc_b = float(ns.analysis.fc_similarity(fc_b, sc_b)) if fin else float("nan")
    idx = con.index(list(sub.labels))
    fc_ab = float(ns.analysis.fc_similarity(fc_b, fc_a[np.ix_(idx, idx)])) if fin else float("nan")
    rates_b = r_b[keep_b].mean(axis=0)
    n_syn = sum(p.conn.nnz for p in brain.network.projections)
    print(f"(b) DTB: {sub.n} regions x {n_per} LIF = {brain.layout.n} neurons, {n_syn} synapses "
          f"({int(brain.long_range_counts.sum())} long-range); build {build_s:.1f} s, compile "
          f"{res_b.compile_s:.1f} s, run {res_b.run_s:.1f} s for {res_b.duration:g} ms; E rate "
          f"{rates_b.mean():.2f} Hz (regions {rates_b.min():.2f}-{rates_b.max():.2f}); FC-SC r = "
          f"{fc_sc_b:.3f}, FC(b)-FC(a) r = {fc_ab:.3f}")  # fmt: skip
    ns.viz.functional_connectivity(fc_b, out / "whole_brain_fc_spiking.png", labels=sub.labels,
                                   reference=sc_b, reference_name="SC weight",
                                   title="(b) FC of region E rates (DTB spiking)")  # fmt: skip
    activity_figure(out / "whole_brain_activity.png", res_a, keep_a, t_b, r_b, con.labels)

    metrics = {
        "quick": q,
        "regions": con.n,
        "rate_nodes": con.n,
        "rate_G": float(net.coupling.G),
        "rate_sim_ms": res_a.duration,
        "rate_run_s": round(res_a.run_s, 2),
        "rate_mean_r_e_hz": round(float(res_a.traces["nodes.r_e"][keep_a].mean()), 3),
        "fc_sc_rates": round(fc_sc_a, 4),
        "dtb_regions": sub.n,
        "dtb_neurons_per_region": n_per,
        "dtb_neurons": brain.layout.n,
        "dtb_synapses": int(n_syn),
        "dtb_max_delay_ms": round(float(sub.delays(VELOCITY).max()), 2),
        "dtb_sim_ms": res_b.duration,
        "dtb_build_s": round(build_s, 2),
        "dtb_compile_s": round(res_b.compile_s, 2),
        "dtb_run_s": round(res_b.run_s, 2),
        "dtb_mean_e_rate_hz": round(float(rates_b.mean()), 3),
        "fc_sc_spiking": round(fc_sc_b, 4),
        "fc_spiking_vs_rates": round(fc_ab, 4),
        "total_s": round(time.perf_counter() - t_start, 1),
    }
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
