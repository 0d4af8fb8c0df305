"""Random-manifold spike-timing task ("randman", 10 classes) with a recurrent spiking network.

    python examples/train_randman.py            # full run (10 x 1000 samples)
    python examples/train_randman.py --quick    # small and short (CI)

Data: ``ns.train.randman`` (after Zenke & Vogels 2021): 10 classes, each a random smooth
2-dimensional manifold (smoothness alpha = 2) embedded in 20 input units; every input unit fires
exactly one spike in 100 steps of 1 ms, so only spike timing carries the class. 80/20 split.
Network: 20 inputs -> recurrent LIF layer -> leaky-integrator readout; loss: cross-entropy of
the readout's maximum membrane potential plus a soft per-neuron rate bound (Zenke & Vogels
2021); Adam. Seeded. Writes ``train_randman.png``; last stdout line: JSON with ``test_accuracy``.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import neurosim as ns

DT = 1.0  # ms
N_STEPS = 100
N_UNITS = 20
RATE_BOUNDS_HZ = (0.5, 100.0)
RATE_WEIGHT = 1e-4  # per Hz^2


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    per_class, n_hidden = (500, 64) if args.quick else (1000, 128)
    epochs = args.epochs or (15 if args.quick else 30)
    t_start = time.perf_counter()

    x, y = ns.train.randman(
        args.seed, n_classes=10, n_units=N_UNITS, n_steps=N_STEPS, samples_per_class=per_class,
        dim=2, alpha=2.0,
    )  # fmt: skip
    n_train = int(0.8 * len(y))
    x_tr, y_tr, x_te, y_te = x[:n_train], y[:n_train], x[n_train:], y[n_train:]

    net = ns.train.make_snn(
        jax.random.key(args.seed), [N_UNITS, n_hidden, 10], recurrent=True, weight_gain=2.0
    )
    spec = ns.train.trainable(
        net, lambda m: (m.layers[0].linear, m.layers[0].recurrent, m.readout.linear)
    )

    def run(m, xb):
        return jax.vmap(lambda s: m(s.astype(jnp.float32), DT))(xb)

    def loss_fn(m, batch, k):
        xb, yb = batch
        o = run(m, xb)
        reg = ns.train.rate_bounds(o.spikes[0], DT, *RATE_BOUNDS_HZ)
        return ns.train.max_membrane_cross_entropy(o.readout, yb) + RATE_WEIGHT * reg

    x_te_dev, y_te_dev = jax.device_put((x_te, y_te))

    @eqx.filter_jit
    def evaluate(m):
        o = run(m, x_te_dev)
        return {
            "test_accuracy": ns.train.accuracy(jnp.max(o.readout, axis=1), y_te_dev),
            "hidden_rate_hz": jnp.mean(o.spikes[0]) * 1000.0 / DT,
        }

    batch = 64
    opt = optax.adam(optax.cosine_decay_schedule(5e-3, epochs * (n_train // batch)))
    net, hist = ns.train.fit(
        net,
        loss_fn,
        opt,
        (x_tr, y_tr),
        epochs=epochs,
        batch_size=batch,
        key=jax.random.key(args.seed + 1),
        filter_spec=spec,
        eval_fn=evaluate,
        log=ns.train.print_epoch,
    )
    wall = time.perf_counter() - t_start

    ns.viz.training_curves(hist, out / "train_randman.png", title="randman (10 classes)")

    print(
        json.dumps(
            {
                "test_accuracy": round(hist[-1]["test_accuracy"], 4),
                "best_test_accuracy": round(max(r["test_accuracy"] for r in hist), 4),
                "hidden_rate_hz": round(hist[-1]["hidden_rate_hz"], 2),
                "epochs": epochs,
                "n_train": n_train,
                "n_test": int(len(y_te)),
                "n_hidden": n_hidden,
                "wall_s": round(wall, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
