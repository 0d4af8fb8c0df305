"""Yin-Yang classification with a surrogate-gradient spiking network (latency-coded inputs).

    python examples/train_yinyang.py            # full run (5000 train / 1000 test samples)
    python examples/train_yinyang.py --quick    # small and short (CI)

Data: Kriener, Göltz et al. 2022 (``ns.train.yinyang``): inputs ``(x, y, 1 - x, 1 - y)`` and a
bias, each one spike at ``t = x * t_max`` (the encoding of Göltz et al. 2021). Network: 5 inputs
-> LIF hidden layer -> leaky-integrator readout; loss: cross-entropy of the readout's maximum
membrane potential over time (Zenke & Vogels 2021); Adam. Seeded. Writes a learning curve
``train_yinyang.png``; the last stdout line is a JSON object with ``test_accuracy``.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import neurosim as ns

DT = 0.5  # ms
T_MAX = 30.0  # ms, latest input spike
N_STEPS = 80  # 40 ms


def encode(features):
    """(N, 4) in [0, 1] -> (N, T, 5) spikes: latency code plus a bias spike at t = 0."""
    bias = np.zeros((features.shape[0], 1), np.float32)
    x = np.concatenate([features, bias], axis=1)
    return np.asarray(ns.train.latency(x, N_STEPS, DT, t_max=T_MAX, early_high=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_train, n_test, n_hidden = (1000, 500, 100) if args.quick else (5000, 1000, 200)
    epochs = args.epochs or (15 if args.quick else 30)
    t_start = time.perf_counter()

    x_tr, y_tr = ns.train.yinyang(args.seed, n_train)
    x_te, y_te = ns.train.yinyang(args.seed + 1000, n_test)
    x_tr, x_te = encode(x_tr), encode(x_te)

    key = jax.random.key(args.seed)
    net = ns.train.make_snn(key, [5, n_hidden, 3], weight_gain=2.0, readout_tau=20.0)
    spec = ns.train.trainable(net, lambda m: (m.layers[0].linear, m.readout.linear))

    def readout(m, x):
        return jax.vmap(lambda xi: m(xi, DT).readout)(x)

    def loss_fn(m, batch, k):
        x, y = batch
        return ns.train.max_membrane_cross_entropy(readout(m, x), y)

    x_te_dev, y_te_dev = jax.device_put((x_te, y_te))

    @eqx.filter_jit
    def test_accuracy(m):
        pred = ns.train.predict_batched(
            lambda xb: jnp.argmax(jnp.max(readout(m, xb), axis=1), -1), x_te_dev, 250
        )
        return jnp.mean(pred == y_te_dev)

    sched = optax.cosine_decay_schedule(1e-2, epochs * (n_train // 32))
    opt = optax.adam(sched)
    net, hist = ns.train.fit(
        net,
        loss_fn,
        opt,
        (x_tr, y_tr),
        epochs=epochs,
        batch_size=32,
        key=jax.random.key(args.seed + 1),
        filter_spec=spec,
        eval_fn=lambda m: {"test_accuracy": test_accuracy(m)},
        log=ns.train.print_epoch,
    )
    wall = time.perf_counter() - t_start

    ns.viz.training_curves(hist, out / "train_yinyang.png", title="Yin-Yang")

    print(
        json.dumps(
            {
                "test_accuracy": round(hist[-1]["test_accuracy"], 4),
                "best_test_accuracy": round(max(r["test_accuracy"] for r in hist), 4),
                "epochs": epochs,
                "n_train": n_train,
                "n_test": n_test,
                "n_hidden": n_hidden,
                "wall_s": round(wall, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
