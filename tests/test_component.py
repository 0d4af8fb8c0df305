"""The one component protocol: abstract interfaces fail at instantiation, naming the method;
every public dynamical part of neurosim is an ``AbstractComponent``; binding of size-generic
parts; renamed keywords are refused with a pointer to the new name."""

import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

# The component interfaces and the abstract methods each must declare (the protocol's pair
# where the interface does not supply it, plus the model-specific hooks).
INTERFACES = {
    ns.AbstractComponent: {"init", "step"},
    ns.neurons.AbstractNeuron: {"init", "step"},
    ns.neurons.AbstractSpikeSource: {"init", "step"},
    ns.synapses.AbstractKinetics: {"init", "step", "value"},
    ns.inputs.AbstractCurrent: {"step"},  # init: {} for stateless inputs (a real default)
    ns.network.AbstractProjectionDynamics: {"init", "step"},
    ns.rates.AbstractRateModel: {"vector_field", "output"},  # init/step: shared integration
}

# Other abstract bases whose former ``raise NotImplementedError`` stubs are abstract methods.
OTHER_BASES = {
    ns.ops.AbstractConnectivity: {
        "reference_matvec",
        "transpose_matvec",
        "todense",
        "with_weights",
        "nnz",
    },
    ns.init.AbstractInit: {"sample", "mean"},
    ns.integrators.AbstractIntegrator: {"step"},
    ns.neurons.AbstractSurrogate: {"derivative"},
    ns.synapses.AbstractOutput: {"drive"},
    ns.rates.AbstractCoupling: {"pair"},
    ns.plasticity.AbstractSTDP: {"pre_taus", "post_taus", "on_pre", "on_post"},
}


# Constructor arguments of bases with their own __init__.
ARGS = {ns.rates.AbstractCoupling: (np.eye(2),)}


def _trivial(name):
    def method(self, *args, **kwargs):
        return None

    method.__name__ = name
    return method


def _subclass_without(base, missing: str):
    """A subclass of ``base`` implementing every abstract method except ``missing``, with
    every abstract field given; instantiating it must fail only because of ``missing``."""
    body = {"__annotations__": {}}
    for name in base.__abstractmethods__:
        if name == missing:
            continue
        attr = inspect.getattr_static(base, name)
        if isinstance(attr, property):
            body[name] = property(_trivial(name))
        elif isinstance(attr, staticmethod):
            body[name] = staticmethod(_trivial(name))
        else:
            body[name] = _trivial(name)
    for klass in base.__mro__:
        for var, ann in klass.__dict__.get("__annotations__", {}).items():
            if "AbstractClassVar" in str(ann):
                body["__annotations__"][var] = "ClassVar[int]"
                body[var] = 1
            elif "AbstractVar" in str(ann):
                body["__annotations__"][var] = object
                body[var] = eqx.field(default=None)
    return type(f"Incomplete{base.__name__}", (base,), body)


def _cases(table):
    return [(b, m) for b, methods in table.items() for m in sorted(methods)]


def _id(case):
    return case.__name__ if isinstance(case, type) else str(case)


@pytest.mark.parametrize("base,expected", list(INTERFACES.items()) + list(OTHER_BASES.items()),
                         ids=[b.__name__ for b in [*INTERFACES, *OTHER_BASES]])  # fmt: skip
def test_interfaces_declare_their_abstract_methods(base, expected):
    assert expected <= set(base.__abstractmethods__)


@pytest.mark.parametrize("base,missing", _cases(INTERFACES) + _cases(OTHER_BASES), ids=_id)
def test_missing_method_fails_at_instantiation_naming_it(base, missing):
    args = ARGS.get(base, ())
    _subclass_without(base, None)(*args)  # complete: instantiates
    cls = _subclass_without(base, missing)
    with pytest.raises(TypeError, match=r"Can't instantiate abstract class") as err:
        cls(*args)
    assert f"'{missing}'" in str(err.value) or str(err.value).endswith(f" {missing}")


