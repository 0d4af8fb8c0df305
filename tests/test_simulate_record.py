"""What ``record_spikes`` selects does not change the compiled chunk (issue 15): a transient
with ``record_spikes=()`` and the recorded run after it share one executable, and every
choice records the same spikes as a chunk compiled for exactly that choice (the old path)."""

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.network import _simulate

DT = 0.1


def _net():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("S", ns.neurons.PoissonSource(40, rate=200.0))
    b.add_population("A", ns.neurons.LIF(30, i_e=300.0, t_ref=1.0))
    b.add_population("B", ns.neurons.LIF(20, i_e=260.0))
    b.connect("S", "A", ns.connectivity.FixedProbability(0.3), weight=20.0,
              synapse=ns.synapses.Exponential(2.0))  # fmt: skip
    b.connect("A", "B", ns.connectivity.FixedProbability(0.3), weight=5.0,
              synapse=ns.synapses.Exponential(2.0), delay=0.5)  # fmt: skip
    return b.build()


def test_transient_without_spikes_then_recorded_run_compiles_once():
    net = _net()
    key = jax.random.key(3)
    warm = ns.simulate(net, 30.0, DT, key=key, record_spikes=(), chunk_steps=100)
    before = _simulate._TRACE_COUNT[0]
    res = ns.simulate(net, 30.0, DT, key=key, state=warm.final_state, chunk_steps=100)
    only_b = ns.simulate(net, 30.0, DT, key=key, state=warm.final_state, record_spikes="B",
                         chunk_steps=100)  # fmt: skip
    assert _simulate._TRACE_COUNT[0] == before
    assert res.compile_s == 0.0 and only_b.compile_s == 0.0
    assert warm.n_spikes == 0 and res.n_spikes > 0
    assert res.spikes_recorded == ("A", "B") and only_b.spikes_recorded == ("B",)
    in_b = res.spike_indices >= net.offsets()["B"]
    np.testing.assert_array_equal(only_b.spike_indices, res.spike_indices[in_b])
    np.testing.assert_array_equal(only_b.spike_times, res.spike_times[in_b])


@pytest.mark.parametrize("choice", [None, "all", "S", "B", ()])
def test_same_spikes_as_a_chunk_compiled_for_the_choice(monkeypatch, choice):
    net = _net()
    key = jax.random.key(5)
    new = ns.simulate(net, 25.0, DT, key=key, record_spikes=choice, chunk_steps=60)
    # the path before: the chunk buffers exactly the recorded populations
    monkeypatch.setattr(_simulate, "spike_buffers", lambda network, rec: rec)
    old = ns.simulate(net, 25.0, DT, key=key, record_spikes=choice, chunk_steps=60)
    assert new.spikes_recorded == old.spikes_recorded
    np.testing.assert_array_equal(new.spike_indices, old.spike_indices)
    np.testing.assert_array_equal(new.spike_times, old.spike_times)
    leaves = zip(jax.tree.leaves(new.final_state), jax.tree.leaves(old.final_state), strict=True)
    for x, y in leaves:
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    if choice != ():
        assert new.n_spikes > 0


def test_spike_buffers_hold_the_default_set_and_the_choice():
    net = _net()
    rec = ns.network.resolve_record_spikes
    assert ns.network.spike_buffers(net, rec(net, ())) == (1, 2)
    assert ns.network.spike_buffers(net, rec(net, "B")) == (1, 2)
    assert ns.network.spike_buffers(net, rec(net, "all")) == (0, 1, 2)
    assert ns.network.spike_buffers(net, rec(net, "S")) == (0, 1, 2)


def test_runs_of_different_lengths_share_the_chunk():
    """A 60 ms transient and a 100 ms run (600 and 1000 steps) use one executable: the
    capacity is the full chunk from a quarter of it up (next power of two below)."""
    net = _net()
    key = jax.random.key(4)
    warm = ns.simulate(net, 60.0, DT, key=key, record_spikes=())
    before = _simulate._TRACE_COUNT[0]
    res = ns.simulate(net, 100.0, DT, key=key, state=warm.final_state)
    assert _simulate._TRACE_COUNT[0] == before and res.compile_s == 0.0
    whole = ns.simulate(net, 160.0, DT, key=key, record_spikes="all")
    late = whole.spike_times >= 60.0 - 1e-9
    src = whole.spike_indices < net.offsets()["A"]
    np.testing.assert_array_equal(res.spike_indices, whole.spike_indices[late & ~src])
    np.testing.assert_allclose(res.spike_times, whole.spike_times[late & ~src], atol=1e-9)


@pytest.mark.parametrize(
    "n_steps, expected", [(1, 1), (3, 4), (100, 128), (499, 512), (500, 2000), (9000, 2000)]
)
def test_chunk_capacity_for_short_and_long_runs(n_steps, expected):
    assert _simulate.chunk_capacity(_net(), n_steps, 1, None) == expected
