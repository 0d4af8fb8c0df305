"""AdEx firing patterns of Naud et al. (2008): tonic, adapting, bursting, delayed, irregular...

    python examples/adex_patterns.py            # 1 s current steps, dt = 0.05 ms
    python examples/adex_patterns.py --quick    # 400 ms steps, dt = 0.1 ms (CI)

One AdEx population holds the eight parameter sets of Naud et al. (2008), Table 1, each under
its own step current. Every response is classified by ``ns.analysis.firing_pattern`` (rules
fixed in advance: burst gap, adaptation ratio, late-ISI CV, latency). Writes
``adex_patterns.png`` (voltage and adaptation-current traces); the last stdout line is a JSON
object with the classification and spike count of each pattern.
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


def with_spikes(v, t_spikes, dt, v_peak):
    """The trace with each spike drawn up to the cut-off ``v_peak`` (the sample after a spike
    holds the reset value)."""
    v = np.array(v, copy=True)
    k = np.round(np.asarray(t_spikes) / dt).astype(int)
    v[k[k < len(v)]] = v_peak
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short steps, coarser dt (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    step_ms, dt = (400.0, 0.1) if args.quick else (1000.0, 0.05)
    t_on = 50.0
    t_off = t_on + step_ms
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    presets = ns.neurons.ADEX_NAUD_2008
    names = list(presets)
    i_step = np.array([presets[k]["i_step"] for k in names])
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.AdEx.from_presets(names))
    b.add_input("A", ns.inputs.StepCurrent([t_on, t_off], np.stack([i_step, 0 * i_step])))
    net = b.build()
    res = ns.simulate(net, t_off + 50.0, dt, key=jax.random.key(0), record=["A.v", "A.w"])

    fig, axes = plt.subplots(len(names), 2, figsize=(10, 1.6 * len(names)), sharex=True)
    t_v, v, w = res.trace_times["A.v"], res.traces["A.v"], res.traces["A.w"]
    times, idx = res.spikes("A")
    patterns, n_match = {}, 0
    for j, name in enumerate(names):
        t_j = times[idx == j]
        got = ns.analysis.firing_pattern(t_j, t_on, t_off)
        n_match += got == name
        patterns[name] = {"classified": got, "n_spikes": int(np.sum((t_j >= t_on) & (t_j < t_off)))}
        axes[j, 0].plot(t_v, with_spikes(v[:, j], t_j, dt, 0.0), lw=0.6, color="k")
        axes[j, 0].set_ylabel("v (mV)")
        axes[j, 0].set_title(f"{name} (I = {i_step[j]:g} pA): {got}", fontsize=9, loc="left")
        axes[j, 1].plot(t_v, w[:, j], lw=0.8, color="tab:red")
        axes[j, 1].set_ylabel("w (pA)")
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    fig.suptitle("AdEx, Naud et al. (2008) parameter sets")
    fig.tight_layout()
    fig.savefig(out / "adex_patterns.png", dpi=100)
    metrics = {
        "step_ms": step_ms,
        "dt_ms": dt,
        "n_patterns": len(names),
        "n_match": int(n_match),
        "patterns": patterns,
    }
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
