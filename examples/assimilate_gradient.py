"""Twin (c): the whole-brain twin fitted by gradient descent, beside the EnKF.

    python examples/assimilate_gradient.py --quick
    python examples/assimilate_gradient.py --seed 0 --iters 60

The same truth design as twin (a) (:func:`neurosim.assimilate.twin_experiment`: reduced
Wong–Wang on tvb-data's 76 regions, per-region ``I_o`` = 0.32 nA x (1 + 0.03 z) drawn with the
same seed, ``G = 0.03``, BOLD observed every TR with noise 0.2 x the median BOLD std; its own
noise realisation). The gradient route fits the per-region ``I_o`` (logit coordinates, Adam) to the
time-averaged observed BOLD level per region: the fitted model is simulated for
``--settle-ms`` (noise-free by default, or with its own fixed noise: ``--fit-noise model``),
and the BOLD of the mean gating ``S`` over the second half is read from the
Balloon–Windkessel closed-form steady state (``ns.bold.steady_state``). The loss is the
squared level difference summed over regions (normalised by the levels' spread over
regions), differentiated with ``jax.grad`` through the whole simulation. ``G`` is taken as
known (the truth's). Start: the starting ensemble mean of twin (a) (the same draws).

Writes ``assimilate_gradient.png`` and ``summary.json``; the last stdout line is the JSON
summary (``io_corr``, ``io_err_ratio``, ``grad_wall_s``, ...).
"""

import argparse
import json
import pathlib
import time

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from neurosim.assimilate import RWWTwin, free_bold, tvb_connectome  # noqa: E402

IO_MEAN, IO_CV, IO_LO, IO_HI, G_TRUE = 0.32, 0.03, 0.28, 0.36, 0.03


def main(a):
    t0 = time.perf_counter()
    W, L = tvb_connectome(a.regions)
    n = W.shape[0]
    twin = RWWTwin(W, L, a.tr, "abs")
    rng = np.random.default_rng(a.seed)
    io_true = np.clip(IO_MEAN * (1 + IO_CV * rng.standard_normal(n)), IO_LO + 1e-3, IO_HI - 1e-3)
    key = jax.random.key(a.seed)
    k_truth, _, k_ens, _, _ = jax.random.split(key, 5)
    n_tr, spin = int(round(a.duration * 1000 / a.tr)), int(np.ceil(8000 / a.tr))
    y_true = free_bold(twin, jnp.asarray(io_true[None]), jnp.full(1, G_TRUE), k_truth[None],
                       n_tr, spin)[0]  # fmt: skip
    sd = np.median(y_true.std(0))
    y_obs = y_true + 0.2 * sd * rng.standard_normal(y_true.shape)
    target = jnp.asarray(y_obs.mean(0))
    # start: the mean of twin (a)'s starting ensemble (the same draws)
    u0 = twin.io_t.inverse(IO_MEAN) + 0.6 * jax.random.normal(k_ens, (16, n))
    io_start = np.asarray(twin.io_t.forward(u0)).mean(0)
    k_fit = jax.random.fold_in(key, 11)
    fit = RWWTwin(W, L, a.tr, "abs")  # the fitted model: with its own noise, or none
    if a.fit_noise == "none":
        fit.noise = None

    def level(u):
        m = fit.init_member(jax.random.fold_in(k_fit, 0), fit.io_t.forward(u), G_TRUE)
        m = fit.settle(m, jax.random.fold_in(k_fit, 1), ms=a.settle_ms)
        return fit.bw.bold(m["bold"])

    def loss(u):
        return jnp.sum((level(u) - target) ** 2) / jnp.sum((target - target.mean()) ** 2)

    opt = optax.adam(a.lr)
    u = twin.io_t.inverse(jnp.asarray(io_start))
    state = opt.init(u)

    @jax.jit
    def step(u, state):
        val, g = jax.value_and_grad(loss)(u)
        upd, state = opt.update(g, state)
        return optax.apply_updates(u, upd), state, val

    tc = time.perf_counter()
    step.lower(u, state).compile()
    compile_s = time.perf_counter() - tc
    tr0 = time.perf_counter()
    hist = []
    for _ in range(a.iters):
        u, state, val = step(u, state)
        hist.append(float(val))
    io_hat = np.asarray(twin.io_t.forward(u))
    run_s = time.perf_counter() - tr0
    rel = lambda est: float(np.median(np.abs(est - io_true) / io_true))  # noqa: E731
    summary = {
        "seed": a.seed, "n_regions": n, "tr_ms": a.tr, "duration_s": a.duration,
        "iters": a.iters, "settle_ms": a.settle_ms, "lr": a.lr, "fit_noise": a.fit_noise,
        "io_corr": float(np.corrcoef(io_hat, io_true)[0, 1]),
        "io_corr_start": float(np.corrcoef(io_start, io_true)[0, 1]),
        "io_median_rel_err": rel(io_hat), "io_median_rel_err_start": rel(io_start),
        "io_err_ratio": rel(io_hat) / rel(io_start),
        "loss_start": hist[0], "loss_end": hist[-1],
        "grad_compile_s": round(compile_s, 2), "grad_run_s": round(run_s, 2),
        "grad_wall_s": round(time.perf_counter() - t0, 1), "G": G_TRUE,
    }  # fmt: skip
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].semilogy(hist)
    ax[0].set(title="loss (BOLD level, normalised)", xlabel="Adam iteration")
    ax[1].scatter(io_true, io_hat, s=10, label="gradient fit")
    ax[1].scatter(io_true, io_start, s=10, alpha=0.4, label="start")
    ax[1].plot([IO_LO, IO_HI], [IO_LO, IO_HI], "k:")
    ax[1].set(title="per-region I_o", xlabel="true (nA)", ylabel="estimate (nA)")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(out / "assimilate_gradient.png", dpi=90)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 regions, few iterations (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--regions", type=int, default=76)
    ap.add_argument("--tr", type=float, default=800.0)
    ap.add_argument("--duration", type=float, default=60.0, help="observed record (s)")
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.05, help="Adam step (logit units)")
    ap.add_argument("--settle-ms", type=float, default=3000.0)
    ap.add_argument(
        "--fit-noise",
        choices=("none", "model"),
        default="none",
        help="simulate the fitted model without noise, or with its own fixed noise",
    )
    a = ap.parse_args()
    if a.quick:
        a.regions, a.duration, a.iters, a.settle_ms = 8, 8.0, 5, 1000.0
    main(a)
