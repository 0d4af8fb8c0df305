"""Reliability (issue 16): no silent wrong answer from a builder or input argument.

One test per case of the issue (each a ValueError/TypeError naming the parameter and the
fix, or a documented warning), then hypothesis suites over the builder's arguments: valid
ones build, invalid ones raise the documented error type naming the parameter. The table in
docs/reliability.md points at these tests.
"""

import math
import warnings

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurosim as ns

DT = 0.1


def _builder(n=4):
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(n))
    return b


def _connect(b, conn=None, **kw):
    args = dict(weight=0.5, synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))
    args.update(kw)
    return b.connect("P", "P", conn or ns.connectivity.FixedProbability(0.5), **args)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- strings for numbers ------------------------------------------------------------------------
def test_delay_string_refused_naming_delay():
    with pytest.raises(TypeError, match=r"delay must be a number \(ms\), got the string 'abc'"):
        _connect(_builder(), delay="abc")
    with pytest.raises(TypeError, match=r"got the string '0.5'; pass delay=0.5"):
        _connect(_builder(), delay="0.5")


def test_probability_string_refused_with_the_number_to_pass():
    with pytest.raises(TypeError, match=r"p must be a number, got the string '0.1'; pass p=0.1"):
        ns.connectivity.FixedProbability("0.1")
    with pytest.raises(TypeError, match="tau_m must be a number"):
        ns.neurons.LIF(2, tau_m="20")
    with pytest.raises(TypeError, match="weight must be a number"):
        _connect(_builder(), weight="0.5")


# -- weights ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weight_refused_at_construction(bad):
    with pytest.raises(ValueError, match=r"weight of 'P->P' must be finite"):
        _connect(_builder(), weight=bad, output=ns.synapses.CUBA())
    w = np.full((4, 4), 0.5)
    w[1, 2] = bad
    with pytest.raises(ValueError, match=r"weight of 'P->P' must be finite, got 1 NaN/inf"):
        _connect(_builder(), ns.connectivity.from_dense(w), weight=None)


def test_negative_weight_onto_a_conductance_refused():
    for out in (ns.synapses.COBA(0.0), ns.synapses.MgBlock()):
        with pytest.raises(ValueError, match=r">= 0 nS with a conductance output.*-0.5"):
            _connect(_builder(), weight=-0.5, output=out)
    with pytest.raises(ValueError, match="COBA\\(-80.0\\)"):  # the fix: inhibitory e_rev
        _connect(_builder(), ns.connectivity.from_dense(-np.eye(4)), weight=None)
    # A negative current (CUBA) is inhibition, not an error.
    _connect(_builder(), weight=-0.5, output=ns.synapses.CUBA())


def test_procedural_bounded_weights_checked_by_their_support():
    gen = ns.connectivity.FixedProbability(0.5, procedural=True)
    with pytest.raises(ValueError, match="min -1"):
        _connect(_builder(), gen, weight=ns.init.Uniform(-1.0, 1.0))
    _connect(_builder(), gen, weight=ns.init.Uniform(0.0, 1.0))


# -- neuron parameters --------------------------------------------------------------------------
@pytest.mark.parametrize("model", [ns.neurons.LIF, ns.neurons.ALIF])
def test_reset_at_or_above_threshold_refused(model):
    with pytest.raises(ValueError, match=r"v_th - v_reset must be > 0 mV.*v_reset must lie below"):
        model(2, v_th=-60.0, v_reset=-55.0)
    with pytest.raises(ValueError, match="v_reset must lie below v_th"):
        model(2, v_th=-50.0, v_reset=-50.0)
    model(2, v_th=-50.0, v_reset=-65.0)


def test_other_zoo_orderings_refused():
    with pytest.raises(ValueError, match="v_reset must lie below v_peak"):
        ns.neurons.AdEx(1, v_reset=10.0, v_peak=0.0)
    with pytest.raises(ValueError, match="v_reset must lie below v_peak"):
        ns.neurons.QIF(1, v_reset=40.0)
    with pytest.raises(ValueError, match="c must lie below v_peak"):
        ns.neurons.Izhikevich(1, c=35.0)


