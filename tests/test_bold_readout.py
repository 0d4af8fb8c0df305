"""BOLD as an in-loop readout: equal to the offline helper on the recorded drive; bad chains."""

import jax
import numpy as np
import pytest

import neurosim as ns

EPS32 = float(np.finfo(np.float32).eps)


def _tol(bw, n_h):
    """Round-off bound for the BOLD after ``n_h`` RK4 steps in float32.

    In-loop and offline run the same operations; they may differ only by the order XLA fuses
    them, i.e. a few ulps per step in each of f, v, q (~1) — at most ``4 eps`` per step,
    accumulated linearly over ``n_h`` steps — which the output equation amplifies by at most
    ``V0 (|k1| + 2|k2| + |k3|)`` (``q/v`` counts twice).
    """
    gain = float(bw.V0) * (abs(float(bw.k1)) + 2 * abs(float(bw.k2)) + abs(float(bw.k3)))
    return gain * 4 * n_h * EPS32


DT, N_STEPS, TR, DEC = 2.5, 200, 50.0, 2  # ms; 500 ms, 20 steps per TR, 100 haemo steps


@pytest.fixture(scope="module")
def run():
    """One network, one compile: BOLD of rate nodes and of a spiking population (through a
    population rate), a held-sample BOLD and a continuous one."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(3, I_ext=np.array([0.0, 0.1, 0.2])))
    b.add_population("P", ns.neurons.PoissonSource(40, rate=50.0))
    b.add_readout("rate", ns.network.PopulationRate(tau=10.0), source="P", regions=2)
    bold = ns.bold.BOLDReadout(tr=TR, decimate=DEC, efficacy=200.0)
    b.add_readout("bold", bold, source="wong", variable="S_e")
    b.add_readout("bold_spk", ns.bold.BOLDReadout(tr=TR, decimate=DEC), source="rate")
    b.add_readout("held", ns.bold.BOLDReadout(tr=25.0, efficacy=200.0), source="wong")
    b.add_readout("cont", ns.bold.BOLDReadout(tr=None, efficacy=200.0), source="wong")
    every = bold.every(DT)
    assert every == 20  # 50 ms / 2.5 ms
    record = ["wong.S_e", "rate", ns.Trace("bold", every=every), "bold.q",
              ns.Trace("bold_spk", every=every), "held", "cont"]  # fmt: skip
    return ns.simulate(b.build(), N_STEPS * DT, DT, key=jax.random.key(1), record=record)


def test_in_loop_bold_of_a_rate_population_equals_run_bold(run):
    bw = ns.bold.BalloonWindkessel(3, efficacy=200.0)
    _, want = ns.bold.run_bold(bw, run.traces["wong.S_e"], DT, TR, decimate=DEC)
    got = run.traces["bold"]
    assert got.shape == (N_STEPS // 20, 3) == want.shape
    tol = _tol(bw, N_STEPS // DEC)
    assert np.abs(np.asarray(want)).max() > 10 * tol  # a signal well above round-off
    np.testing.assert_allclose(got, np.asarray(want), rtol=0, atol=tol)
    # the state is recordable; q moves only on haemodynamic steps (every `DEC` = 2 steps)
    q = run.traces["bold.q"]
    np.testing.assert_array_equal(q[0], 1.0)  # step 0 is not a haemodynamic step
    np.testing.assert_array_equal(q[2::2], q[1:-1:2])
    assert np.all(q[-1] != 1.0)


def test_in_loop_bold_of_a_spiking_population_through_a_population_rate(run):
    assert run.traces["rate"].max() > 0
    bw = ns.bold.BalloonWindkessel(2)
    _, want = ns.bold.run_bold(bw, run.traces["rate"], DT, TR, decimate=DEC)
    tol = _tol(bw, N_STEPS // DEC)
    assert np.abs(np.asarray(want)).max() > 100 * tol
    np.testing.assert_allclose(run.traces["bold_spk"], np.asarray(want), rtol=0, atol=tol)


def test_held_sample_between_trs_and_continuous_mode(run):
    """Between TR boundaries the value holds the last sample; tr=None samples every step."""
    held, cont = run.traces["held"], run.traces["cont"]
    bw = ns.bold.BalloonWindkessel(3, efficacy=200.0)
    _, want = ns.bold.run_bold(bw, run.traces["wong.S_e"], DT, DT)  # a sample every step
    np.testing.assert_allclose(cont, np.asarray(want), rtol=0, atol=_tol(bw, N_STEPS))
    per = 10  # TR = 25 ms = 10 steps
    np.testing.assert_array_equal(held[: per - 1], 0.0)  # before the first TR: rest (0)
    for k in range(per - 1, N_STEPS):  # step k ends at (k + 1) dt
        np.testing.assert_array_equal(held[k], cont[(k + 1) // per * per - 1])


def test_bad_chaining_and_bad_arguments_raise_clear_errors():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.PoissonSource(10, rate=5.0))
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    with pytest.raises(ValueError, match=r"'P' is a spiking population \(chain it after a Popul"):
        b.add_readout("bold", ns.bold.BOLDReadout(), source="P")
    with pytest.raises(ValueError, match=r"'nope' is not a population"):
        b.add_readout("bold", ns.bold.BOLDReadout(), source="nope")
    with pytest.raises(ValueError, match=r"variable"):
        b.add_readout("bold", ns.bold.BOLDReadout(), source="wong", variable="nope")
    with pytest.raises(ValueError, match=r"tr must be .* > 0 ms"):
        ns.bold.BOLDReadout(tr=-1.0)
    with pytest.raises(ValueError, match=r"decimate must be an integer >= 1"):
        ns.bold.BOLDReadout(decimate=0)
    with pytest.raises(ValueError, match=r"not both"):
        ns.bold.BOLDReadout(model=ns.bold.BalloonWindkessel(1), kappa=0.5)
    with pytest.raises(ValueError, match=r"kappa"):
        ns.bold.BOLDReadout(kappa=-1.0)
    with pytest.raises(ValueError, match=r"not bound"):
        ns.bold.BOLDReadout().init(None, 1.0)
    # a TR that is not a whole number of haemodynamic steps is refused when dt is known
    with pytest.raises(ValueError, match=r"tr=25.0 ms must be a whole multiple"):
        ns.bold.BOLDReadout(tr=25.0, decimate=10).every(1.0)
    b.add_readout("bold", ns.bold.BOLDReadout(tr=25.0, decimate=10), source="wong")
    with pytest.raises(ValueError, match=r"whole multiple"):
        b.build().init(jax.random.key(0), 1.0)
