"""simulate/run: chunks, jit == eager, vmap == loop, no retracing, faults, inputs, delays."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.network import _simulate

DT = 0.1


def test_chunks_do_not_change_the_result(small_coba):
    key = jax.random.key(5)
    one = ns.simulate(small_coba, 60.0, DT, key=key, record=[ns.Trace("E.v", [0, 3], every=4)])
    many = ns.simulate(
        small_coba, 60.0, DT, key=key, chunk_steps=52, record=[ns.Trace("E.v", [0, 3], every=4)]
    )
    assert one.n_spikes > 20
    np.testing.assert_array_equal(one.spike_indices, many.spike_indices)
    np.testing.assert_array_equal(one.spike_times, many.spike_times)
    np.testing.assert_array_equal(one.traces["E.v"], many.traces["E.v"])
    np.testing.assert_array_equal(one.trace_times["E.v"], many.trace_times["E.v"])
    assert one.traces["E.v"].shape == (150, 2)
    np.testing.assert_allclose(one.trace_times["E.v"][:2], [0.4, 0.8])


def test_continuing_a_run_equals_one_long_run(small_coba):
    key = jax.random.key(6)
    full = ns.simulate(small_coba, 40.0, DT, key=key)
    first = ns.simulate(small_coba, 25.0, DT, key=key)
    second = ns.simulate(small_coba, 15.0, DT, key=key, state=first.final_state)
    times = np.concatenate([first.spike_times, second.spike_times])
    idx = np.concatenate([first.spike_indices, second.spike_indices])
    np.testing.assert_array_equal(idx, full.spike_indices)
    np.testing.assert_allclose(times, full.spike_times)
    np.testing.assert_array_equal(
        np.asarray(second.final_state.neurons[0]["v"]), np.asarray(full.final_state.neurons[0]["v"])
    )


def test_run_and_simulate_agree(small_coba):
    key = jax.random.key(7)
    res = ns.simulate(small_coba, 30.0, DT, key=key)
    k_init, k_run = jax.random.split(key)
    s0 = small_coba.init_state(k_init, DT)
    _, out = ns.run(small_coba, s0, 300, DT, key=k_run)
    steps, idx = np.nonzero(np.asarray(out.spikes["P"]))
    np.testing.assert_array_equal(idx, res.spike_indices)
    np.testing.assert_allclose(steps * DT, res.spike_times)


def test_jit_equals_eager(small_coba):
    s0 = small_coba.init_state(jax.random.key(0), DT)
    s0 = eqx.tree_at(lambda s: s.neurons[0]["v"], s0, s0.neurons[0]["v"] + 4.0)  # spikes early

    def f(state):
        return ns.run(small_coba, state, 15, DT, key=jax.random.key(1), record=["P.v"])

    s_jit, o_jit = jax.jit(f)(s0)
    with jax.disable_jit():
        s_eag, o_eag = f(s0)
    assert np.asarray(o_jit.spikes["P"]).sum() > 0
    np.testing.assert_array_equal(np.asarray(o_jit.spikes["P"]), np.asarray(o_eag.spikes["P"]))
    np.testing.assert_allclose(
        np.asarray(o_jit.traces["P.v"]), np.asarray(o_eag.traces["P.v"]), atol=1e-4
    )


def test_vmap_over_parameters_equals_loop(small_coba):
    values = jnp.linspace(150.0, 260.0, 8)  # bias current (pA)
    s0 = small_coba.init_state(jax.random.key(0), DT)

    def simulate_one(i_e):
        net = eqx.tree_at(lambda n: n.populations[0].neuron.i_e, small_coba, jnp.full((80,), i_e))
        s, out = ns.run(net, s0, 100, DT, key=jax.random.key(2))
        return out.spikes["P"].sum(), s.neurons[0]["v"]

    counts_v, v_v = jax.jit(jax.vmap(simulate_one))(values)
    loop = [jax.jit(simulate_one)(x) for x in values]
    np.testing.assert_array_equal(np.asarray(counts_v), np.array([c for c, _ in loop]))
    np.testing.assert_allclose(
        np.asarray(v_v), np.stack([np.asarray(v) for _, v in loop]), atol=1e-4
    )
    assert len(set(np.asarray(counts_v).tolist())) > 1  # the parameter matters


def test_changing_parameters_does_not_retrace(small_coba):
    key = jax.random.key(3)
    ns.simulate(small_coba, 5.0, DT, key=key)
    before = _simulate._TRACE_COUNT[0]
    net2 = eqx.tree_at(
        lambda n: n.populations[0].neuron.tau_m,
        small_coba,
        small_coba.populations[0].neuron.tau_m * 1.5,
    )
    net3 = eqx.tree_at(lambda n: n.projections[0].conn.weights, net2, jnp.asarray(0.9))
    net4 = eqx.tree_at(lambda n: n.populations[0].receptors[0].kinetics.tau, net3, jnp.asarray(3.0))
    r2 = ns.simulate(net2, 5.0, DT, key=key)
    r4 = ns.simulate(net4, 5.0, DT, key=key)
    assert _simulate._TRACE_COUNT[0] == before
    assert r2.compile_s == 0.0 and r4.compile_s == 0.0


def _lif_with_input(current, n=1):
    b = ns.NetworkBuilder()
    b.add_population("N", ns.neurons.LIF(n, e_l=-65.0, v_reset=-65.0, v_th=-50.0, tau_m=10.0))
    b.add_input("N", current)
    return b.build()


def test_nonfinite_state_is_reported_with_step_and_variable():
    values = np.zeros(200, np.float32)
    values[57] = np.nan
    net = _lif_with_input(ns.inputs.ArrayCurrent(values))
    with pytest.raises(ns.SimulationError, match=r"step 57 .*in v") as err:
        ns.simulate(net, 20.0, DT, key=jax.random.key(0), chunk_steps=40)
    res = err.value.result
    assert res.status == "fault" and res.n_steps == 57
    with pytest.warns(RuntimeWarning, match="step 57"):
        res2 = ns.simulate(net, 20.0, DT, key=jax.random.key(0), on_fault="return", record=["N.v"])
    assert res2.status == "fault"
    assert np.all(np.isfinite(res2.traces["N.v"]))
    assert len(res2.traces["N.v"]) == 57


def test_array_input_too_short_is_an_error():
    net = _lif_with_input(ns.inputs.ArrayCurrent(np.zeros(100)))
    with pytest.raises(ValueError, match="defined for 100 steps"):
        ns.simulate(net, 20.0, DT, key=jax.random.key(0))


def test_step_current_starts_on_time():
    net = _lif_with_input(ns.inputs.StepCurrent([10.0], [100.0]))
    res = ns.simulate(net, 20.0, DT, key=jax.random.key(0), record=["N.v"])
    v = res.traces["N.v"][:, 0]
    np.testing.assert_array_equal(v[:100], -65.0)  # samples at t = 0.1 .. 10.0 ms
    assert v[100] > -65.0


def test_poisson_source_rate():
    b = ns.NetworkBuilder()
    b.add_population("S", ns.neurons.PoissonSource(2000, rate=40.0))
    net = b.build()
    res = ns.simulate(net, 500.0, DT, key=jax.random.key(0), record_spikes=["S"])
    expected = 2000 * 40.0 * 0.5
    assert abs(res.n_spikes - expected) < 5 * np.sqrt(expected)


def test_record_spikes_selects_populations():
    """Sources are off by default; named populations only; same spikes as recording all."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("S", ns.neurons.PoissonSource(40, rate=200.0))
    b.add_population("A", ns.neurons.LIF(8, i_e=300.0, t_ref=1.0), groups={"A1": 3, "A2": 5})
    b.add_population("B", ns.neurons.LIF(5, i_e=260.0))
    b.connect("S", "A", ns.connectivity.FixedProbability(0.3), weight=20.0,
              synapse=ns.synapses.Exponential(2.0))  # fmt: skip
    net = b.build()
    k = jax.random.key(1)
    full = ns.simulate(net, 20.0, DT, key=k, record_spikes="all")
    default = ns.simulate(net, 20.0, DT, key=k)
    only_b = ns.simulate(net, 20.0, DT, key=k, record_spikes="B")
    none = ns.simulate(net, 20.0, DT, key=k, record_spikes=())
    off = net.offsets()
    src = full.spike_indices < off["A"]
    assert src.sum() > 0 and (~src).sum() > 0
    assert full.spikes_recorded == ("S", "A", "B") and default.spikes_recorded == ("A", "B")
    np.testing.assert_array_equal(default.spike_indices, full.spike_indices[~src])
    np.testing.assert_array_equal(default.spike_times, full.spike_times[~src])
    in_b = full.spike_indices >= off["B"]
    np.testing.assert_array_equal(only_b.spike_indices, full.spike_indices[in_b])
    assert none.n_spikes == 0 and none.spikes_recorded == ()
    assert set(default.group_rates_hz) == {"A1", "A2", "B"}
    assert set(only_b.group_rates_hz) == {"B"}
    assert only_b.rate_hz == pytest.approx(full.group_rates_hz["B"])
    t, _ = default.spikes("A2")
    assert t.size == np.count_nonzero(
        (full.spike_indices >= off["A"] + 3) & (full.spike_indices < off["B"])
    )
    with pytest.raises(ValueError, match="were not recorded"):
        only_b.spikes("A")
    with pytest.raises(ValueError, match="is a group of population 'A'"):
        ns.simulate(net, 1.0, DT, key=k, record_spikes=["A1"])
    with pytest.raises(ValueError, match="record_spikes names populations"):
        ns.simulate(net, 1.0, DT, key=k, record_spikes=["nope"])


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.3])
def test_homogeneous_delay_timing(delay):
    values = np.zeros(100, np.float32)
    values[10] = 1e6  # forces one spike in step 10
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.LIF(1, t_ref=20.0))
    b.add_population("B", ns.neurons.LIF(1))
    b.add_input("A", ns.inputs.ArrayCurrent(values))
    b.connect(
        "A",
        "B",
        ns.connectivity.AllToAll(),
        weight=5.0,
        synapse=ns.synapses.Exponential(2.0),
        delay=delay,
    )
    net = b.build()
    res = ns.simulate(net, 10.0, DT, key=jax.random.key(0), record=["B.syn0.g"])
    t_a, _ = res.spikes("A")
    np.testing.assert_allclose(t_a, [1.0])
    g = res.traces["B.syn0.g"][:, 0]
    arrival = np.flatnonzero(g > 0)[0]  # sample k holds the state after step k
    assert arrival == 10 + int(round(delay / DT))
    np.testing.assert_allclose(g[arrival], 5.0)


