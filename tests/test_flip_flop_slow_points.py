"""Slow points of a trained rate RNN (Sussillo & Barak 2013, Neural Comput. 25:626).

A leaky tanh network (``ns.train.RateRNN``) trained on the flip-flop task must store each bit
in a stable fixed point; theory then fixes what ``ns.dynamics.slow_points`` has to find: for
one bit two stable points whose readouts are the +-1 targets (within the error the trained
network makes on settled test trials), and, separating their basins, a saddle with exactly
one unstable eigenvalue whose unstable manifold runs to the two memories (mountain-pass
argument). Residuals and Jacobians are checked against an independent numpy evaluation of
``tau dx/dt = -x + W tanh(x) + b`` (input off): the closed-form Jacobian
``(-I + W diag(1 - tanh^2 x)) / tau`` and the float64 rounding level of ``q``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns

TAU, DT, SETTLE = 10.0, 1.0, 30
EPS = np.finfo(np.float64).eps


def _weights(rnn):
    return np.asarray(rnn.w_rec, np.float64), np.asarray(rnn.b, np.float64)


def _flow_np(rnn, x):
    w, b = _weights(rnn)
    return (-x + np.tanh(x) @ w.T + b) / rnn.tau


def _jacobian_np(rnn, x):
    w, _ = _weights(rnn)
    return (-np.eye(len(x)) + w * (1.0 - np.tanh(x) ** 2)[None, :]) / rnn.tau


def _q_rounding(rnn, x):
    """``q`` that float64 rounding alone can leave at a true zero: each ``f_i`` sums
    ``n + 2`` terms, so errs by <= ~n eps s_i (Higham 2002, Sec. 4.2)."""
    w, b = _weights(rnn)
    s = (np.abs(x) + np.abs(np.tanh(x)) @ np.abs(w).T + np.abs(b)) / rnn.tau
    return 0.5 * (rnn.n * EPS) ** 2 * float(np.sum(s * s))


def _trained(n_bits, n_hidden, epochs, n_starts, seed=0):
    """Train on the flip-flop, then run the slow-point analysis from noisy visited states."""
    with jax.enable_x64(True):
        u, y = ns.train.flip_flop(seed, 512, n_bits=n_bits, n_steps=100)
        rnn = ns.train.make_rate_rnn(jax.random.key(seed), n_bits, n_hidden, n_bits, tau=TAU)

        def loss_fn(m, batch, key):
            _, ys = jax.vmap(lambda s: m(s, DT))(batch[0])
            return jnp.mean((ys - batch[1]) ** 2)

        lr = optax.cosine_decay_schedule(1e-2, epochs * 8, alpha=0.05)
        opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))
        rnn, _ = ns.train.fit(rnn, loss_fn, opt, (u, y), epochs=epochs, batch_size=64,
                              key=jax.random.key(seed + 1))  # fmt: skip
        u_te, y_te = ns.train.flip_flop(seed + 100, 32, n_bits=n_bits, n_steps=100)
        xs, ys = (np.asarray(a) for a in jax.vmap(lambda s: rnn(s, DT))(jnp.asarray(u_te)))
        pulse = np.any(u_te != 0, axis=2)
        last = np.maximum.accumulate(np.where(pulse, np.arange(100)[None], -1000), axis=1)
        settled = np.arange(100)[None] - last >= SETTLE
        err = float(np.max(np.abs(ys - y_te)[settled]))
        rng = np.random.default_rng(seed)
        flat = xs.reshape(-1, n_hidden)
        starts = flat[rng.choice(len(flat), n_starts, replace=False)]
        starts = starts + 0.05 * flat.std(0) * rng.standard_normal(starts.shape)
        sp = ns.dynamics.slow_points(ns.dynamics.system(rnn), starts, max_iter=200)
        ro = np.asarray(rnn.readout(jnp.asarray(sp.x)))
    return rnn, sp, ro, err


@pytest.fixture(scope="module")
def one_bit():
    return _trained(1, 16, 120, 512)


def _fixed_and_index(rnn, sp):
    fixed = np.array([q <= _q_rounding(rnn, x) for x, q in zip(sp.x, sp.q, strict=True)])
    return fixed, np.sum(sp.eigenvalues.real > 0, axis=1)


@pytest.mark.slow
def test_one_bit_memories_are_two_stable_fixed_points_at_the_targets(one_bit):
    rnn, sp, ro, err = one_bit
    assert err < 0.25, f"training failed: settled readout error {err}"
    fixed, n_up = _fixed_and_index(rnn, sp)
    stable = np.flatnonzero(fixed & (n_up == 0))
    assert len(stable) == 2, (sp.q, n_up)
    # the readouts are the two targets, within the error on settled test trials
    np.testing.assert_allclose(np.sort(ro[stable, 0]), [-1.0, 1.0], atol=err)


@pytest.mark.slow
def test_one_bit_saddle_between_memories_has_one_unstable_direction(one_bit):
    rnn, sp, ro, _ = one_bit
    fixed, n_up = _fixed_and_index(rnn, sp)
    stable = sp.x[fixed & (n_up == 0)]
    saddles = np.flatnonzero(fixed & (n_up == 1))
    assert len(saddles) >= 1, (sp.kind, n_up)
    i = saddles[0]
    lam = np.linalg.eigvals(_jacobian_np(rnn, sp.x[i]))
    assert np.sum(lam.real > 0) == 1  # from the independent Jacobian too
    # its unstable manifold leads to the two memories (one each way)
    vals, vecs = np.linalg.eig(sp.jacobian[i])
    v = np.real(vecs[:, np.argmax(vals.real)])
    ends = []
    with jax.enable_x64(True):
        run = jax.jit(lambda x0: rnn(jnp.zeros((3000, 1)), DT, x0)[0][-1])
        for sign in (1.0, -1.0):
            ends.append(np.asarray(run(jnp.asarray(sp.x[i] + sign * 1e-4 * v))))
    d = np.array([[np.max(np.abs(e - s)) for s in stable] for e in ends])
    assert sorted(np.argmin(d, axis=1).tolist()) == [0, 1], d
    assert np.max(np.min(d, axis=1)) < 1e-3 * np.max(np.abs(stable)), d


@pytest.mark.slow
def test_reported_points_have_q_below_tolerance_and_exact_linearisations(one_bit):
    rnn, sp, _, _ = one_bit
    assert len(sp.x) >= 3
    for x, q, jac in zip(sp.x, sp.q, sp.jacobian, strict=True):
        f = _flow_np(rnn, x)
        # the same residual, independently evaluated (agrees to rounding)
        assert abs(0.5 * f @ f - q) <= 4 * _q_rounding(rnn, x) + 1e-12 * q
        assert 0.5 * f @ f <= 2 * _q_rounding(rnn, x), "a true fixed point"
        ref = _jacobian_np(rnn, x)
        np.testing.assert_allclose(jac, ref, atol=100 * EPS * np.abs(ref).max())


@pytest.mark.slow
def test_two_bit_flip_flop_has_four_memories_at_the_four_corners():
    rnn, sp, ro, err = _trained(2, 24, 250, 256)
    assert err < 0.25, f"training failed: settled readout error {err}"
    fixed, n_up = _fixed_and_index(rnn, sp)
    stable = np.flatnonzero(fixed & (n_up == 0))
    assert len(stable) == 4, n_up
    corners = np.sign(ro[stable])
    assert len({tuple(c) for c in corners}) == 4
    assert np.max(np.abs(ro[stable] - corners)) <= err
    # four basins in a connected state space: at least three index-1 saddles join them
    assert np.sum(fixed & (n_up == 1)) >= 3, n_up


# ---------------------------------------------------------------- fast checks


def test_rate_rnn_system_is_the_models_flow_with_closed_form_jacobian():
    with jax.enable_x64(True):
        rnn = ns.train.make_rate_rnn(jax.random.key(3), 2, 6, 1, tau=5.0, g=1.5)
        s = ns.dynamics.system(rnn, u=[0.3, -0.2])
        x = np.random.default_rng(0).standard_normal(6)
        f = np.asarray(s(x))
        jac = np.asarray(s.jacobian(x))
    w, wi = np.asarray(rnn.w_rec), np.asarray(rnn.w_in)
    ref = (-x + w @ np.tanh(x) + wi @ np.array([0.3, -0.2])) / 5.0
    np.testing.assert_allclose(f, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jac, _jacobian_np(rnn, x), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"u must have shape \(n_in,\) = \(2,\)"):
        ns.dynamics.system(rnn, u=[1.0, 2.0, 3.0])


def test_flip_flop_targets_hold_the_sign_of_the_last_pulse():
    u, y = ns.train.flip_flop(1, 16, n_bits=3, n_steps=120, p_pulse=0.05, pulse_steps=4)
    assert u.shape == y.shape == (16, 120, 3)
    assert set(np.unique(u)) <= {-1.0, 0.0, 1.0}
    for n in range(16):
        for k in range(3):
            held = 0.0
            for t in range(120):
                starts = u[n, t, k] != 0 and (t == 0 or u[n, t - 1, k] != u[n, t, k])
                held = u[n, t, k] if starts else held
                assert y[n, t, k] == held
    with pytest.raises(ValueError, match="p_pulse"):
        ns.train.flip_flop(0, 4, p_pulse=1.5)
    with pytest.raises(ValueError, match="tau"):
        ns.train.make_rate_rnn(jax.random.key(0), 1, 4, 1, tau=-1.0)
