"""The compiled CPU kernel for per-synapse delays (``csrc/delay_kernels.cc``) against the XLA
loops of ``neurosim/network/_delays.py``: bitwise equal rings and arriving input (same slots,
same values added in the same order), in networks the same spikes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.network import _delays
from neurosim.network._delays import deliver_delayed

pytestmark = pytest.mark.skipif(
    not ns.ops.ffi_available(), reason="compiled CPU kernels unavailable"
)
N_PRE, N_POST = 120, 90


def _csr(seed, homogeneous):
    rng = np.random.default_rng(seed)
    indptr = np.concatenate([[0], np.cumsum(rng.integers(0, 25, N_PRE))])
    nnz = int(indptr[-1])
    idx = rng.integers(0, N_POST, nnz)  # repeated targets: order of summation matters
    w = 0.7 if homogeneous else rng.normal(size=nnz).astype(np.float32)
    delays = rng.uniform(0.0, 2.0, nnz).astype(np.float32)
    return ns.ops.CSR.from_arrays(indptr, idx, w, N_POST), jnp.asarray(delays)


def _spikes(kind, key):
    u = jax.random.uniform(key, (N_PRE,))
    if kind == "none":
        return jnp.zeros((N_PRE,), jnp.float32)
    if kind == "all":
        return jnp.ones((N_PRE,), jnp.float32)
    if kind == "graded":  # values and signs that round differently in other orders
        return jnp.where(u < 0.3, jax.random.normal(key, (N_PRE,)) * 3.7, 0.0)
    return (u < 0.2).astype(jnp.float32)


def _run(conn, delays, kind, dt, rule, backend, n_steps=90, step0=0):
    n_slots = _delays.ring_length(2.0, np.float32, dt, N_POST, "p")

    @jax.jit
    def f(ring):
        def body(ring, s):
            sp = _spikes(kind, jax.random.fold_in(jax.random.key(5), s))
            return deliver_delayed(conn, delays, sp, ring, s, dt, backend, rule=rule)

        steps = step0 + jnp.arange(n_steps, dtype=jnp.int32)
        return jax.lax.scan(body, ring, steps)

    ring0 = jnp.asarray(np.random.default_rng(1).normal(size=(n_slots, N_POST)), jnp.float32)
    return f(ring0), f.lower(ring0).as_text()


@pytest.mark.parametrize("homogeneous", [False, True])
@pytest.mark.parametrize(
    ("dt", "rule", "kind"),
    [
        (0.1, (0, 0), "binary"),
        (0.1, (0, 0), "graded"),
        (0.1, (0, 0), "all"),
        (0.1, (0, 0), "none"),
        (0.25, (1, 1), "graded"),
        (0.1, (1, 0), "binary"),
        (0.2, (0, 3), "all"),
    ],
)
def test_kernel_equals_xla_loops_bitwise(homogeneous, dt, rule, kind):
    conn, delays = _csr(3, homogeneous)
    (ring_k, now_k), hlo = _run(conn, delays, kind, dt, rule, "auto")
    (ring_x, now_x), hlo_x = _run(conn, delays, kind, dt, rule, "loop")
    assert "neurosim_csr_delay" in hlo and "neurosim_csr_delay" not in hlo_x
    # 90 steps through a ring of 21 (dt 0.1) or 9 slots: every slot reused several times
    np.testing.assert_array_equal(np.asarray(now_k), np.asarray(now_x))
    np.testing.assert_array_equal(np.asarray(ring_k), np.asarray(ring_x))
    if kind != "none":
        assert np.count_nonzero(np.asarray(now_k)) > 100


def test_kernel_slots_across_int32_wraparound():
    conn, delays = _csr(4, False)
    step0 = 2**31 - 40  # step + delay wraps to negative int32: jnp's floor modulo
    (ring_k, now_k), _ = _run(conn, delays, "binary", 0.1, (0, 0), "auto", 39, step0)
    (ring_x, now_x), _ = _run(conn, delays, "binary", 0.1, (0, 0), "loop", 39, step0)
    np.testing.assert_array_equal(np.asarray(now_k), np.asarray(now_x))
    np.testing.assert_array_equal(np.asarray(ring_k), np.asarray(ring_x))


def test_kernel_vmap_and_gradients_match_xla_loops():
    conn, delays = _csr(5, False)
    ring = jnp.zeros((21, N_POST), jnp.float32)
    sp = jnp.stack([_spikes("graded", jax.random.key(k)) for k in range(3)])

    def deliver(backend, w, s):
        c = conn.with_weights(w)
        r, now = deliver_delayed(c, delays, s, ring, jnp.int32(7), 0.1, backend)
        return r, now

    w = conn.weights
    a = jax.vmap(lambda s: deliver("auto", w, s))(sp)  # one kernel call per batch entry
    b = jax.vmap(lambda s: deliver("loop", w, s))(sp)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))

    def loss(backend, w, s):
        r, now = deliver(backend, w, s)
        return jnp.sum(r**2) + jnp.sum(jnp.sin(now))

    g_k = jax.grad(loss, argnums=(1, 2))("auto", w, sp[0])
    g_x = jax.grad(loss, argnums=(1, 2))("loop", w, sp[0])
    for x, y in zip(g_k, g_x, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.filterwarnings("ignore::neurosim.network.DelayRoundingWarning")
def test_network_same_spikes_with_kernel_and_xla_loops(monkeypatch):
    used = []
    use_kernel = _delays._use_kernel
    monkeypatch.setattr(_delays, "_use_kernel", lambda *a: used.append(use_kernel(*a)) or used[-1])

    def build(backend):
        b = ns.NetworkBuilder(key=jax.random.key(4), conventions="nest")
        b.add_population("P", ns.neurons.LIF(80, i_e=220.0, v_init=ns.init.Uniform(-60.0, -50.0)))
        b.connect(
            "P",
            "P",
            ns.connectivity.FixedProbability(0.2),
            weight=ns.init.Uniform(1.0, 5.0),
            synapse=ns.synapses.Exponential(5.0),
            output=ns.synapses.COBA(0.0),
            delay=ns.init.Uniform(0.1, 3.0),
            backend=backend,
        )
        return b.build()

    kw = dict(key=jax.random.key(2), record=["P.v"])
    r_k = ns.simulate(build("auto"), 60.0, 0.1, **kw)
    assert used and all(used)  # the "auto" network ran the kernel
    r_x = ns.simulate(build("loop"), 60.0, 0.1, **kw)
    assert r_k.n_spikes > 50
    np.testing.assert_array_equal(r_k.spike_indices, r_x.spike_indices)
    np.testing.assert_array_equal(r_k.spike_times, r_x.spike_times)
    np.testing.assert_array_equal(r_k.traces["P.v"], r_x.traces["P.v"])