def test_bad_simulate_arguments(small_coba):
    with pytest.raises(ValueError, match="duration"):
        ns.simulate(small_coba, -1.0, DT, key=jax.random.key(0))
    with pytest.raises(ValueError, match="dt"):
        ns.simulate(small_coba, 10.0, 0.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="no variable"):
        ns.simulate(small_coba, 10.0, DT, key=jax.random.key(0), record=["P.u"])
    with pytest.raises(ValueError, match="unknown population"):
        ns.simulate(small_coba, 10.0, DT, key=jax.random.key(0), record=["Q.v"])


def test_builder_validation():
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.LIF(10), groups={"X": 4, "Y": 6})
    with pytest.raises(ValueError, match="already used"):
        b.add_population("X", ns.neurons.LIF(3))
    with pytest.raises(ValueError, match="sum to"):
        b.add_population("B", ns.neurons.LIF(10), groups={"U": 3})
    with pytest.raises(ValueError, match="not a population"):
        b.connect(
            "Z", "A", ns.connectivity.AllToAll(), weight=1.0, synapse=ns.synapses.Exponential(5.0)
        )
    with pytest.raises(ValueError, match="delay"):
        b.connect(
            "X",
            "Y",
            ns.connectivity.AllToAll(),
            weight=1.0,
            synapse=ns.synapses.Exponential(5.0),
            delay=-1.0,
        )
    with pytest.raises(ValueError, match="weight is required"):
        b.connect("X", "Y", ns.connectivity.AllToAll(), synapse=ns.synapses.Exponential(5.0))
    b.add_population("S", ns.neurons.PoissonSource(3))
    with pytest.raises(ValueError, match="spike source"):
        b.connect(
            "X", "S", ns.connectivity.AllToAll(), weight=1.0, synapse=ns.synapses.Exponential(5.0)
        )


