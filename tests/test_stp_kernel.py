"""The compiled Tsodyks–Markram kernel (csrc/stp_kernels.cc) against ``transmit`` + delivery.

The kernel evaluates ``exp`` with the C library, XLA with its own approximation: they differ
by at most 1 ulp. ``u`` and ``x`` lie in [0, 1] and each step maps them through
``1 + (x - 1) e`` and ``x (1 - u)``, which do not amplify absolute errors, so states and
release ``u x`` agree to a couple of eps absolute (measured: <= 1 eps), and the delivered
input to 2 eps times the summed weights of a target's spiking inputs.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

pytestmark = pytest.mark.skipif(
    not ns.ops.ffi_available(), reason="compiled CPU kernels unavailable"
)

N_PRE, N_POST, T = 50, 30, 400


def _conn(homogeneous, seed=0):
    rng = np.random.default_rng(seed)
    conn = ns.connectivity.FixedProbability(0.2).build(jax.random.key(seed), N_PRE, N_POST, 1.0)
    if homogeneous:
        return conn
    w = rng.uniform(0.5, 2.0, conn.indices.shape[0])
    return conn.with_weights(jnp.asarray(w, jnp.result_type(float)))


def _spikes(kind, seed=0):
    rng = np.random.default_rng(seed)
    s = (rng.random((T, N_PRE)) < 0.05).astype(float)
    s[100:110, 3] = 1.0  # one neuron in 10 consecutive steps
    if kind == "none":
        return 0 * s
    if kind == "all":
        return np.ones_like(s)
    if kind == "graded":  # values in (0, 1] keep u and x in [0, 1]
        return s * rng.uniform(0.2, 1.0, s.shape)
    return s


def _run(rule, conn, spikes, fused, dt=0.1):
    rule = rule.bind(conn)

    def go(sp):
        def body(st, s):
            if fused:
                drive = ns.network.ProjectionDrive(conn, s, jnp.zeros(N_POST, s.dtype))
                st, tr = rule.step(st, drive, 0, dt, None)
                values, out = tr.values, tr.out
            else:
                st, values = rule.transmit(st, s, dt)
                out = ns.ops.event_matvec(conn, values)
            return st, (out, values, st["u"], st["x"], st["elapsed"])

        return jax.lax.scan(body, rule.init(None, dt), sp)[1]

    fn = jax.jit(go)
    sp = jnp.asarray(spikes, jnp.result_type(float))
    assert ("neurosim_stp_deliver" in fn.lower(sp).as_text()) == fused
    return [np.asarray(a) for a in fn(sp)]


def _compare(rule, conn, spikes):
    (out_k, v_k, u_k, x_k, e_k) = _run(rule, conn, spikes, True)
    (out_j, v_j, u_j, x_j, e_j) = _run(rule, conn, spikes, False)
    eps = np.finfo(u_k.dtype).eps
    np.testing.assert_array_equal(e_k, e_j)
    for a, b in ((u_k, u_j), (x_k, x_j)):
        np.testing.assert_allclose(a, b, rtol=0, atol=2 * eps)
    scale = np.abs(spikes).max(initial=0) if spikes.size else 0  # graded spikes scale values
    np.testing.assert_allclose(v_k, v_j, rtol=0, atol=2 * eps * max(scale, 1))
    w_abs = np.abs(np.asarray(conn.todense()))
    bound = 2 * eps * max(scale, 1) * (np.abs(spikes) > 0).astype(float) @ w_abs
    assert np.all(np.abs(out_k - out_j) <= bound + 1e-30)
    return out_k, out_j


@pytest.mark.parametrize("x64", [False, True])
@pytest.mark.parametrize("homogeneous", [False, True])
def test_kernel_matches_transmit_and_delivery(x64, homogeneous):
    with jax.enable_x64(x64):
        rule = ns.plasticity.TsodyksMarkram(U=0.3, tau_rec=100.0, tau_facil=50.0)
        out_k, _ = _compare(rule, _conn(homogeneous), _spikes("random"))
    assert np.abs(out_k).max() > 0.1


@pytest.mark.parametrize("kind", ["none", "all", "graded"])
def test_kernel_edge_cases(kind):
    """No spikes, every neuron every step (deep depression), graded spike values; pure
    depression (tau_facil = 0) with per-neuron U and tau_rec."""
    rng = np.random.default_rng(5)
    rule = ns.plasticity.TsodyksMarkram(
        U=rng.uniform(0.1, 0.9, N_PRE), tau_rec=rng.uniform(20.0, 500.0, N_PRE), tau_facil=0.0
    )
    out_k, _ = _compare(rule, _conn(False), _spikes(kind))
    if kind == "none":
        assert not out_k.any()


def test_vmap_and_grad_use_the_reference_derivative():
    conn = _conn(False)
    spikes = jnp.asarray(_spikes("random"), jnp.float32)

    def total(U, fused):
        rule = ns.plasticity.TsodyksMarkram(U=U, tau_rec=100.0, tau_facil=50.0).bind(conn)

        def body(st, s):
            if fused:
                drive = ns.network.ProjectionDrive(conn, s, jnp.zeros(N_POST, s.dtype))
                st, tr = rule.step(st, drive, 0, 0.1, None)
                return st, tr.out.sum()
            st, v = rule.transmit(st, s, 0.1)
            return st, ns.ops.event_matvec(conn, v).sum()

        return jax.lax.scan(body, rule.init(None, 0.1), spikes)[1].sum()

    Us = jnp.asarray([0.2, 0.5, 0.8], jnp.float32)
    batched = jax.jit(jax.vmap(lambda u: total(u, True)))(Us)
    single = [jax.jit(lambda u: total(u, True))(u) for u in Us]
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(single))
    g_k = jax.jit(jax.grad(lambda u: total(u, True)))(jnp.float32(0.3))
    g_j = jax.jit(jax.grad(lambda u: total(u, False)))(jnp.float32(0.3))
    assert float(g_k) != 0.0
    np.testing.assert_allclose(float(g_k), float(g_j), rtol=1e-5)


def test_other_connectivity_and_backends_use_the_reference():
    """ELL connectivity, or a projection backend other than auto/ffi: no kernel."""
    conn = _conn(False)
    rule = ns.plasticity.TsodyksMarkram(U=0.3, tau_rec=100.0).bind(conn)
    st = rule.init(None, 0.1)
    s = jnp.zeros(N_PRE).at[0].set(1.0)
    post = jnp.zeros(N_POST)
    _, tr = rule.step(st, ns.network.ProjectionDrive(conn, s, post, "loop"), 0, 0.1, None)
    assert tr.out is None
    ell = conn.to_ell()
    _, tr = rule.bind(ell).step(st, ns.network.ProjectionDrive(ell, s, post), 0, 0.1, None)
    assert tr.out is None
    _, tr = rule.step(st, ns.network.ProjectionDrive(conn, s, post), 0, 0.1, None)
    assert tr.out is not None
