"""Warnings raised while a network is set up point at the user's line, not into neurosim,
equinox or jax (where a fixed stacklevel landed them)."""

import warnings

import jax
import pytest

import neurosim as ns


def _filenames(rec, text):
    return {w.filename for w in rec if text in str(w.message)}


def test_source_rate_warning_points_at_the_callers_line():
    b = ns.NetworkBuilder()
    b.add_population("src", ns.neurons.PoissonSource(3, rate=2000.0))  # p = 0.2 per step
    net = b.build()
    with pytest.warns(UserWarning, match="spikes per step") as rec:
        ns.simulate(net, 0.5, 0.1, key=jax.random.key(0), progress=False)
    assert _filenames(rec, "spikes per step") == {__file__}


def test_delay_rounding_warning_points_at_the_callers_line():
    b = ns.NetworkBuilder()
    b.add_population("a", ns.neurons.LIF(2))
    b.add_population("b", ns.neurons.LIF(2))
    b.connect("a", "b", ns.connectivity.AllToAll(), weight=1.0, delay=0.25,
              synapse=ns.synapses.Exponential(5.0), output=ns.synapses.CUBA())  # fmt: skip
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        net = b.build()
        ns.simulate(net, 0.5, 0.1, key=jax.random.key(0), progress=False)
    assert _filenames(rec, "not a multiple of") == {__file__}
