"""Cosine similarity between e-prop and BPTT gradients on a small recurrent network.

    python benchmarks/eprop_alignment.py

Network: 8 Bernoulli inputs (15 % per step) -> 24 recurrent LIF or ALIF neurons -> 3 leaky
readouts (``ns.train.make_snn(..., recurrent=True)``), dt = 1 ms; loss: squared error of the
readout against three sinusoids, summed over steps. For each sequence length T and seed, the
cosine between the e-prop gradient (``ns.train.eprop_grad``, symmetric feedback) and the exact
BPTT gradient of the same loss, over the input and recurrent weights together (the readout
gradient of e-prop is exact). Also with random feedback (``random_feedback``). The last stdout
line is a JSON object.
"""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import neurosim as ns

DT = 1.0


def mse(u, t):
    return 0.5 * jnp.sum((u - t) ** 2)


def alif(n):
    return ns.neurons.ALIF(
        n, tau_m=10.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=0.0, beta=3.0, tau_a=50.0,
        surrogate=ns.neurons.FastSigmoid(10 / 15, amplitude=1 / 15),
    )  # fmt: skip


@eqx.filter_jit
def cosines(net, x, y, fb):
    _, g_e = ns.train.eprop_grad(net, x, y, DT, mse)
    _, g_r = ns.train.eprop_grad(net, x, y, DT, mse, feedback=fb)
    g_b = eqx.filter_grad(lambda m: jnp.sum(jax.vmap(mse)(m(x, DT).readout, y)))(net)

    def hid(g):
        return (g.layers[0].linear.w, g.layers[0].recurrent.w)

    return (
        ns.train.cosine_similarity(hid(g_e), hid(g_b)),
        ns.train.cosine_similarity(hid(g_r), hid(g_b)),
    )


def main():
    rows = []
    for name, neuron in (("LIF", ns.train.default_neuron), ("ALIF", alif)):
        for T in (30, 100, 300):
            sym, rnd = [], []
            for seed in range(5):
                net = ns.train.make_snn(
                    jax.random.key(seed), [8, 24, 3], recurrent=True, neuron=neuron,
                    weight_gain=1.5,
                )  # fmt: skip
                x = (jax.random.uniform(jax.random.key(seed + 100), (T, 8)) < 0.15).astype(float)
                y = 3.0 * jnp.sin(jnp.arange(T)[:, None] / 4.0 + jnp.arange(3))
                fb = ns.train.random_feedback(jax.random.key(seed + 200), 24, 3)
                c_sym, c_rnd = cosines(net, x, y, fb)
                sym.append(float(c_sym))
                rnd.append(float(c_rnd))
            row = {
                "neuron": name,
                "T": T,
                "cos_symmetric_mean": float(np.mean(sym)),
                "cos_symmetric_min": float(np.min(sym)),
                "cos_random_mean": float(np.mean(rnd)),
            }
            rows.append(row)
            print(
                f"{name:4s} T={T:4d}: cos(e-prop, BPTT) mean {row['cos_symmetric_mean']:.3f} "
                f"(min {row['cos_symmetric_min']:.3f}); random feedback "
                f"{row['cos_random_mean']:.3f}",
                flush=True,
            )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