def test_complete_subclass_instantiates():
    class Counter(ns.AbstractComponent):
        def init(self, key, dt):
            return {"k": jnp.zeros((), jnp.int32)}

        def step(self, state, drive, i, dt, key):
            return {"k": state["k"] + 1}, i

    c = Counter()
    st, out = c.step(c.init(None, 0.1), None, jnp.int32(7), 0.1, None)
    assert int(st["k"]) == 1 and int(out) == 7


def _public_classes():
    mods = [ns.neurons, ns.synapses, ns.inputs, ns.plasticity, ns.rates, ns.network, ns.train]
    out = {}
    for mod in mods:
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if isinstance(obj, type) and issubclass(obj, eqx.Module):
                out[f"{mod.__name__}.{name}"] = obj
    return out


# Classes with a ``step`` that are not simulation components, and why.
NOT_COMPONENTS = {
    # gradient-training modules: step(state, x, dt) over whole layers, built on components
    "SpikingLayer",
    "LeakyReadout",
    "SNN",
    # a trained rate network: step(x, u, dt) is the forward-Euler step its BPTT scans, over one
    # flat state vector (ns.dynamics reads its vector_field), not a network part
    "RateRNN",
}


def test_every_public_stepping_class_is_a_component():
    """Anything public with a ``step`` (a neuron model, spike source, kinetics, input,
    projection dynamics, rate model) is an AbstractComponent, except the listed non-components
    (and integrators, whose ``step(f, y, dt)`` is a numerical scheme)."""
    checked = []
    for qual, cls in _public_classes().items():
        if not hasattr(cls, "step") or cls.__name__ in NOT_COMPONENTS:
            continue
        if issubclass(cls, ns.integrators.AbstractIntegrator):
            continue
        assert issubclass(cls, ns.AbstractComponent), qual
        checked.append(cls.__name__)
    expected = {
        "LIF", "ALIF", "AdEx", "ExpIF", "QIF", "Izhikevich", "HodgkinHuxley", "TraubMiles",
        "MorrisLecar", "FitzHughNagumo", "HindmarshRose", "PoissonSource",
        "InhomogeneousPoisson", "SpikeTimes", "Delta", "Exponential", "DualExponential",
        "Alpha", "ConstantCurrent", "StepCurrent", "ArrayCurrent", "RampCurrent",
        "SinusoidalCurrent", "OUCurrent", "WhiteNoiseCurrent", "TsodyksMarkram", "PairSTDP",
        "TripletSTDP", "WilsonCowan", "JansenRit", "ReducedWongWang", "ReducedWongWangEI",
        "StuartLandau", "Kuramoto",
    }  # fmt: skip
    assert expected <= set(checked), expected - set(checked)


def test_spike_sources_are_not_neurons():
    for src in (
        ns.neurons.PoissonSource(2),
        ns.inputs.SpikeTimes(1, [1.0]),
        ns.inputs.InhomogeneousPoisson(2, lambda t: 5.0),
    ):
        assert isinstance(src, ns.neurons.AbstractSpikeSource)
        assert not isinstance(src, ns.neurons.AbstractNeuron)
        assert not hasattr(src, "has_dynamics")


def test_unbound_parts_refuse_init_naming_bind():
    for part in (ns.synapses.Exponential(5.0), ns.synapses.Delta(), ns.inputs.OUCurrent(0, 1, 5)):
        with pytest.raises(ValueError, match=r"not bound.*\.bind\(n\)"):
            part.init(jax.random.key(0), 0.1)
    with pytest.raises(ValueError, match=r"not bound.*\.bind\(conn\)"):
        ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=100.0).init(None, 0.1)
    bound = ns.synapses.Exponential(5.0).bind(4)
    assert bound.n == 4 and bound.init(None, 0.1)["g"].shape == (4,)
    with pytest.raises(ValueError, match="n must be"):
        ns.synapses.Exponential(5.0).bind(0)


def test_kinetics_step_is_exact_decay_then_increment():
    syn = ns.synapses.Exponential(4.0).bind(2)
    st = {"g": jnp.array([1.0, 2.0])}
    st, g = syn.step(st, jnp.array([0.5, 0.0]), 0, 0.2, None)
    np.testing.assert_allclose(np.asarray(g), np.array([1.0, 2.0]) * np.exp(-0.05) + [0.5, 0.0],
                               rtol=2e-7)  # fmt: skip
    st2, g2 = syn.step(st, None, 1, 0.2, None)
    np.testing.assert_allclose(np.asarray(g2), np.asarray(g) * np.exp(-0.05), rtol=2e-7)


