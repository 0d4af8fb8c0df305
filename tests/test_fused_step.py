"""The fused LIF + conductance step (``csrc/lif_kernels.cc``, ``network/_fused.py``) against
the pure-JAX phases of ``network_step`` (the reference): which populations take it, the same
spikes and refractory counters, states within a few float32 roundings (XLA contracts ``a * b +
c`` into fused multiply-adds where the kernel rounds the product first), and bitwise the
arithmetic its header documents (a NumPy float32 transcription of it)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.network import _step, fused_populations, network_step

pytestmark = pytest.mark.skipif(
    not ns.ops.ffi_available(), reason="compiled CPU kernels unavailable"
)
DT = 0.1


def _net(n=600, *, integrator=None, delay=0.0, extra_exc=True, heterogeneous=True, **kw):
    """An LIF population (COBA-like) with three receptors; two projections onto "exc"."""
    lif = ns.neurons.LIF(
        n, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, g_l=10.0, i_e=200.0,
        v_init=ns.init.Normal(-55.0, 3.0),
        integrator=integrator if integrator is not None else ns.integrators.Euler(),
    )  # fmt: skip
    b = ns.NetworkBuilder(key=jax.random.key(3), **kw)
    n_e = int(0.8 * n)
    b.add_population("P", lif, groups={"E": n_e, "I": n - n_e})
    gen = ns.connectivity.FixedProbability(40.0 / n)
    w_e = ns.init.Uniform(3.0, 9.0) if heterogeneous else 6.0
    exc, inh = ns.synapses.Exponential(5.0), ns.synapses.Exponential(10.0)
    b.connect("E", "P", gen, weight=w_e, synapse=exc, output=ns.synapses.COBA(0.0),
              receptor="exc", delay=delay)  # fmt: skip
    b.connect("I", "P", gen, weight=67.0, synapse=inh, output=ns.synapses.COBA(-80.0),
              receptor="inh")  # fmt: skip
    if extra_exc:
        b.connect("I", "E", gen, weight=2.0, synapse=exc, output=ns.synapses.COBA(0.0),
                  receptor="exc")  # fmt: skip
        b.connect("E", "P", gen, weight=1.0, synapse=ns.synapses.Exponential(2.0),
                  output=ns.synapses.COBA(-10.0), receptor="slow")  # fmt: skip
    return b.build()


def _steps(net, state, fused, n_steps):
    plan = net.plan(DT)
    dt = jnp.asarray(DT, jnp.float32)

    @jax.jit
    def f(st):
        def body(st, _):
            st, spikes = network_step(net, plan, st, jax.random.key(1), dt, fused=fused)
            return st, spikes[0]

        return jax.lax.scan(body, st, None, length=n_steps)

    return f(state)


def test_which_populations_fuse():
    # post slices that are not the whole population (I -> E) disqualify it
    assert fused_populations(_net(), _net().plan(DT)) == {}
    net = _net(extra_exc=False)
    assert fused_populations(net, net.plan(DT)) == {0: (0, 1)}
    coba = ns.models.coba(400)
    assert fused_populations(coba, coba.plan(DT)) == {0: (0, 1)}
    for other in (
        ns.models.cuba(400),  # current-based outputs
        ns.models.coba(400, integrator=ns.integrators.ExpEuler()),
        _net(extra_exc=False, delay=0.5),  # delayed projection
    ):
        assert fused_populations(other, other.plan(DT)) == {}


def _with_slow(n=600, **kw):
    """Three receptors, two projections onto "exc" (summed in projection order)."""
    lif = ns.neurons.LIF(n, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0,
                         g_l=10.0, i_e=200.0, v_init=ns.init.Normal(-55.0, 3.0),
                         integrator=ns.integrators.Euler())  # fmt: skip
    b = ns.NetworkBuilder(key=jax.random.key(4), **kw)
    b.add_population("P", lif, groups={"E": 480, "I": n - 480})
    gen = ns.connectivity.FixedProbability(40.0 / n)
    exc = ns.synapses.Exponential(5.0)
    b.connect("E", "P", gen, weight=ns.init.Uniform(3.0, 9.0), synapse=exc,
              output=ns.synapses.COBA(0.0), receptor="exc")  # fmt: skip
    b.connect("I", "P", gen, weight=67.0, synapse=ns.synapses.Exponential(10.0),
              output=ns.synapses.COBA(-80.0), receptor="inh")  # fmt: skip
    b.connect("I", "P", gen, weight=2.0, synapse=exc, output=ns.synapses.COBA(0.0),
              receptor="exc")  # fmt: skip
    b.connect("E", "P", gen, weight=1.0, synapse=ns.synapses.Exponential(2.0),
              output=ns.synapses.COBA(-10.0), receptor="slow")  # fmt: skip
    return b.build()


@pytest.mark.parametrize("conventions", [None, "nest"])
def test_fused_step_matches_reference(conventions):
    kw = {} if conventions is None else {"conventions": ns.network.Conventions(refractory="nest")}
    net = _with_slow(**kw)
    assert fused_populations(net, net.plan(DT)) == {0: (0, 1, 2, 3)}
    state = net.init_state(jax.random.key(0), DT)
    ref_state, _ = _steps(net, state, False, 300)  # a state with activity and conductances
    for _ in range(20):  # one step at a time from the reference's own states
        a, sa = _steps(net, ref_state, False, 1)
        b, sb = _steps(net, ref_state, True, 1)
        np.testing.assert_array_equal(sa, sb)
        np.testing.assert_array_equal(a.neurons[0]["refractory"], b.neurons[0]["refractory"])
        np.testing.assert_allclose(a.neurons[0]["v"], b.neurons[0]["v"], rtol=0, atol=2e-5)
        for ra, rb in zip(a.receptors[0], b.receptors[0], strict=True):
            np.testing.assert_allclose(ra["g"], rb["g"], rtol=2e-6, atol=1e-6)
        assert int(b.step) == int(a.step)
        ref_state = a
    assert float(jnp.sum(sa)) >= 0  # the loop ran


def _numpy_step(net, st):
    """The kernel's documented arithmetic in NumPy float32 (no fused multiply-adds)."""
    f32 = np.float32
    p = net.populations[0]
    lif = p.neuron
    v = np.asarray(st.neurons[0]["v"])
    ref = np.asarray(st.neurons[0]["refractory"])
    gs = [np.asarray(r["g"]) for r in st.receptors[0]]
    es = [f32(np.asarray(r.output.e_rev)) for r in p.receptors]
    cond, cur = gs[0], gs[0] * es[0]
    for g, e in zip(gs[1:], es[1:], strict=True):
        cond, cur = cond + g, cur + g * e
    par = {
        k: np.asarray(getattr(lif, k)) for k in ("tau_m", "e_l", "g_l", "i_e", "v_th", "v_reset")
    }
    i_total = (cur - cond * v) + par["i_e"]
    f = ((par["e_l"] - v) + i_total / par["g_l"]) / par["tau_m"]
    held = ref > 0
    v_new = np.where(held, v, v + f32(DT) * f)
    spike = ~held & (v_new - par["v_th"] >= 0)
    restart = np.maximum(np.round(np.asarray(lif.t_ref) / f32(DT)).astype(np.int32) - 1, 0)
    s = spike.astype(np.float32)
    sums = [np.zeros_like(v) for _ in gs]
    for pr in net.projections:
        w = np.asarray(pr.conn.todense(), np.float32)
        lo, hi = pr.pre_slice
        part = np.zeros_like(v)
        for i in np.nonzero(s[lo:hi])[0]:  # rows ascending, like the kernel
            part = part + w[i]
        sums[pr.receptor] = sums[pr.receptor] + part
    decay = [f32(np.asarray(jnp.exp(-jnp.float32(DT) / r.kinetics.tau))) for r in p.receptors]
    g_new = [g * a + x for g, a, x in zip(gs, decay, sums, strict=True)]
    return (
        np.where(spike, par["v_reset"], v_new),
        np.where(spike, restart, np.maximum(ref - 1, 0)),
        s,
        g_new,
    )


