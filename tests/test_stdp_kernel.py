"""The compiled STDP kernel (csrc/plasticity_kernels.cc) against the pure-JAX event loops.

Both paths do the same arithmetic in the same order (the kernel fuses `a + b * c` where XLA's
CPU backend does), so weights, delivered input and spikes are compared bit for bit.
"""

import contextlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_stdp import CASES, DT, N_POST, N_PRE, POST, PRE, _make, _trains, _w0

import neurosim as ns
from neurosim.plasticity import _events

pytestmark = pytest.mark.skipif(
    not ns.ops.ffi_available(), reason="compiled CPU kernels unavailable"
)


@contextlib.contextmanager
def _disabled():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_events, "use_kernel", lambda rule, w: False)
        yield


@pytest.fixture
def no_kernel():
    """A context manager: STDP rules traced (afresh) inside it use the pure-JAX loops."""
    return _disabled


def _scan(rule, conn, pre, post, dt=DT):
    """``(final weights, delivered input per step, lowered HLO text)`` of a fresh jit."""

    def go(pre, post):
        bound = rule.bind(conn)
        st = bound.init(None, dt)

        def body(st, sp):
            drive = ns.network.ProjectionDrive(conn, sp[0], sp[1])
            st, tr = bound.step(st, drive, 0, dt, None)
            out = tr.out if tr.out is not None else ns.ops.event_matvec(tr.conn, tr.values)
            return st, out

        st, outs = jax.lax.scan(body, st, (pre, post))
        return st["w"][: conn.nnz], outs

    fn = jax.jit(go)
    pre, post = jnp.asarray(pre), jnp.asarray(post)
    w, outs = fn(pre, post)
    return np.asarray(w), np.asarray(outs), fn.lower(pre, post).as_text()


def _both(no_kernel, rule, conn, pre, post):
    w_k, out_k, hlo_k = _scan(rule, conn, pre, post)
    with no_kernel():
        w_j, out_j, hlo_j = _scan(rule, conn, pre, post)
    assert "neurosim_stdp_deliver_update" in hlo_k
    assert "neurosim_stdp" not in hlo_j
    return (w_k, out_k), (w_j, out_j)


def _trains_with(kind, seed=0):
    pre, post = _trains(seed=seed, p=0.1)
    if kind == "none":
        return 0 * pre, 0 * post
    if kind == "all":
        return np.ones_like(pre), np.ones_like(post)
    if kind == "graded":  # graded spike values: w + s * d with s != 1
        rng = np.random.default_rng(seed + 10)
        return pre * rng.uniform(0.2, 2.0, pre.shape), post * rng.uniform(0.2, 2.0, post.shape)
    return pre, post


@pytest.mark.parametrize("x64", [False, True])
@pytest.mark.parametrize("case", list(CASES))
def test_kernel_equals_the_loops_bitwise(no_kernel, case, x64):
    """Every rule of test_stdp, float32 and float64, 400 steps with repeated spikes of the
    same neurons in consecutive steps: identical weights and delivered input."""
    pre, post = _trains_with("random")
    pre[200:204, 1] = post[200:204, 0] = 1.0  # a neuron spiking in 4 consecutive steps
    with jax.enable_x64(x64):
        conn = ns.connectivity.from_edges(PRE, POST, _w0(), N_PRE, N_POST)
        (w_k, out_k), (w_j, out_j) = _both(no_kernel, _make(case, "event"), conn, pre, post)
    assert w_k.dtype == (np.float64 if x64 else np.float32)
    assert np.abs(w_k - np.asarray(conn.synapse_weights())).max() > 0.05
    np.testing.assert_array_equal(w_k, w_j)
    np.testing.assert_array_equal(out_k, out_j)


@pytest.mark.parametrize("kind", ["none", "all", "graded"])
def test_kernel_edge_cases(no_kernel, kind):
    """No spikes (weights unchanged, nothing delivered), every neuron in every step, graded
    spike values; triplet and a soft-bound pair rule."""
    pre, post = _trains_with(kind)
    conn = ns.connectivity.from_edges(PRE, POST, _w0(), N_PRE, N_POST)
    for case in ("gutig_nearest", "triplet_full"):
        (w_k, out_k), (w_j, out_j) = _both(no_kernel, _make(case, "event"), conn, pre, post)
        np.testing.assert_array_equal(w_k, w_j)
        np.testing.assert_array_equal(out_k, out_j)
        if kind == "none":
            np.testing.assert_array_equal(w_k, np.asarray(conn.synapse_weights()))
            assert not out_k.any()


def test_kernel_clips_at_both_bounds(no_kernel):
    """Large amplitudes: weights reach w_min and w_max; equal to the loops bit for bit."""
    pre, post = _trains_with("random", seed=5)
    conn = ns.connectivity.from_edges(PRE, POST, 0.5, N_PRE, N_POST)
    rule = ns.plasticity.PairSTDP(a_plus=0.5, a_minus=0.5, w_min=0.1, w_max=0.9)
    (w_k, _), (w_j, _) = _both(no_kernel, rule, conn, pre, post)
    np.testing.assert_array_equal(w_k, w_j)
    assert w_k.min() == np.float32(0.1) and w_k.max() == np.float32(0.9)