class _HalfAndCount(ns.network.AbstractProjectionDynamics):
    """Test dynamics: delivers half of every spike and counts pre/post spikes."""

    def init(self, key, dt):
        return {"pre": jnp.zeros(self.conn.n_pre), "post": jnp.zeros(self.conn.n_post)}

    def step(self, state, drive, i, dt, key):
        new = {"pre": state["pre"] + drive.pre, "post": state["post"] + drive.post}
        return new, ns.network.Transmission(0.5 * drive.pre, drive.conn)


def test_projection_dynamics_hook():
    values = np.zeros(100, np.float32)
    values[[10, 40]] = 1e6  # two forced spikes of A
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.LIF(1, t_ref=1.0))
    b.add_population("B", ns.neurons.LIF(2, i_e=[0.0, 1e4], t_ref=1.0))
    b.add_input("A", ns.inputs.ArrayCurrent(values))
    b.connect(
        "A",
        "B",
        ns.connectivity.AllToAll(),
        weight=4.0,
        synapse=ns.synapses.Exponential(1e9),
        dynamics=_HalfAndCount(),
    )
    net = b.build()
    res = ns.simulate(net, 10.0, DT, key=jax.random.key(0), record=["B.syn0.g", "A->B.pre"])
    np.testing.assert_allclose(res.traces["B.syn0.g"][-1], [4.0, 4.0], rtol=1e-6)  # 2 x 0.5 x 4
    # Projection state can be traced: the count of A's spikes steps up after steps 10 and 40.
    counts = res.traces["A->B.pre"][:, 0]
    np.testing.assert_array_equal(counts[[9, 10, 39, 40, 99]], [0.0, 1.0, 1.0, 2.0, 2.0])
    st = res.final_state.projections[0]
    np.testing.assert_array_equal(np.asarray(st["pre"]), [2.0])
    t_b, i_b = res.spikes("B")
    np.testing.assert_array_equal(np.asarray(st["post"]), [np.sum(i_b == 0), np.sum(i_b == 1)])
    assert np.sum(i_b == 1) > 5


class _PoisonAfter(ns.network.AbstractProjectionDynamics):
    """Test dynamics whose (undelivered) state turns NaN after step 30."""

    def init(self, key, dt):
        return {"k": jnp.zeros(()), "x": jnp.zeros(3)}

    def step(self, state, drive, i, dt, key):
        k = state["k"] + 1
        new = {"k": k, "x": jnp.where(k > 30, jnp.nan, state["x"])}
        return new, ns.network.Transmission(drive.pre, drive.conn)


def test_nonfinite_projection_state_is_reported():
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.LIF(2, i_e=300.0))
    b.connect(
        "A",
        "A",
        ns.connectivity.AllToAll(),
        weight=0.1,
        synapse=ns.synapses.Exponential(5.0),
        dynamics=_PoisonAfter(),
    )
    net = b.build()
    with pytest.warns(RuntimeWarning, match="non-finite"):
        res = ns.simulate(net, 10.0, DT, key=jax.random.key(0), chunk_steps=20, on_fault="return")
    assert res.status == "fault" and "A->A" in res.message
    assert "between step 20 and step 40" in res.message
    assert res.n_steps == 40