def test_fused_step_is_the_documented_arithmetic():
    net = _net(300, extra_exc=False, heterogeneous=False)  # homogeneous: row sums in any order
    state, _ = _steps(net, net.init_state(jax.random.key(0), DT), False, 200)
    b, sb = _steps(net, state, True, 1)
    v, ref, s, g = _numpy_step(net, state)
    np.testing.assert_array_equal(np.asarray(sb[0]), s)
    np.testing.assert_array_equal(np.asarray(b.neurons[0]["v"]), v)
    np.testing.assert_array_equal(np.asarray(b.neurons[0]["refractory"]), ref)
    for r, x in zip(b.receptors[0], g, strict=True):
        np.testing.assert_array_equal(np.asarray(r["g"]), x)


def test_simulate_fused_same_spikes_as_reference(monkeypatch):
    net = ns.models.coba(1000)
    fused = ns.simulate(net, 50.0, DT, key=jax.random.key(1), progress=False)
    _unfused(monkeypatch)
    ref = ns.simulate(net, 50.0, DT, key=jax.random.key(1), progress=False)
    assert fused.n_spikes == ref.n_spikes > 0
    np.testing.assert_array_equal(fused.spike_times, ref.spike_times)
    np.testing.assert_array_equal(fused.spike_indices, ref.spike_indices)


