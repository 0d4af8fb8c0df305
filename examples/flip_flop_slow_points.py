"""Slow points of a trained recurrent network: the n-bit flip-flop (Sussillo & Barak 2013).

A leaky tanh rate network (``ns.train.RateRNN``: ``tau dx/dt = -x + W tanh(x) + W_in u + b``,
readout ``W_out tanh(x) + b_out``, tau = 10 ms, forward Euler with dt = 1 ms) is trained by
BPTT (``ns.train.fit``, Adam) on the flip-flop task (``ns.train.flip_flop``): each output
must hold the sign of the last +-1 pulse on its input, so a working solution needs 2^n
stable states. Then, with the input off, ``ns.dynamics.slow_points`` minimises
``q(x) = |dx/dt|^2 / 2`` from states visited along test trajectories (plus Gaussian noise),
de-duplicates the minima and linearises the network there (Jacobian eigenvalues).

Two tolerances (float64 throughout):

* fixed point: ``q`` below the float rounding of the flow itself. Evaluating
  ``f_i = (-x_i + sum_j W_ij tanh x_j + b_i) / tau`` in floating point errs by at most
  ``~ n eps s_i`` with ``s_i = (|x_i| + sum_j |W_ij tanh x_j| + |b_i|) / tau`` (a sum of
  ``n + 2`` terms, Higham 2002, Sec. 4.2), so a true zero of ``f`` cannot be told from one
  with ``q <= q_fp = (n eps)^2 |s|^2 / 2``;
* slow point: ``q`` below ``sqrt(eps)`` times the median ``q`` of the starts (the
  ``slow_points`` default: a speed ~1e-4 of the typical speed along the trajectories)
  but above ``q_fp``.

Each point is classed by the number of Jacobian eigenvalues with positive real part
(0: stable, a memory; k: a k-saddle), its readout compared with the +-1 corners, and its
Jacobian compared with central finite differences of the flow. For three bits the ideal
solution is a cube: 8 stable corners, 12 one-saddles between neighbouring corners, 6
two-saddles on the faces and one three-saddle at the centre.

Figures go to ``--out`` (default: a temporary directory): the points found and a few test
trajectories, projected on the principal axes of the points. The last line printed is a JSON
summary. ``--quick``: 2 bits, a smaller network and fewer training steps (seconds).

Run: ``python examples/flip_flop_slow_points.py --quick``
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tempfile
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import neurosim as ns  # noqa: E402

TAU, DT = 10.0, 1.0  # ms
SETTLE = 30  # steps (3 tau) after a pulse before the output counts as settled


def train(n_bits, n_hidden, n_steps, n_train, epochs, seed):
    """A RateRNN trained on the flip-flop by BPTT with a mean-squared readout error."""
    u, y = ns.train.flip_flop(seed, n_train, n_bits=n_bits, n_steps=n_steps)
    rnn = ns.train.make_rate_rnn(jax.random.key(seed), n_bits, n_hidden, n_bits, tau=TAU)

    def loss_fn(m, batch, key):
        ub, yb = batch
        _, ys = jax.vmap(lambda s: m(s, DT))(ub)
        return jnp.mean((ys - yb) ** 2)

    n_batches = max(n_train // 64, 1)
    lr = optax.cosine_decay_schedule(1e-2, epochs * n_batches, alpha=0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))
    rnn, hist = ns.train.fit(rnn, loss_fn, opt, (u, y), epochs=epochs, batch_size=64,
                             key=jax.random.key(seed + 1))  # fmt: skip
    return rnn, hist


def settled_error(rnn, u, y):
    """Test states and the largest readout error once SETTLE steps passed since any pulse."""
    xs, ys = jax.vmap(lambda s: rnn(s, DT))(jnp.asarray(u))
    xs, ys = np.asarray(xs), np.asarray(ys)
    pulse = np.any(u != 0, axis=2)  # (N, T)
    last = np.where(pulse, np.arange(u.shape[1])[None], -(10**9))
    since = np.arange(u.shape[1])[None] - np.maximum.accumulate(last, axis=1)
    ok = since >= SETTLE
    return xs, float(np.max(np.abs(ys - y)[ok])), float(np.mean((ys - y) ** 2))


def rounding_floor(rnn, x):
    """``q_fp``: the float64 rounding level of ``q`` at ``x`` (module docstring)."""
    w, b = np.asarray(rnn.w_rec), np.asarray(rnn.b)
    s = (np.abs(x) + np.abs(w) @ np.abs(np.tanh(x)) + np.abs(b)) / rnn.tau
    return 0.5 * (rnn.n * np.finfo(np.float64).eps) ** 2 * float(np.sum(s * s))


def fd_jacobian(rnn, x, h=1e-6):
    """Central differences of ``rnn.vector_field`` (input off), error O(h^2) + O(eps / h)."""
    f = jax.jit(lambda z: rnn.vector_field(z, jnp.zeros(rnn.n_in)))
    cols = [(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
            for e in np.eye(len(x))]  # fmt: skip
    return np.stack(cols, axis=1)


def figure(xs, sp, kinds, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # principal axes of the points found (the memories and saddles), so that their geometry
    # shows; pulses drive the trajectories far out, which would dominate a PCA of the states
    basis = sp.x if len(sp.x) >= 4 else xs.reshape(-1, xs.shape[-1])
    mean = basis.mean(0)
    _, _, vt = np.linalg.svd(basis - mean, full_matrices=False)
    vt = np.concatenate([vt, np.zeros((3, vt.shape[1]))])[:3]
    proj = lambda a: (a - mean) @ vt.T  # noqa: E731
    extent = np.abs(proj(sp.x)).max() * 1.6 + 1e-9
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    style = {"stable": ("o", "tab:blue"), "1-saddle": ("x", "tab:red"),
             "k-saddle": ("^", "tab:orange"), "slow": ("s", "tab:gray")}  # fmt: skip
    for ax, (i, j) in zip(axes, ((0, 1), (0, 2)), strict=True):
        for tr in xs[:8]:
            p = proj(tr)
            ax.plot(p[:, i], p[:, j], lw=0.5, color="0.7")
        for name, (m, c) in style.items():
            sel = [k for k, kind in enumerate(kinds) if kind == name]
            if sel:
                p = proj(sp.x[sel])
                ax.scatter(p[:, i], p[:, j], marker=m, color=c, s=45, label=name, zorder=3)
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_xlabel(f"PC{i + 1}")
        ax.set_ylabel(f"PC{j + 1}")
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="output directory (default: a temp dir)")
    ap.add_argument("--quick", action="store_true", help="2 bits, small and short (CI)")
    ap.add_argument("--bits", type=int, default=None, help="bits (default 3; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out or tempfile.mkdtemp(prefix="neurosim_flipflop_"))
    out.mkdir(parents=True, exist_ok=True)
    n_bits = args.bits or (2 if args.quick else 3)
    if n_bits < 1:
        raise ValueError(f"--bits must be >= 1, got {n_bits}")
    n_hidden, n_steps, n_train, epochs, n_starts = (
        (24, 100, 512, 250, 256) if args.quick else (64, 200, 1024, 200, 1024)
    )
    t0 = time.perf_counter()

    rnn, hist = train(n_bits, n_hidden, n_steps, n_train, epochs, args.seed)
    t_train = time.perf_counter() - t0
    u_te, y_te = ns.train.flip_flop(args.seed + 100, 64, n_bits=n_bits, n_steps=n_steps)
    xs, err_settled, mse_te = settled_error(rnn, u_te, y_te)

    # starts: states along the test trajectories, plus noise (Sussillo & Barak 2013)
    rng = np.random.default_rng(args.seed)
    flat = xs.reshape(-1, n_hidden)
    starts = flat[rng.choice(len(flat), n_starts, replace=False)]
    starts = starts + 0.05 * np.std(flat, axis=0) * rng.standard_normal(starts.shape)
    t1 = time.perf_counter()
    sp = ns.dynamics.slow_points(ns.dynamics.system(rnn), starts, max_iter=200)
    t_slow = time.perf_counter() - t1

    q_fp = np.array([rounding_floor(rnn, x) for x in sp.x])
    fixed = sp.q <= q_fp
    n_unstable = np.sum(sp.eigenvalues.real > 0, axis=1)
    kinds = [("stable" if k == 0 else "1-saddle" if k == 1 else "k-saddle") if fx else "slow"
             for k, fx in zip(n_unstable, fixed, strict=True)]  # fmt: skip
    y_pts = np.asarray(rnn.readout(jnp.asarray(sp.x)))
    stable = [i for i, k in enumerate(kinds) if k == "stable"]
    corners = np.sign(y_pts[stable])
    readout_err = float(np.max(np.abs(y_pts[stable] - corners))) if stable else float("nan")
    fd_err = max(float(np.max(np.abs(sp.jacobian[i] - fd_jacobian(rnn, sp.x[i])))
                       / np.max(np.abs(sp.jacobian[i]))) for i in range(len(sp.x)))  # fmt: skip

    by_index = {int(k): int(np.sum((n_unstable == k) & fixed)) for k in np.unique(n_unstable)}
    print(f"trained {epochs} epochs in {t_train:.1f} s: train loss {hist[-1]['loss']:.2e}, "
          f"test MSE {mse_te:.2e}, settled |y - target| <= {err_settled:.3f}")  # fmt: skip
    print(f"{len(sp.x)} points from {n_starts} starts in {t_slow:.1f} s: {int(fixed.sum())} "
          f"fixed (q <= q_fp, max q_fp {q_fp.max():.1e}), {int((~fixed).sum())} slow; "
          f"fixed points by number of unstable eigenvalues: {by_index}")  # fmt: skip
    print(f"stable readouts within {readout_err:.3f} of the +-1 corners; "
          f"{len({tuple(c) for c in corners})} of {2**n_bits} corners; Jacobian vs finite "
          f"differences: max relative error {fd_err:.1e}")  # fmt: skip

    figure(xs, sp, kinds, out / "flip_flop_slow_points.png",
           f"{n_bits}-bit flip-flop, {n_hidden} units: slow-point analysis")  # fmt: skip
    summary = {
        "n_bits": n_bits,
        "n_hidden": n_hidden,
        "epochs": epochs,
        "train_loss": float(hist[-1]["loss"]),
        "test_mse": mse_te,
        "settled_max_err": err_settled,
        "n_starts": n_starts,
        "n_points": int(len(sp.x)),
        "n_fixed": int(fixed.sum()),
        "n_slow": int((~fixed).sum()),
        "fixed_by_n_unstable": {str(k): v for k, v in by_index.items()},
        "n_stable": len(stable),
        "corners_covered": len({tuple(c) for c in corners}),
        "stable_readout_max_err": readout_err,
        "max_q_fixed": float(sp.q[fixed].max()) if fixed.any() else None,
        "max_q_fp_tol": float(q_fp.max()) if len(q_fp) else None,
        "jacobian_fd_max_rel_err": fd_err,
        "train_s": round(t_train, 1),
        "slow_points_s": round(t_slow, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
