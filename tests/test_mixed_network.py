"""A mixed network: Traub–Miles E cells + LIF I cells, AMPA/NMDA(Mg)/GABA_A/GABA_B, gap junctions.

Everything goes through the same ``simulate`` and event-delivery operators as the benchmarks
(``ns.models.mixed_receptors``).
"""

import jax
import numpy as np
import pytest

import neurosim as ns


@pytest.mark.slow
def test_mixed_network_runs_and_nmda_raises_activity():
    rates = {}
    for w_nmda in (1.0, 0.0):  # same structure: the second run reuses the compiled loop
        net = ns.models.mixed_receptors(100, key=jax.random.key(0), nmda_weight=w_nmda)
        receptors = [r.name for r in net.populations[1].receptors]
        assert receptors == ["AMPA", "NMDA", "GABA_A", "GABA_B"]
        assert type(net.populations[1].neuron) is not type(net.populations[2].neuron)
        assert net.gap_junctions[0].junctions.n_pairs > 0
        res = ns.simulate(
            net,
            duration=300.0,
            dt=0.1,
            key=jax.random.key(7),
            record=[ns.Trace("E.NMDA.g", every=10)],
            progress=False,
        )
        assert res.ok
        for tree in (res.final_state.neurons, res.final_state.receptors):
            assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(tree))
        r = res.group_rates_hz
        # Sane band: active, far from saturation (refractory limits: 333 Hz E, 500 Hz I).
        assert 1.0 < r["E"] < 100.0 and 1.0 < r["I"] < 150.0, r
        assert (float(np.asarray(res.traces["E.NMDA.g"]).max()) > 0.0) == (w_nmda > 0)
        rates[w_nmda] = r
    # NMDA is excitatory onto both E and I: removing it lowers both rates (paired runs with
    # identical connectivity and external Poisson spikes).
    assert rates[0.0]["E"] < rates[1.0]["E"] and rates[0.0]["I"] < rates[1.0]["I"], rates


def test_mixed_network_validates():
    with pytest.raises(ValueError, match="nmda_weight"):
        ns.models.mixed_receptors(100, nmda_weight=-1.0)
    with pytest.raises(ValueError, match="n must be"):
        ns.models.mixed_receptors(3)