def _unfused(monkeypatch):
    monkeypatch.setattr(_step, "fused_populations", lambda net, plan: {})
    jax.clear_caches()  # the chunk's trace is cached per structure
    monkeypatch.setattr(ns.network._simulate, "_COMPILED", {})


@pytest.mark.parametrize("where", ["v", "g"])
def test_fused_fault_check(monkeypatch, where):
    net = ns.models.coba(400)
    st = net.init_state(jax.random.key(0), DT)
    if where == "v":
        st = eqx.tree_at(lambda s: s.neurons[0]["v"], st, st.neurons[0]["v"].at[7].set(jnp.inf))
    else:
        g = st.receptors[0][1]["g"]
        st = eqx.tree_at(lambda s: s.receptors[0][1]["g"], st, g.at[9].set(jnp.nan))
    kw = dict(key=jax.random.key(1), state=st, progress=False, on_fault="return")
    fused = ns.simulate(net, 5.0, DT, **kw)
    _unfused(monkeypatch)
    ref = ns.simulate(net, 5.0, DT, **kw)
    assert fused.status == ref.status == "fault"
    assert fused.message == ref.message


def test_fused_population_feeds_another():
    """A fused population projecting onto an unfused one (and the unfused one's own input)."""
    a = ns.neurons.LIF(300, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0,
                       g_l=10.0, i_e=200.0, v_init=ns.init.Normal(-55.0, 3.0),
                       integrator=ns.integrators.Euler())  # fmt: skip
    b = ns.NetworkBuilder(key=jax.random.key(5))
    b.add_population("A", a)
    b.add_population("B", ns.neurons.LIF(200, v_init=ns.init.Normal(-60.0, 3.0)))
    gen = ns.connectivity.FixedProbability(0.1)
    exc = dict(synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))
    b.connect("A", "A", gen, weight=ns.init.Uniform(1.0, 4.0), receptor="exc", **exc)
    b.connect("A", "B", gen, weight=30.0, receptor="exc", **exc)
    b.connect("B", "B", gen, weight=5.0, synapse=ns.synapses.Exponential(2.0))
    net = b.build()
    assert fused_populations(net, net.plan(DT)) == {0: (0,)}
    state, _ = _steps(net, net.init_state(jax.random.key(0), DT), False, 200)
    for _ in range(10):
        ra, rb = (_steps(net, state, fused, 1)[0] for fused in (False, True))
        for i in range(2):
            np.testing.assert_array_equal(ra.neurons[i]["refractory"], rb.neurons[i]["refractory"])
            np.testing.assert_allclose(ra.neurons[i]["v"], rb.neurons[i]["v"], rtol=0, atol=2e-5)
            for x, y in zip(ra.receptors[i], rb.receptors[i], strict=True):
                np.testing.assert_allclose(x["g"], y["g"], rtol=2e-6, atol=1e-6)
        state = ra
    assert float(jnp.sum(state.receptors[1][0]["g"])) > 0  # B received A's spikes