def test_external_current_is_part_of_the_drive():
    """i_ext folded into drive.current gives exactly the bias-current trajectory."""
    a = ns.neurons.LIF(2, i_e=0.0, v_init=-60.0)
    b = ns.neurons.LIF(2, i_e=[150.0, 400.0], v_init=-60.0)
    sa, sb = a.init(None, 0.1), b.init(None, 0.1)
    z = ns.neurons.SynapticDrive.zeros(2)
    for i in range(30):
        sa, za = a.step(sa, z.with_current(jnp.array([150.0, 400.0])), i, 0.1, None)
        sb, zb = b.step(sb, z, i, 0.1, None)
        np.testing.assert_allclose(np.asarray(sa["v"]), np.asarray(sb["v"]), rtol=1e-6)
        np.testing.assert_array_equal(np.asarray(za), np.asarray(zb))


def test_poisson_source_rate_drive_adds_to_its_rate():
    """A rate drive (Hz) adds to the source's own rate; p = rate dt (Bernoulli)."""
    src = ns.neurons.PoissonSource(4000, rate=0.0)
    dt, drive = 1.0, jnp.full((4000,), 100.0)
    _, s = src.step(src.init(None, dt), drive, 0, dt, jax.random.key(3))
    p = 100.0 * dt * 1e-3
    assert abs(float(jnp.mean(s)) - p) < 5 * np.sqrt(p * (1 - p) / 4000)
    _, s0 = src.step({}, None, 0, dt, jax.random.key(3))
    assert float(jnp.sum(s0)) == 0.0


def test_renamed_keyword_is_refused_with_the_new_name():
    with pytest.raises(TypeError, match="'v_rest' was renamed 'e_l'"):
        ns.neurons.QIF(2, v_rest=-60.0)
    assert float(ns.neurons.QIF(1, e_l=-61.0).e_l[0]) == -61.0


def test_stdp_interaction_is_a_checked_literal():
    with pytest.raises(ValueError, match="interaction must be one of 'all_to_all', 'nearest'"):
        ns.plasticity.PairSTDP(interaction="nearest_neighbour")
    with pytest.raises(ValueError, match="update must be one of"):
        ns.plasticity.TripletSTDP(update="fast")


def test_network_init_is_init_state():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(3))
    net = b.build()
    s1, s2 = net.init(jax.random.key(1), 0.1), net.init_state(jax.random.key(1), 0.1)
    assert eqx.tree_equal(s1, s2)


def test_rate_model_step_is_heun_plus_additive_noise():
    """step = one Heun step of vector_field with c held, + sigma sqrt(dt) xi, then bound."""
    noise = ns.rates.AdditiveNoise({"S_e": 0.01})
    m = ns.rates.ReducedWongWangEI(3, noise=noise)
    same = ns.rates.ReducedWongWangEI(3).with_integration(noise=noise)
    s0, c, dt, key = m.init(jax.random.key(0), 0.1), jnp.full(3, 0.05), 0.1, jax.random.key(4)
    (s1, y1), (s2, _) = m.step(s0, c, 0, dt, key), same.step(s0, c, 0, dt, key)
    k1 = m.vector_field(s0, c)
    k2 = m.vector_field({k: s0[k] + dt * k1[k] for k in s0}, c)
    ref = {k: s0[k] + 0.5 * dt * (k1[k] + k2[k]) for k in s0}
    xi = jax.random.normal(jax.random.fold_in(key, 0), (3,))  # S_e is state variable 0
    ref["S_e"] = ref["S_e"] + 0.01 * np.sqrt(dt) * xi
    ref = m.bound(ref)
    for k in s0:
        np.testing.assert_allclose(np.asarray(s1[k]), np.asarray(ref[k]), rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(np.asarray(s1[k]), np.asarray(s2[k]))
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(m.output(s1)))
    with pytest.raises(ValueError, match="unknown state variables"):
        ns.rates.ReducedWongWangEI(3, noise=ns.rates.AdditiveNoise({"r": 1.0}))