# -- delays and dt ------------------------------------------------------------------------------
def _net_with_delay(delay):
    b = _builder()
    _connect(b, delay=delay)
    return b.build()


def test_delay_off_the_grid_warns_with_the_rounding_error():
    net = _net_with_delay(0.25)  # 2.5 steps -> 2 (round half to even), 0.05 ms off
    with pytest.warns(ns.network.DelayRoundingWarning, match=r"rounded to 2 steps.*error 0.05 ms"):
        net.init_state(jax.random.key(0), DT)


def test_delay_below_half_a_step_refused():
    net = _net_with_delay(0.04)
    with pytest.raises(ValueError, match=r"'P->P' is 0.04 ms, less than half a step"):
        net.init_state(jax.random.key(0), DT)
    with pytest.raises(ValueError, match="less than half a step"):
        ns.simulate(net, 1.0, DT, key=jax.random.key(0))


def test_delays_on_the_grid_are_silent(no_warnings):
    _net_with_delay(1.5).init_state(jax.random.key(0), DT)
    _net_with_delay(0.0).init_state(jax.random.key(0), DT)


def test_per_synapse_delays_warn_largest_error_and_vanishing_count():
    w = np.ones((2, 2))
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(2))
    conn = ns.connectivity.from_dense(w)
    delays = np.array([0.0, 0.04, 0.23, 1.0])  # errors 0, 0.04 (-> 0 steps), 0.03, 0
    b.connect("P", "P", conn, synapse=ns.synapses.Exponential(5.0), delay=delays)
    with pytest.warns(
        ns.network.DelayRoundingWarning,
        match=r"largest error 0.04 ms; 1 positive delay\(s\) round to 0 steps",
    ):
        b.build().init_state(jax.random.key(0), DT)


# -- spike sources ------------------------------------------------------------------------------
def test_spike_times_off_grid_warn_with_the_error_and_land_on_the_nearest_step():
    b = ns.NetworkBuilder()
    b.add_population("X", ns.inputs.SpikeTimes(1, [1.03, 1.07]))
    net = b.build()
    with pytest.warns(UserWarning, match=r"largest error 0.03 ms: 1.0[37] -> 1(.1)? ms"):
        res = ns.simulate(net, 2.0, DT, key=jax.random.key(0), record_spikes="all")
    np.testing.assert_allclose(res.spike_times, [1.0, 1.1], atol=1e-9)


def test_two_spikes_of_one_neuron_in_one_step_refused_unless_merged():
    src = ns.inputs.SpikeTimes(1, [1.01, 1.04])
    with pytest.raises(ValueError, match=r"1 spike\(s\) fall into the same dt=0.1 ms step"):
        src.init(None, DT)
    merged = ns.inputs.SpikeTimes(1, [1.01, 1.04], same_step="merge")
    with pytest.warns(UserWarning, match="merged into one spike"):
        merged.init(None, DT)
    # on the grid of a finer step the two spikes are distinct: no error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src.init(None, 0.01)


