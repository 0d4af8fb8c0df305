"""Network-level fitting: tune the weights and drive of a spiking E/I network to target rates.

    python examples/fit_network_rates.py            # 500 LIF neurons, 300 iterations, 2 s check
    python examples/fit_network_rates.py --quick    # 80 iterations, 0.5 s check (CI)

The network: 400 excitatory and 100 inhibitory LIF neurons (current-based exponential
synapses, 1.5 ms delays, event-driven delivery), driven by 200 independent Poisson sources
(10 Hz). Six log-parameterised weights — E->E, E->I, I->E, I->I and the external drive X->E,
X->I — are tuned by gradient descent (Adam) until the population rates hit the targets
(E 5 Hz, I 15 Hz), then the rates are measured on a separate 2 s run (1 s with ``--quick``).

Why this is well-posed (gradients through recurrent spiking networks explode over long
horizons — the surrogate Jacobian of a recurrent network has a spectral radius above one in
the fluctuation-driven regime, so a cotangent grows geometrically with the number of steps):

* **Asynchronous, noise-driven regime.** Each neuron receives independent Poisson input, so
  the rates are smooth functions of the weights (a mean-field quantity) even though single
  spikes are not; the loss targets those population averages.
* **Truncated BPTT.** Each iteration simulates ``--window`` steps (50 ms) from the network
  state left by the previous iteration (the network keeps running while the weights change),
  and the rate estimate covers the whole window, but the gradient is cut every ``--horizon``
  steps (2.5 ms; ``stop_gradient`` on the state, Williams & Peng 1990): no cotangent crosses
  more than 25 steps. Measured at the initial weights (``grad_norm_by_window``: norm of the
  gradient of the summed rates through an untruncated window), the gradient grows by ~10^5
  from 25 to 400 steps — far faster than the spike count — so long horizons give noise, not
  direction. The truncated gradient keeps the sign of each weight's direct effect on the
  rates (drive up -> rates up, inhibition up -> rates down), which is all descent needs.
* **Rates from surrogate spike trains.** The forward pass counts exact spikes; the backward
  pass uses the fast-sigmoid surrogate derivative (Zenke & Ganguli 2018) through every spike,
  with the reset detached (Zenke & Vogels 2021).
* **Log-parameterised weights** (each weight is ``sign * exp(u)``: signs are fixed by Dale's
  law and steps are relative), a **log-rate loss** ``sum_pop (log r - log r*)^2`` (balanced
  between populations whose rates differ threefold), **global-norm gradient clipping** and a
  cosine-decayed Adam learning rate (the window rates are noisy estimates: ~10 % for E).

Writes ``OUT/fit_network_rates.png`` (rates and weights over training); the last stdout line
is one JSON object with ``rates_hz``, ``targets_hz`` and the fitted weights.
"""

import argparse
import json
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402

DT = 0.1  # ms
N_E, N_I, N_X = 400, 100, 200
TARGETS = {"E": 5.0, "I": 15.0}  # Hz
# Projection name -> (sign, initial |weight| pA); the initial rates are ~2 Hz (E) and ~6 Hz (I).
WEIGHTS = {
    "E->E": (1.0, 30.0),
    "E->I": (1.0, 30.0),
    "I->E": (-1.0, 60.0),
    "I->I": (-1.0, 60.0),
    "X->E": (1.0, 120.0),
    "X->I": (1.0, 120.0),
}


def build(key):
    """The E/I network; returns the network and each projection's index by name."""
    b = ns.NetworkBuilder(key=key)
    lif = dict(e_l=-70.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0, g_l=10.0)
    b.add_population("E", ns.neurons.LIF(N_E, tau_m=20.0, v_init=ns.init.Uniform(-70, -50), **lif))
    b.add_population("I", ns.neurons.LIF(N_I, tau_m=10.0, v_init=ns.init.Uniform(-70, -50), **lif))
    b.add_population("X", ns.neurons.PoissonSource(N_X, rate=10.0))
    exc, inh = ns.synapses.Exponential(5.0), ns.synapses.Exponential(10.0)
    p = ns.connectivity.FixedProbability(0.1)
    for name, (sign, w) in WEIGHTS.items():
        pre, post = name.split("->")
        syn = inh if pre == "I" else exc
        delay = 0.0 if pre == "X" else 1.5
        b.connect(pre, post, p, weight=sign * w, synapse=syn, delay=delay, name=name)
    net = b.build()
    index = {pr.name: j for j, pr in enumerate(net.projections)}
    return net, index


def with_weights(net, index, u):
    """The network with weight ``sign * exp(u[name])`` (pA) on each projection."""
    for name, (sign, _) in WEIGHTS.items():
        j = index[name]
        net = eqx.tree_at(
            lambda n, j=j: n.projections[j].conn.weights, net, sign * jnp.exp(u[name])
        )
    return net


def rates(out, n_steps):
    """Population rates (Hz) from per-step spikes (exact counts; surrogate gradient)."""
    t_s = n_steps * DT * 1e-3
    return {p: jnp.sum(out.spikes[p]) / (out.spikes[p].shape[1] * t_s) for p in TARGETS}


