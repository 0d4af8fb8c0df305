"""The three Brette et al. (2007) benchmark networks: rasters and firing rates.

    python examples/brette_benchmarks.py            # N = 4000, 1 s each
    python examples/brette_benchmarks.py --quick    # N = 400, 200 ms (CI)

Writes ``examples/out/brette_benchmarks.png``; the last stdout line is a JSON object of rates.
"""

import argparse
import json
import pathlib

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    args = ap.parse_args()
    n, duration = (400, 200.0) if args.quick else (4000, 1000.0)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    fig, axes = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    metrics = {"n": n, "duration_ms": duration}
    for ax, name in zip(axes, ("coba", "cuba", "cobahh"), strict=True):
        net = ns.models.MODELS[name](n=n, key=jax.random.key(0))
        res = ns.simulate(net, duration, 0.1, key=jax.random.key(1))
        shown = res.spike_indices < 200
        ax.plot(res.spike_times[shown], res.spike_indices[shown], "|", ms=2, color="k")
        ax.set_title(f"{name.upper()}: {res.rate_hz:.1f} Hz, run {res.run_s:.2f} s")
        ax.set_ylabel("neuron")
        metrics[f"{name}_rate_hz"] = round(res.rate_hz, 3)
        metrics[f"{name}_run_s"] = round(res.run_s, 3)
    axes[-1].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(out / "brette_benchmarks.png", dpi=110)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