def test_poisson_rate_above_one_spike_per_step_refused():
    src = ns.neurons.PoissonSource(3, rate=1e5)
    with pytest.raises(
        ValueError, match=r"100000 Hz at dt=0.1 ms asks for 10 spikes per step.*counts per step"
    ):
        src.init(None, DT)
    with pytest.warns(UserWarning, match=r"variance is low by the factor 0.8"):
        ns.neurons.PoissonSource(3, rate=2000.0).init(None, DT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns.neurons.PoissonSource(3, rate=1e5).init(None, 0.001)  # 0.1 spikes per step
    src = ns.inputs.InhomogeneousPoisson(2, np.array([10.0, 2e4]), rate_dt=1.0)
    with pytest.raises(ValueError, match="InhomogeneousPoisson rate up to 20000 Hz"):
        src.init(None, DT)


def test_poisson_refusal_reaches_the_user_through_simulate():
    b = ns.NetworkBuilder()
    b.add_population("X", ns.neurons.PoissonSource(3, rate=1e5))
    with pytest.raises(ValueError, match="spikes per step"):
        ns.simulate(b.build(), 1.0, DT, key=jax.random.key(0))


# -- keys ---------------------------------------------------------------------------------------
def test_int_key_refused_naming_jax_random_key():
    with pytest.raises(TypeError, match=r"got the int 0; pass key=jax.random.key\(0\)"):
        ns.NetworkBuilder(key=0)
    with pytest.raises(TypeError, match=r"jax.random.key\(2\)"):
        _connect(_builder(), key=2)
    net = _net_with_delay(0.0)
    with pytest.raises(TypeError, match=r"jax.random.key\(3\)"):
        net.init_state(3, DT)
    with pytest.raises(TypeError, match=r"jax.random.key\(1\)"):
        ns.simulate(net, 1.0, DT, key=1)
    with pytest.raises(TypeError, match="JAX random key"):
        ns.simulate(net, 1.0, DT, key="seed")
    ns.NetworkBuilder(key=jax.random.PRNGKey(0))  # raw uint32 keys stay accepted


# -- property-based: the builder's arguments ------------------------------------------------------
INVALID = {
    "n": st.one_of(st.integers(-3, 0), st.just(2.5), st.just("4"), st.none()),
    "p": st.one_of(
        st.floats(1.0001, 5.0), st.floats(-5.0, -0.0001), st.just(math.nan), st.just("0.1")
    ),
    "weight": st.one_of(
        st.floats(-10.0, -0.001), st.sampled_from([math.nan, math.inf, -math.inf, "0.5"])
    ),
    "delay": st.one_of(
        st.floats(-10.0, -0.001), st.sampled_from([math.nan, math.inf, "abc", "1.0"])
    ),
}
ERROR = {  # the documented type for a value of the given kind
    "n": lambda v: ValueError,
    "p": lambda v: TypeError if isinstance(v, str) else ValueError,
    "weight": lambda v: TypeError if isinstance(v, str) else ValueError,
    "delay": lambda v: TypeError if isinstance(v, str) else ValueError,
}
VALID = {
    "n": st.integers(1, 6),
    "p": st.floats(0.0, 1.0),
    "weight": st.floats(0.0, 10.0),
    "delay": st.sampled_from([0.0, 0.1, 0.5, 1.2]),
}


def _build(n, p, weight, delay):
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(n))
    b.connect(
        "P",
        "P",
        ns.connectivity.FixedProbability(p),
        weight=weight,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
        delay=delay,
    )
    return b.build()


@given(args=st.fixed_dictionaries(VALID))
@settings(max_examples=12, deadline=None)
def test_valid_builder_arguments_build(args):
    net = _build(**args)
    assert net.n == args["n"] and net.projections[0].conn.nnz <= args["n"] ** 2


@given(data=st.data(), bad=st.sampled_from(sorted(INVALID)))
@settings(max_examples=30, deadline=None)
def test_invalid_builder_arguments_raise_the_documented_error_naming_the_parameter(data, bad):
    args = {k: data.draw(VALID[k] if k != bad else INVALID[k], label=k) for k in VALID}
    if bad != "n":
        args["n"] = 3  # one compiled shape for the invalid cases
    with pytest.raises((ValueError, TypeError)) as e:
        _build(**args)
    assert type(e.value) is ERROR[bad](args[bad]), str(e.value)
    assert bad in str(e.value), str(e.value)


def test_tiny_probability_builds_an_empty_matrix_not_a_decimal_error():
    """Found by the suite above: p = 5e-324 ended in decimal.DivisionByZero (1 - p == 1)."""
    for p in (5e-324, 1e-13):
        assert ns.connectivity.FixedProbability(p).build(jax.random.key(0), 3, 3, 0.5).nnz == 0
    # the series branch agrees with the direct formula where both are accurate
    from neurosim._streams import gap_scale

    for p in (1e-13, 1e-11):  # series branch, decimal branch; reference: math.log1p
        ref = 1.0 / (2**26 * -math.log1p(-p) / math.log(2))
        assert abs(float(gap_scale(p)) / ref - 1) < 2**-23  # within float32 rounding
