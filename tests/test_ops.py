"""Event delivery: every backend equals the dense reference; gradients and vmap agree with it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

N_PRE, N_POST = 60, 45


@pytest.fixture(scope="module")
def csr_pair():
    key = jax.random.key(3)
    hom = ns.connectivity.FixedProbability(0.2).build(key, N_PRE, N_POST, 1.0)
    het = ns.connectivity.FixedProbability(0.2).build(key, N_PRE, N_POST, ns.init.Normal(0.5, 1.0))
    return hom, het


def _spike_patterns(seed, n=8, p=0.15):
    rng = np.random.default_rng(seed)
    return (rng.random((n, N_PRE)) < p).astype(np.float32)


@pytest.mark.parametrize("backend", ["loop", "reference", "auto"])
def test_counts_equal_dense_bitwise(csr_pair, backend):
    hom, _ = csr_pair
    dense = np.asarray(hom.todense())
    for s in _spike_patterns(0):
        out = np.asarray(ns.ops.event_matvec(hom, jnp.asarray(s), backend=backend))
        np.testing.assert_array_equal(out, s @ dense)  # integer counts: exact


@pytest.mark.parametrize("backend", ["loop", "reference", "auto"])
def test_float_sums_close_to_dense(csr_pair, backend):
    _, het = csr_pair
    dense = np.asarray(het.todense(), np.float64)
    for s in _spike_patterns(1):
        out = np.asarray(ns.ops.event_matvec(het, jnp.asarray(s), backend=backend))
        np.testing.assert_allclose(out, s @ dense, rtol=1e-5, atol=1e-5)


def test_graded_spikes_and_empty_pattern(csr_pair):
    _, het = csr_pair
    s = np.zeros(N_PRE, np.float32)
    np.testing.assert_array_equal(np.asarray(ns.ops.event_matvec(het, s)), 0.0)
    s[[3, 7]] = [0.5, 2.0]
    ref = s @ np.asarray(het.todense())
    np.testing.assert_allclose(np.asarray(ns.ops.event_matvec(het, s)), ref, rtol=1e-5, atol=1e-6)


def test_todense_matches_edges():
    pre = np.array([0, 0, 2, 1, 2])
    post = np.array([1, 3, 0, 3, 2])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    csr = ns.connectivity.from_edges(pre, post, w, 3, 4)
    dense = np.zeros((3, 4))
    dense[pre, post] = w
    np.testing.assert_array_equal(np.asarray(csr.todense()), dense)
    np.testing.assert_array_equal(np.asarray(ns.connectivity.from_dense(dense).todense()), dense)


def test_grad_wrt_spikes_and_weights_matches_dense(csr_pair):
    _, het = csr_pair
    s = jnp.asarray(_spike_patterns(2)[0])
    c = jax.random.normal(jax.random.key(0), (N_POST,))

    def loss_event(w, s):
        return jnp.sum(jnp.tanh(ns.ops.event_matvec(het.with_weights(w), s)) * c)

    def loss_dense(w, s):
        return jnp.sum(jnp.tanh(s @ het.with_weights(w).todense()) * c)

    w = het.weights[: het.nnz]
    gw_e, gs_e = jax.grad(loss_event, argnums=(0, 1))(w, s)
    gw_d, gs_d = jax.grad(loss_dense, argnums=(0, 1))(w, s)
    np.testing.assert_allclose(
        np.asarray(gw_e)[: het.nnz], np.asarray(gw_d)[: het.nnz], rtol=1e-5, atol=1e-6
    )
    # The spike gradient reaches presynaptic neurons that did not spike (full product).
    np.testing.assert_allclose(np.asarray(gs_e), np.asarray(gs_d), rtol=1e-5, atol=1e-6)
    assert np.any(np.asarray(gs_e)[np.asarray(s) == 0] != 0)


def test_jvp_matches_dense(csr_pair):
    _, het = csr_pair
    s = jnp.asarray(_spike_patterns(3)[0])
    ds = jax.random.normal(jax.random.key(1), (N_PRE,))
    _, t_event = jax.jvp(lambda x: ns.ops.event_matvec(het, x), (s,), (ds,))
    np.testing.assert_allclose(
        np.asarray(t_event), np.asarray(ds @ het.todense()), rtol=1e-5, atol=1e-5
    )


def test_vmap_matches_batched_dense(csr_pair):
    _, het = csr_pair
    S = jnp.asarray(_spike_patterns(4, n=5))
    out = ns.ops.event_matmat(het, S)
    np.testing.assert_allclose(np.asarray(out), np.asarray(S @ het.todense()), rtol=1e-5, atol=1e-5)


def test_bad_inputs():
    csr = ns.connectivity.from_dense(np.eye(3))
    with pytest.raises(ValueError, match="shape"):
        ns.ops.event_matvec(csr, jnp.zeros(4))
    with pytest.raises(ValueError, match="backend"):
        ns.ops.event_matvec(csr, jnp.zeros(3), backend="gpu-magic")
    with pytest.raises(ValueError, match="indices"):
        ns.ops.CSR.from_arrays([0, 1], [5], 1.0, n_post=3)
