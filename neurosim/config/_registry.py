"""What a config may name: the model zoo by class name, and the units its values may carry.

Every table that names a model (``model = "LIF"``, ``generator = "FixedProbability"``) is looked
up here; the class's own signature says which parameters it takes (keyword names, defaults,
``int``/``bool``/``str`` annotations), so a new model in the zoo is usable from a config with
no change to this package.
"""

from __future__ import annotations

import functools
import inspect
import re

from .. import (
    bold,
    connectivity,
    init,
    inputs,
    integrators,
    network,
    neurons,
    plasticity,
    rates,
    synapses,
)

__all__ = ["KINDS", "registry", "parameters", "UNITS", "dimension", "INIT_DISTS", "INIT_BOUNDS"]

# kind -> (description, [(module, base class or None for "these names")])
KINDS = {
    "neuron": "a neuron model or spike source (ns.neurons, ns.inputs)",
    "current": "an input current (ns.inputs)",
    "generator": "a connectivity generator (ns.connectivity)",
    "synapse": "synaptic kinetics or a receptor preset (ns.synapses)",
    "output": "a synaptic output rule (ns.synapses)",
    "rate_model": "a rate (neural-mass) model (ns.rates)",
    "rate_coupling": "a rate -> rate coupling (ns.rates)",
    "cross_coupling": "a cross-scale coupling (ns.network)",
    "readout": "an in-loop readout (ns.network, ns.bold)",
    "integrator": "an integrator (ns.integrators)",
    "surrogate": "a surrogate spike derivative (ns.neurons)",
    "dynamics": "projection dynamics: short-term plasticity or STDP (ns.plasticity)",
}

# Values of a distribution table ({ dist = "normal", loc = -55.0, std = 2.0 }): the class,
# its required fields and its optional ones (bounds, default -inf / inf).
INIT_DISTS = {
    "normal": (init.Normal, ("loc", "std")),
    "uniform": (init.Uniform, ("low", "high")),
    "constant": (init.Constant, ("value",)),
    "truncated_normal": (init.TruncatedNormal, ("loc", "std")),
    "clipped": (init.Clipped, ("of",)),
}
INIT_BOUNDS = {"truncated_normal": ("low", "high"), "clipped": ("low", "high")}


def _concrete(module, base):
    out = {}
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if isinstance(obj, type) and issubclass(obj, base) and not inspect.isabstract(obj):
            out[name] = obj
    return out


@functools.cache
def registry(kind: str) -> dict:
    """``{name: class or factory}`` of one kind (see :data:`KINDS`)."""
    if kind == "neuron":
        base = (neurons.AbstractNeuron, neurons.AbstractSpikeSource)
        return {**_concrete(neurons, base), **_concrete(inputs, neurons.AbstractSpikeSource)}
    if kind == "current":
        return _concrete(inputs, inputs.AbstractCurrent)
    if kind == "generator":
        return _concrete(connectivity, connectivity.AbstractGenerator)
    if kind == "synapse":
        presets = {n: getattr(synapses, n) for n in ("AMPA", "GABA_A", "GABA_B", "NMDA")}
        return {**_concrete(synapses, synapses.AbstractKinetics), **presets}
    if kind == "output":  # ScaledConductance wraps another output; its per-neuron gains are
        # set by code (the spiking twin's members), not from a file
        found = _concrete(synapses, synapses.AbstractOutput)
        return {k: v for k, v in found.items() if k != "ScaledConductance"}
    if kind == "rate_model":
        return _concrete(rates, rates.AbstractRateModel)
    if kind == "rate_coupling":
        return _concrete(rates, rates.AbstractCoupling)
    if kind == "cross_coupling":
        return _concrete(network, network.AbstractCrossCoupling)
    if kind == "readout":
        found = _concrete(network, network.AbstractReadout)
        return {**found, "BOLD": bold.BOLDReadout}
    if kind == "integrator":
        return _concrete(integrators, integrators.AbstractIntegrator)
    if kind == "surrogate":
        return _concrete(neurons, neurons.AbstractSurrogate)
    if kind == "dynamics":  # DendriticDelaySTDP is made by the builder (per-synapse delays)
        found = _concrete(plasticity, network.AbstractProjectionDynamics)
        return {k: v for k, v in found.items() if k not in ("Stack", "DendriticDelaySTDP")}
    raise KeyError(kind)


# Keys the config sets itself (sizes, bound parts), never as a model parameter; a
# generator's ``n`` (FixedTotalNumber: synapses in all) is its own parameter.
_HIDDEN = {"n", "self", "renamed", "params", "model", "weights", "delays", "conn"}
_OWN = {"generator": {"n"}}


@functools.cache
def parameters(kind: str, name: str) -> dict:
    """``{param: (required, type)}`` of a registered model, type one of
    ``"int"``, ``"bool"``, ``"str"``, ``"number"`` (float, array or distribution), ``"any"``."""
    target = registry(kind)[name]
    sig = inspect.signature(target)
    out = {}
    for p in sig.parameters.values():
        hidden = p.name in _HIDDEN and p.name not in _OWN.get(kind, ())
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or hidden:
            continue
        out[p.name] = (p.default is p.empty, _type_of(p))
    if kind == "readout" and name == "BOLD":  # its **params are BalloonWindkessel's
        for p in inspect.signature(bold.BalloonWindkessel).parameters.values():
            if p.name not in _HIDDEN:
                out[p.name] = (False, "number")
    return out


def _type_of(p) -> str:
    ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
    ann = str(ann)
    if p.name in ("integrator", "surrogate", "noise", "init", "receptors", "variable"):
        return "any"
    if isinstance(p.default, bool) or ann == "bool":
        return "bool"
    if isinstance(p.default, str) or ann.startswith("str") or ann.startswith("Literal"):
        return "str"
    if ann.startswith("int") or p.name in ("k", "n", "decimate"):
        return "int"
    return "number"


# Units a value may carry as a string ("5 ms", "0.2 s"): unit -> (dimension, factor to the
# canonical unit of that dimension: ms, mV, nS, pA, pF, Hz).
UNITS = {
    "ms": ("time", 1.0),
    "s": ("time", 1e3),
    "us": ("time", 1e-3),
    "µs": ("time", 1e-3),
    "mV": ("voltage", 1.0),
    "V": ("voltage", 1e3),
    "nS": ("conductance", 1.0),
    "uS": ("conductance", 1e3),
    "µS": ("conductance", 1e3),
    "pS": ("conductance", 1e-3),
    "pA": ("current", 1.0),
    "nA": ("current", 1e3),
    "pF": ("capacitance", 1.0),
    "nF": ("capacitance", 1e3),
    "Hz": ("rate", 1.0),
    "kHz": ("rate", 1e3),
}
CANONICAL = {"time": "ms", "voltage": "mV", "conductance": "nS", "current": "pA"}
CANONICAL |= {"capacitance": "pF", "rate": "Hz"}

_DIMENSIONS = [
    (r"^(dt|duration|delay|t_ref|tau|tau_\w+|rate_dt|start|stop|tr|times)$", "time"),
    (r"^(v_\w+|e_\w+|delta_t)$", "voltage"),
    (r"^g_\w+$", "conductance"),
    (r"^(i_e|amplitude|amplitudes|amplitude_start|amplitude_stop)$", "current"),
    (r"^c_m$", "capacitance"),
    (r"^(rate|frequency)$", "rate"),
]


def dimension(key: str) -> str | None:
    """The physical dimension of a parameter named ``key`` (None: dimensionless/unknown)."""
    for pattern, dim in _DIMENSIONS:
        if re.match(pattern, key):
            return dim
    return None