def make_loss(net, index, n_steps, horizon):
    """Log-rate loss over ``n_steps``, with gradients cut every ``horizon`` steps."""
    if n_steps % horizon:
        raise ValueError(f"--window ({n_steps}) must be a multiple of --horizon ({horizon})")

    def loss(u, state, key):
        n = with_weights(net, index, u)

        def chunk(st, k):
            st = jax.lax.stop_gradient(st)  # truncated BPTT: no gradient into the past
            st, out = ns.run(n, st, horizon, DT, key=k)
            return st, tuple(jnp.sum(out.spikes[p]) for p in TARGETS)

        keys = jax.random.split(key, n_steps // horizon)
        state, counts = jax.lax.scan(chunk, state, keys)
        t_s = n_steps * DT * 1e-3
        size = {"E": N_E, "I": N_I}
        r = {p: jnp.sum(c) / (size[p] * t_s) for p, c in zip(TARGETS, counts, strict=True)}
        err = sum((jnp.log(r[p] + 0.1) - jnp.log(TARGETS[p] + 0.1)) ** 2 for p in TARGETS)
        return err, (state, r)

    return loss


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="examples/out")
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--window", type=int, default=500, help="steps per iteration (rate estimate)")
    ap.add_argument("--horizon", type=int, default=25, help="gradient truncation (steps)")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    iters = args.iters or (80 if args.quick else 300)
    eval_steps = 5_000 if args.quick else 20_000
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    net, index = build(jax.random.key(args.seed))
    u = {k: jnp.log(w) for k, (_, w) in WEIGHTS.items()}
    key = jax.random.key(args.seed + 1)
    state = net.init_state(jax.random.fold_in(key, 0), DT)
    burn = jax.jit(lambda u, s, k: ns.run(with_weights(net, index, u), s, 2000, DT, key=k)[0])
    state = burn(u, state, jax.random.fold_in(key, 1))  # 200 ms to leave the initial transient

    # Gradient norm of the mean rate against the (untruncated) BPTT horizon, initial weights.
    def mean_rate(u, n_steps):
        _, out = ns.run(with_weights(net, index, u), state, n_steps, DT, key=jax.random.key(7))
        return sum(rates(out, n_steps).values())

    grad_norms = {}
    for w in (25, 100) if args.quick else (25, 50, 100, 200, 400):
        g = jax.grad(mean_rate)(u, w)
        grad_norms[w] = float(jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(g))))

    loss = make_loss(net, index, args.window, args.horizon)
    lr = optax.cosine_decay_schedule(args.lr, iters, alpha=0.05)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))
    opt_state = optimizer.init(u)

    @jax.jit
    def update(u, opt_state, state, key):
        (val, (state, r)), g = jax.value_and_grad(loss, has_aux=True)(u, state, key)
        upd, opt_state = optimizer.update(g, opt_state, u)
        return optax.apply_updates(u, upd), opt_state, state, val, r

    hist = {"E": [], "I": [], "loss": [], "w": []}
    for it in range(iters):
        u, opt_state, state, val, r = update(u, opt_state, state, jax.random.fold_in(key, 100 + it))
        hist["loss"].append(float(val))
        for p in TARGETS:
            hist[p].append(float(r[p]))
        hist["w"].append({k: float(jnp.exp(v)) for k, v in u.items()})

    # Independent check: a long run from a fresh initial state with the fitted weights.
    fitted = with_weights(net, index, u)
    s0 = fitted.init_state(jax.random.key(args.seed + 2), DT)
    s0 = jax.jit(lambda s: ns.run(fitted, s, 2000, DT, key=jax.random.key(3))[0])(s0)
    _, out = jax.jit(lambda s: ns.run(fitted, s, eval_steps, DT, key=jax.random.key(4)))(s0)
    final = {p: float(v) for p, v in rates(out, eval_steps).items()}
    rel = {p: abs(final[p] - TARGETS[p]) / TARGETS[p] for p in TARGETS}

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    win = 10
    for p, c in (("E", "C0"), ("I", "C3")):
        x = np.asarray(hist[p])
        smooth = np.convolve(x, np.ones(win) / win, mode="valid")
        ax[0].plot(x, c, alpha=0.25)
        ax[0].plot(np.arange(win - 1, len(x)), smooth, c, label=f"{p} (target {TARGETS[p]:g} Hz)")
        ax[0].axhline(TARGETS[p], color=c, ls="--", lw=0.8)
    ax[0].set(xlabel="iteration (one window each)", ylabel="rate (Hz)", title="rates in training")
    ax[0].legend(fontsize=8)
    for k in WEIGHTS:
        ax[1].plot([h[k] for h in hist["w"]], label=k)
    ax[1].set(xlabel="iteration", ylabel="|weight| (pA)", yscale="log", title="weights")
    ax[1].legend(fontsize=7, ncol=2)
    ws = sorted(grad_norms)
    ax[2].semilogy(ws, [grad_norms[w] for w in ws], "o-")
    ax[2].set(xlabel="BPTT horizon (steps)", ylabel="|d(rate_E + rate_I)/du| (Hz)", title="horizon")
    fig.tight_layout()
    fig.savefig(out_dir / "fit_network_rates.png", dpi=120)

    print(f"final rates (eval {eval_steps * DT / 1000:g} s): {final}, rel. error {rel}")
    print(
        json.dumps(
            {
                "rates_hz": {p: round(v, 3) for p, v in final.items()},
                "targets_hz": TARGETS,
                "rel_error": {p: round(v, 4) for p, v in rel.items()},
                "within_10pct": bool(all(v < 0.10 for v in rel.values())),
                "initial_rates_hz": {p: round(hist[p][0], 2) for p in TARGETS},
                "weights_pa": {
                    k: round(WEIGHTS[k][0] * float(jnp.exp(v)), 2) for k, v in u.items()
                },
                "grad_norm_by_window": {str(k): round(v, 4) for k, v in grad_norms.items()},
                "iterations": iters,
                "window_steps": args.window,
                "n_neurons": N_E + N_I,
                "wall_s": round(time.perf_counter() - t_start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
