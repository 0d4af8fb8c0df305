"""Procedural connectivity: one matrix, whichever way it is walked.

Event product, reference product, transpose, todense, vmap and the stored CSR built with the
same key must be the same matrix. With integer-valued spikes and weights every sum is exact in
float32, so these comparisons are bitwise; float weights are compared to float32 rounding.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

N_PRE, N_POST, P = 60, 45, 0.2
KEY = jax.random.key(11)


# Jitted entry points (the operator is an argument): one compilation per structure, not per call.
@functools.partial(jax.jit, static_argnames="backend")
def _event(conn, s, backend="auto"):
    return ns.ops.event_matvec(conn, s, backend=backend)


_dense = jax.jit(lambda conn: conn.todense())
_transpose = jax.jit(lambda conn, y: conn.transpose_matvec(y))
_reference = jax.jit(lambda conn, x: conn.reference_matvec(x))


def _stored_dense(csr):
    """Dense matrix of a stored CSR from its arrays (NumPy)."""
    indptr = np.asarray(csr.indptr)
    w = np.broadcast_to(np.asarray(csr.weights), np.asarray(csr.indices).shape)[: csr.nnz]
    out = np.zeros((csr.n_pre, csr.n_post), w.dtype)
    rows = np.repeat(np.arange(csr.n_pre), np.diff(indptr))
    np.add.at(out, (rows, np.asarray(csr.indices)[: csr.nnz]), w)
    return out


def _pair(weight, p=P, n_pre=N_PRE, n_post=N_POST, same=False, autapses=True, **kw):
    stored = ns.connectivity.FixedProbability(p, allow_autapses=autapses).build(
        KEY, n_pre, n_post, weight, same_population=same
    )
    proc = ns.connectivity.FixedProbability(p, allow_autapses=autapses, procedural=True).build(
        KEY, n_pre, n_post, weight, same_population=same
    )
    if kw:
        proc = ns.ops.ProceduralBernoulli(
            proc.key, proc.weights, n_pre, n_post, p, proc.skip_self, **kw
        )
    return stored, proc


def _spikes(seed, n=N_PRE, batch=6, p=0.2, counts=False):
    rng = np.random.default_rng(seed)
    s = (rng.random((batch, n)) < p).astype(np.float32)
    if counts:  # graded, integer-valued
        s *= rng.integers(1, 4, s.shape)
    return s


@pytest.mark.parametrize(
    "weight",
    [2.0, ns.init.Constant(3.0), ns.init.Uniform(-1.0, 2.0), ns.init.Normal(0.5, 1.0)],
    ids=["scalar", "constant", "uniform", "normal"],
)
def test_todense_equals_stored_bitwise(weight):
    stored, proc = _pair(weight)
    np.testing.assert_array_equal(np.asarray(_dense(proc)), _stored_dense(stored))
    assert proc.count() == (stored.nnz, stored.max_row)
    assert abs(proc.nnz - stored.nnz) < 5 * np.sqrt(N_PRE * N_POST * P)  # nnz is the mean


def test_no_autapses_and_edge_probabilities():
    stored, proc = _pair(1.0, p=0.5, n_pre=30, n_post=30, same=True, autapses=False)
    dense = np.asarray(_dense(proc))
    np.testing.assert_array_equal(dense, _stored_dense(stored))
    assert np.all(np.diag(dense) == 0) and dense.sum() > 0
    full = _pair(1.0, p=1.0, n_pre=7, n_post=9)[1]
    np.testing.assert_array_equal(np.asarray(_dense(full)), np.ones((7, 9)))
    empty = _pair(1.0, p=0.0)[1]
    assert empty.nnz == 0 and not np.any(np.asarray(_dense(empty)))
    np.testing.assert_array_equal(np.asarray(_event(empty, jnp.ones(N_PRE))), 0)


@pytest.mark.parametrize("backend", ["auto", "loop", "reference", "dense"])
def test_event_product_equals_stored_bitwise(backend):
    stored, proc = _pair(ns.init.Constant(2.0))
    dense = _stored_dense(stored)
    for s in _spikes(0, counts=True):
        out = np.asarray(_event(proc, jnp.asarray(s), backend=backend))
        np.testing.assert_array_equal(out, s @ dense)
        np.testing.assert_array_equal(out, np.asarray(_event(stored, jnp.asarray(s))))


def test_float_weights_close_to_stored():
    stored, proc = _pair(ns.init.Normal(0.5, 1.0))
    dense = _stored_dense(stored).astype(np.float64)
    for s in _spikes(1):
        out = np.asarray(_event(proc, jnp.asarray(s)))
        np.testing.assert_allclose(out, s @ dense, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(lanes=1, block_rows=1), dict(lanes=5, block_rows=3)])
def test_matrix_does_not_depend_on_chunking(kw):
    """Tiny chunks force many continuation steps per row; the rows must not change."""
    stored, proc = _pair(ns.init.Constant(2.0), **kw)
    dense = _stored_dense(stored)
    for s in _spikes(2, counts=True):
        np.testing.assert_array_equal(np.asarray(_event(proc, jnp.asarray(s))), s @ dense)
    y = np.arange(N_POST, dtype=np.float32) % 5
    np.testing.assert_array_equal(np.asarray(_transpose(proc, jnp.asarray(y))), dense @ y)


def test_forward_and_transpose_are_adjoint_exactly():
    """<x, W y> == <W^T x, y> with integer data, for every way of walking the rows."""
    stored, proc = _pair(ns.init.Constant(3.0))
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = rng.integers(-3, 4, N_PRE).astype(np.float32)
        y = rng.integers(-3, 4, N_POST).astype(np.float32)
        wy = np.asarray(_transpose(proc, jnp.asarray(y)))
        for fwd in (_reference(proc, jnp.asarray(x)), _event(proc, jnp.asarray(x))):
            assert float(np.dot(np.asarray(fwd), y)) == float(np.dot(x, wy))
    # JAX's transpose of the (linear) reference product is the explicit gather per row.
    (t,) = jax.linear_transpose(proc.reference_matvec, jnp.zeros(N_PRE))(jnp.asarray(y))
    np.testing.assert_array_equal(np.asarray(t), wy)
    np.testing.assert_array_equal(wy, _stored_dense(stored) @ y)


def test_vmap_equals_loop_and_dense():
    _, proc = _pair(ns.init.Constant(2.0))
    S = _spikes(4, counts=True)
    out = np.asarray(ns.ops.event_matmat(proc, jnp.asarray(S)))
    loop = np.stack([np.asarray(_event(proc, jnp.asarray(s))) for s in S])
    np.testing.assert_array_equal(out, loop)
    np.testing.assert_array_equal(out, S @ np.asarray(_dense(proc)))
    y = jnp.asarray(S[:, :N_POST])
    np.testing.assert_array_equal(
        np.asarray(jax.vmap(proc.transpose_matvec)(y)), np.asarray(y) @ np.asarray(_dense(proc)).T
    )


def test_grad_wrt_spikes_and_scalar_weight_matches_dense():
    _, proc = _pair(0.7)
    dense = _dense(proc)
    s = jnp.asarray(_spikes(5)[0])
    c = jax.random.normal(jax.random.key(0), (N_POST,))

    def loss_event(w, s):
        return jnp.sum(jnp.tanh(ns.ops.event_matvec(proc.with_weights(w), s)) * c)

    def loss_dense(w, s):
        return jnp.sum(jnp.tanh(s @ (dense * (w / 0.7))) * c)

    ge = jax.jit(jax.grad(loss_event, argnums=(0, 1)))(jnp.asarray(0.7), s)
    gd = jax.grad(loss_dense, argnums=(0, 1))(jnp.asarray(0.7), s)
    np.testing.assert_allclose(float(ge[0]), float(gd[0]), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(ge[1]), np.asarray(gd[1]), rtol=1e-5, atol=1e-6)
    assert np.any(np.asarray(ge[1])[np.asarray(s) == 0] != 0)  # reaches silent neurons


def test_grad_wrt_initializer_parameters_matches_dense():
    """d/d(loc, std) of Normal weights: the dense matrix is loc * M + std * Z (linear)."""
    _, proc = _pair(ns.init.Normal(0.5, 1.0))
    mask = np.asarray(_dense(proc.with_weights(ns.init.Constant(1.0))))
    z = (np.asarray(_dense(proc)) - 0.5 * mask) / 1.0
    s = jnp.asarray(_spikes(6)[0])
    c = jax.random.normal(jax.random.key(1), (N_POST,))

    def loss_event(theta):
        conn = proc.with_weights(ns.init.Normal(theta[0], theta[1]))
        return jnp.sum(jnp.tanh(ns.ops.event_matvec(conn, s)) * c)

    def loss_dense(theta):
        return jnp.sum(jnp.tanh(s @ (theta[0] * mask + theta[1] * z)) * c)

    theta = jnp.array([0.5, 1.0])
    np.testing.assert_allclose(
        np.asarray(jax.jit(jax.grad(loss_event))(theta)),
        np.asarray(jax.grad(loss_dense)(theta)),
        rtol=1e-4,
    )
    _, t = jax.jit(lambda a, b: jax.jvp(loss_event, (a,), (b,)))(theta, jnp.array([1.0, -0.5]))
    _, td = jax.jvp(loss_dense, (theta,), (jnp.array([1.0, -0.5]),))
    np.testing.assert_allclose(float(t), float(td), rtol=1e-4)


def test_row_over_capacity_is_reported_not_truncated():
    stored, proc = _pair(1.0, p=0.5, capacity=4)  # rows of ~22 targets, 4 fixed lanes
    s = jnp.asarray(_spikes(7)[0])
    # The event path has no capacity: still the full matrix.
    np.testing.assert_array_equal(
        np.asarray(_event(proc, jnp.asarray(s))), np.asarray(s) @ _stored_dense(stored)
    )
    with pytest.raises(Exception, match="capacity"):
        jax.block_until_ready(_reference(proc, s))


def test_memory_does_not_grow_with_synapses():
    small = ns.connectivity.FixedProbability(0.1, procedural=True).build(KEY, 100, 100, 1.0)
    big = ns.connectivity.FixedProbability(0.1, procedural=True).build(KEY, 10**6, 10**6, 1.0)
    assert big.nbytes() == small.nbytes() < 64
    assert big.nnz == 10**11


def test_seed_is_an_array_leaf_and_weights_validated():
    gen = ns.connectivity.FixedProbability(0.2, procedural=True)
    a = gen.build(jax.random.key(0), 20, 20, 1.0)
    b = gen.build(jax.random.key(1), 20, 20, 1.0)
    assert jax.tree.structure(a) == jax.tree.structure(b)  # new seed: same jit cache entry
    assert not np.array_equal(np.asarray(_dense(a)), np.asarray(_dense(b)))

    class NoQuantile(ns.init.AbstractInit):
        def sample(self, key, shape):
            return jnp.ones(shape)

        def mean(self):  # abstract on AbstractInit (was a NotImplementedError stub)
            return 1.0

    with pytest.raises(ValueError, match="quantile"):
        gen.build(jax.random.key(0), 20, 20, NoQuantile())


def test_network_gradient_same_for_stored_and_procedural():
    """d(sum of v)/d(weights) through 20 steps of a tiny COBA: the same for both forms."""
    import equinox as eqx

    def grad_of(kind):
        net = ns.models.coba(n=40, key=jax.random.key(2), in_degree=6.0, connectivity=kind)
        state = net.init_state(jax.random.key(3), 0.1)

        def loss(w):
            n2 = eqx.tree_at(lambda n: n.projections[0].conn.weights, net, w)
            _, out = ns.run(n2, state, 20, 0.1, key=jax.random.key(4), record=["P.v"])
            return jnp.sum(out.traces["P.v"])

        w0 = net.projections[0].conn.weights
        return jax.jit(jax.value_and_grad(loss))(w0)

    (v_s, g_s), (v_p, g_p) = grad_of("stored"), grad_of("procedural")
    assert float(v_s) == float(v_p)  # same matrix, same forward pass
    np.testing.assert_allclose(float(g_p), float(g_s), rtol=1e-5)
    assert float(g_s) != 0.0
