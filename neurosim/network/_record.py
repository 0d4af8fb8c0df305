"""What to record: traces of state variables, observables and readouts, decimated.

One convention for every part of a network: ``ns.Trace("name.var", indices=, every=)``; and
whose spikes are kept (``record_spikes=``: by default every population but spike sources).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..neurons import AbstractSpikeSource
from ._network import Network, NetworkState

__all__ = [
    "Trace",
    "TraceSpec",
    "resolve_traces",
    "read_trace",
    "resolve_record_spikes",
    "spike_buffers",
]


class Trace(NamedTuple):
    """Record a state variable.

    Args:
        target: ``"pop.var"`` for a neuron variable (``"E.v"``; groups allowed),
            ``"pop.receptor.var"`` for a synaptic one (``"P.exc.g"``),
            ``"projection.var"`` for the state of a projection's dynamics (``"E->P.w"``:
            plastic weights; ``"E->P.u"``: short-term facilitation), ``"nodes.var"`` for a
            rate population's state variable or observable (``"wong.S_e"``, ``"wong.r_e"``;
            ``"wong.input"``: its coupling input ``c``), ``"readout"`` for a readout's value
            (``"lfp"``) or ``"readout.var"`` for a variable of its state.
        indices: neuron, node or readout indices within the part (default: all).
        every: keep one sample every ``every`` steps (the value after the last step of each
            block, i.e. at times ``every*dt, 2*every*dt, ...``).

    Example:
        >>> import neurosim as ns
        >>> tr = ns.Trace("E.v", indices=[0, 1, 2], every=10)
    """

    target: str
    indices: object = None
    every: int = 1


class TraceSpec(NamedTuple):
    """A resolved, hashable :class:`Trace`."""

    name: str
    pop: int  # -1: projection variable
    receptor: int  # -1: neuron variable
    var: str
    indices: tuple[int, ...]
    every: int
    projection: int = -1
    rate_pop: int = -1  # rate population variable / observable ("input": c)
    readout: int = -1  # readout: var "" is its value


def resolve_traces(net: Network, traces, state: NetworkState) -> tuple[TraceSpec, ...]:
    """Validate and resolve user :class:`Trace` objects (or target strings) against ``net``."""
    out = []
    seen = set()
    for tr in traces or ():
        if isinstance(tr, str):
            tr = Trace(tr)
        if not isinstance(tr, Trace):
            raise ValueError(
                f"record entries must be ns.Trace(...) or 'pop.var' strings, got {tr!r}"
            )
        spec, (a, b), avail = _locate(net, tr.target, state)
        pop, r, var, j, rp, ro = spec
        if var not in avail:
            raise ValueError(f"{tr.target!r}: no variable {var!r}; available: {sorted(avail)}")
        idx = (
            np.arange(b - a)
            if tr.indices is None
            else np.asarray(tr.indices, dtype=np.int64).ravel()
        )
        if idx.size and (idx.min() < 0 or idx.max() >= b - a):
            raise ValueError(
                f"{tr.target!r}: indices must lie in [0, {b - a}), got [{idx.min()}, {idx.max()}]"
            )
        if (
            isinstance(tr.every, bool)
            or not isinstance(tr.every, (int, np.integer))
            or tr.every < 1
        ):
            raise ValueError(f"{tr.target!r}: every must be an integer >= 1, got {tr.every!r}")
        if tr.target in seen:
            raise ValueError(f"trace {tr.target!r} is recorded twice")
        seen.add(tr.target)
        out.append(
            TraceSpec(
                tr.target, pop, r, var, tuple(int(i) + a for i in idx), int(tr.every), j, rp, ro
            )
        )
    return tuple(out)


def _size(x) -> int:
    return int(x.shape[0]) if getattr(x, "ndim", 0) else 1


def _locate(net: Network, target: str, state: NetworkState):
    """``((pop, receptor, var, projection, rate_pop, readout), (start, stop), available)``."""
    parts = target.split(".")
    readouts = [ro.name for ro in net.readouts]
    if len(parts) == 1 and parts[0] in readouts:
        k = readouts.index(parts[0])
        n = net.readouts[k].n_out
        return (-1, -1, "", -1, -1, k), (0, n), {"": None}
    if len(parts) not in (2, 3):
        raise ValueError(
            f"trace target must be 'pop.var', 'pop.receptor.var' or a readout name, got {target!r}"
        )
    if len(parts) == 2:
        head, var = parts
        proj_names = [pr.name for pr in net.projections]
        if head in proj_names:
            j = proj_names.index(head)
            avail = state.projections[j]
            n = _size(avail[var]) if var in avail else 0
            return (-1, -1, var, j, -1, -1), (0, n), avail
        rate_names = [rp.name for rp in net.rate_populations]
        if head in rate_names:
            k = rate_names.index(head)
            rp = net.rate_populations[k]
            avail = dict(state.nodes[k])
            avail["input"] = state.node_input[k]
            avail.update(jax.eval_shape(rp.model.observables, state.nodes[k], state.node_input[k]))
            return (-1, -1, var, -1, k, -1), (0, rp.n), avail
        if head in readouts:
            k = readouts.index(head)
            avail = state.readouts[k] if isinstance(state.readouts[k], dict) else {}
            n = _size(avail[var]) if var in avail else 0
            return (-1, -1, var, -1, -1, k), (0, n), avail
    pop, (a, b) = net.resolve(parts[0])
    p = net.populations[pop]
    if len(parts) == 2:
        return (pop, -1, parts[1], -1, -1, -1), (a, b), state.neurons[pop]
    names = [rc.name for rc in p.receptors]
    if parts[1] not in names:
        raise ValueError(f"population {p.name!r} has no receptor {parts[1]!r}; it has {names}")
    r = names.index(parts[1])
    return (pop, r, parts[2], -1, -1, -1), (a, b), state.receptors[pop][r]


def read_trace(net: Network, spec: TraceSpec, state: NetworkState):
    """Current values of a traced variable, shape ``(len(indices),)``."""
    if spec.readout >= 0:
        src = {"": state.readout_values[spec.readout]}
        if spec.var:
            src = state.readouts[spec.readout]
    elif spec.rate_pop >= 0:
        k = spec.rate_pop
        if spec.var in state.nodes[k]:
            src = state.nodes[k]
        elif spec.var == "input":
            src = {"input": state.node_input[k]}
        else:
            src = net.rate_populations[k].model.observables(state.nodes[k], state.node_input[k])
    elif spec.projection >= 0:
        src = state.projections[spec.projection]
    elif spec.receptor < 0:
        src = state.neurons[spec.pop]
    else:
        src = state.receptors[spec.pop][spec.receptor]
    x = jnp.atleast_1d(src[spec.var])
    return x[jnp.asarray(spec.indices, dtype=jnp.int32)]


def resolve_record_spikes(network: Network, record_spikes) -> tuple[int, ...]:
    """Indices of the populations whose spikes are recorded, for ``record_spikes=`` of
    :func:`neurosim.simulate` and :func:`neurosim.distributed.simulate`.

    ``None``: every population except spike sources; ``"all"`` (or ``True``): every one;
    ``()`` (or ``False``): none; a population name or a sequence of names: those.

    Example:
        >>> import jax, neurosim as ns
        >>> b = ns.NetworkBuilder()
        >>> b.add_population("X", ns.neurons.PoissonSource(4, rate=10.0))
        'X'
        >>> b.add_population("E", ns.neurons.LIF(4))
        'E'
        >>> net = b.build()
        >>> from neurosim.network import resolve_record_spikes
        >>> resolve_record_spikes(net, None), resolve_record_spikes(net, "all")
        ((1,), (0, 1))
    """
    pops = network.populations
    if record_spikes is None:
        return tuple(j for j, p in enumerate(pops) if not isinstance(p.neuron, AbstractSpikeSource))
    if record_spikes == "all" or record_spikes is True:
        return tuple(range(len(pops)))
    if record_spikes is False:
        return ()
    if isinstance(record_spikes, str):
        record_spikes = (record_spikes,)
    if not isinstance(record_spikes, (list, tuple, set, frozenset)) or not all(
        isinstance(name, str) for name in record_spikes
    ):
        raise ValueError(
            f"record_spikes must be None, 'all', a population name or a sequence of names, got "
            f"{record_spikes!r:.80}; e.g. record_spikes=['E'] or record_spikes='all'"
        )
    names = {p.name: j for j, p in enumerate(pops)}
    groups = {g: p.name for p in pops for g, *_ in p.groups}
    out = set()
    for name in record_spikes:
        if name not in names:
            hint = (
                f" ({name!r} is a group of population {groups[name]!r}: record the population "
                "and select the group with result.spikes(name))"
                if name in groups
                else ""
            )
            raise ValueError(
                f"record_spikes names populations; {name!r} is not one{hint}. Populations: "
                f"{list(names)} (or None: all but spike sources, 'all', or ())"
            )
        out.add(names[name])
    return tuple(sorted(out))


def spike_buffers(network: Network, rec: tuple[int, ...]) -> tuple[int, ...]:
    """The populations whose spikes a compiled chunk buffers when ``rec`` are recorded: ``rec``
    plus the default set (every population but spike sources).

    So ``record_spikes=()`` (a transient), ``None`` and any subset of the default set share
    one executable: choosing what to record never recompiles (at N = K = 0.1 the microcircuit's
    chunk compiles in ~15 s). Buffers of unrecorded populations stay on the device (at most
    ``ceil(n / 8)`` bytes per step, inside the chunk's ~32 MB) and are never decoded.
    """
    return tuple(sorted(set(resolve_record_spikes(network, None)) | set(rec)))