def test_kernel_on_a_larger_random_projection(no_kernel):
    """300 x 200 neurons, p = 0.1 (multapses impossible, empty rows possible), 300 steps
    with many spikes per step (several chunks of the loops)."""
    rng = np.random.default_rng(3)
    conn = ns.connectivity.FixedProbability(0.1).build(jax.random.key(2), 300, 200, 0.5)
    pre = (rng.random((300, 300)) < 0.05).astype(np.float32)
    post = (rng.random((300, 200)) < 0.05).astype(np.float32)
    rule = ns.plasticity.PairSTDP(a_plus=0.02, a_minus=0.021, w_max=1.0, mu_minus=1.0)
    (w_k, out_k), (w_j, out_j) = _both(no_kernel, rule, conn, pre, post)
    np.testing.assert_array_equal(w_k, w_j)
    np.testing.assert_array_equal(out_k, out_j)


def test_kernel_under_vmap_and_grad():
    """vmap over initial weights gives each entry's own run; grad goes through the
    reference derivative (the kernel has none) and matches the pure-JAX event path."""
    pre, post = _trains_with("random", seed=1)
    conn = ns.connectivity.from_edges(PRE, POST, _w0(), N_PRE, N_POST)
    rule = _make("van_rossum", "event").bind(conn)

    def final(w0, a_plus):
        r = eqx.tree_at(lambda r: r.a_plus, rule, a_plus)
        c = conn.with_weights(w0)
        st = {**r.init(None, DT), "w": c.weights}

        def body(st, sp):
            st, tr = r.step(st, ns.network.ProjectionDrive(c, sp[0], sp[1]), 0, DT, None)
            return st, tr.out.sum()

        st, outs = jax.lax.scan(body, st, (jnp.asarray(pre), jnp.asarray(post)))
        return st["w"].sum() + 1e-3 * outs.sum()

    w0 = jnp.stack([jnp.asarray(_w0(seed=s), jnp.float32) for s in (1, 2, 3)])
    batched = jax.jit(jax.vmap(final, in_axes=(0, None)))(w0, jnp.float32(0.05))
    single = [float(jax.jit(final)(w, jnp.float32(0.05))) for w in w0]
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(single, np.float32))
    g = jax.jit(jax.grad(final, argnums=(0, 1)))(w0[0], jnp.float32(0.05))
    assert all(np.all(np.isfinite(np.asarray(x))) for x in g) and float(g[1]) != 0.0


def test_subclass_with_its_own_update_does_not_use_the_kernel():
    class Halved(ns.plasticity.PairSTDP):
        def on_pre(self, w, pre, post):
            return 0.5 * super().on_pre(w, pre, post)

    assert Halved()._kernel_spec() is None
    assert ns.plasticity.PairSTDP()._kernel_spec()[0] == "pair"
    assert ns.plasticity.TripletSTDP()._kernel_spec()[0] == "triplet"


def _network():
    b = ns.NetworkBuilder(key=jax.random.key(4))
    b.add_population("src", ns.neurons.PoissonSource(60, rate=80.0))
    b.add_population("N", ns.neurons.LIF(40, tau_m=10.0, v_init=ns.init.Uniform(-65.0, -52.0)))
    b.connect(
        "src",
        "N",
        ns.connectivity.FixedProbability(0.3),
        weight=50.0,
        synapse=ns.synapses.Exponential(5.0),
        dynamics=ns.plasticity.PairSTDP(a_plus=2.0, a_minus=2.1, w_max=100.0),
        name="pair",
    )
    b.connect(
        "N",
        "N",
        ns.connectivity.FixedProbability(0.2),
        weight=10.0,
        synapse=ns.synapses.Exponential(5.0),
        delay=0.5,
        dynamics=ns.plasticity.Stack(
            ns.plasticity.TsodyksMarkram(U=0.3, tau_rec=100.0),
            ns.plasticity.TripletSTDP(a2_plus=1.0, a3_plus=1.0, a2_minus=1.0, w_max=20.0),
        ),
        name="stack",
    )
    return b.build()


def test_network_spikes_and_weights_equal_the_pure_jax_path(no_kernel):
    """A driven network (fused pair STDP; STP stacked with triplet STDP, delivered
    separately) over 300 steps: identical spike trains and weights with and without the
    kernel."""
    net = _network()
    dt, n_steps = 0.1, 300
    s0 = net.init_state(jax.random.key(0), dt)

    def simulate():
        def go(net, s0):
            return ns.run(net, s0, n_steps, dt, key=jax.random.key(1))

        st, out = eqx.filter_jit(go)(net, s0)
        w = [np.asarray(ns.plasticity.plastic_weights(net, st, p)) for p in ("pair", "stack")]
        return np.asarray(out.spikes["N"]), w

    spk_k, w_k = simulate()
    with no_kernel():
        spk_j, w_j = simulate()
    assert spk_k.sum() > 50
    np.testing.assert_array_equal(spk_k, spk_j)
    for a, b in zip(w_k, w_j, strict=True):
        np.testing.assert_array_equal(a, b)
    for k, w in enumerate(w_k):
        assert np.abs(w - np.asarray(net.projections[k].conn.synapse_weights())).max() > 0.5
