"""Izhikevich (2003) cell classes under a step of dc current I = 10 (the paper's Fig. 2).

    python examples/izhikevich_patterns.py            # 1 s step
    python examples/izhikevich_patterns.py --quick    # 250 ms step (CI)

One Izhikevich population holds RS, IB, CH, FS, LTS, TC and RZ (forward Euler, dt = 0.1 ms,
as in the paper) plus a second TC cell that is hyperpolarised (I = -10) and released, which
answers with a rebound burst. Responses are classified by ``ns.analysis.firing_pattern``.
Writes ``izhikevich_patterns.png``; the last stdout line is a JSON object with each class's
pattern, spike count and mean rate during the step.
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

# What Izhikevich (2003) describes for the step response of each class.
EXPECTED = {"RS": "adapting", "IB": "initial_burst", "CH": "bursting", "TC": "tonic"}


def with_spikes(v, t_spikes, dt, v_peak):
    """The trace with each spike drawn up to the cut-off ``v_peak`` (the sample after a spike
    holds the reset value)."""
    v = np.array(v, copy=True)
    k = np.round(np.asarray(t_spikes) / dt).astype(int)
    v[k[k < len(v)]] = v_peak
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short step (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    step_ms, dt, t_on = (250.0 if args.quick else 1000.0), 0.1, 50.0
    t_off = t_on + step_ms
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    names = list(ns.neurons.IZHIKEVICH_2003)  # RS IB CH FS LTS TC RZ
    labels = names + ["TC (rebound)"]
    on = np.array([10.0] * len(names) + [-10.0])
    after = np.array([0.0] * len(names) + [0.0])
    # The rebound cell is released 100 ms after the onset; the others get the full step.
    release = np.array([10.0] * len(names) + [0.0])
    b = ns.NetworkBuilder()
    b.add_population("Z", ns.neurons.Izhikevich.from_presets(names + ["TC"]))
    b.add_input("Z", ns.inputs.StepCurrent([t_on, t_on + 100.0, t_off],
                                           np.stack([on, release, after])))  # fmt: skip
    net = b.build()
    res = ns.simulate(net, t_off + 50.0, dt, key=jax.random.key(0), record=["Z.v"])

    fig, axes = plt.subplots(4, 2, figsize=(10, 8), sharex=True)
    t_v, v = res.trace_times["Z.v"], res.traces["Z.v"]
    times, idx = res.spikes("Z")
    classes, n_match = {}, 0
    for j, (label, ax) in enumerate(zip(labels, axes.T.ravel(), strict=True)):
        t_j = times[idx == j]
        if j < len(names):
            got = ns.analysis.firing_pattern(t_j, t_on, t_off)
            f = ns.analysis.firing_features(t_j, t_on, t_off)
            n_match += EXPECTED.get(label) == got
            classes[label] = {
                "pattern": got,
                "n_spikes": f["n_spikes"],
                "rate_hz": round(f["n_spikes"] / (step_ms * 1e-3), 1),
            }
        else:
            rebound = t_j[t_j >= t_on + 100.0]
            classes["TC_rebound"] = {"n_rebound_spikes": int(rebound.size)}
            got = f"{rebound.size} rebound spikes"
        ax.plot(t_v, with_spikes(v[:, j], t_j, dt, 30.0), lw=0.6, color="k")
        ax.set_title(f"{label}: {got}", fontsize=9, loc="left")
        ax.set_ylabel("v (mV)")
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    fig.suptitle("Izhikevich (2003) neurons, step of I = 10")
    fig.tight_layout()
    fig.savefig(out / "izhikevich_patterns.png", dpi=100)
    metrics = {
        "step_ms": step_ms,
        "dt_ms": dt,
        "n_expected": len(EXPECTED),
        "n_match": int(n_match),
        "classes": classes,
    }
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
