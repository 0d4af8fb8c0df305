"""What to record: state-variable traces of chosen neurons, decimated."""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from ._network import Network, NetworkState

__all__ = ["Trace", "TraceSpec", "resolve_traces", "read_trace"]


class Trace(NamedTuple):
    """Record a state variable.

    Args:
        target: ``"pop.var"`` for a neuron variable (``"E.v"``; groups allowed),
            ``"pop.receptor.var"`` for a synaptic one (``"P.exc.g"``), or
            ``"projection.var"`` for the state of a projection's dynamics (``"E->P.w"``:
            plastic weights; ``"E->P.u"``: short-term facilitation).
        indices: neuron indices within the population/group (default: all).
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
        parts = tr.target.split(".")
        if len(parts) not in (2, 3):
            raise ValueError(
                f"trace target must be 'pop.var' or 'pop.receptor.var', got {tr.target!r}"
            )
        proj_names = [pr.name for pr in net.projections]
        j = -1
        if len(parts) == 2 and parts[0] in proj_names:
            j, pop, r, var = proj_names.index(parts[0]), -1, -1, parts[1]
            avail = state.projections[j]
            if var in avail:
                a, b = 0, int(avail[var].shape[0]) if avail[var].ndim else 1
        else:
            pop, (a, b) = net.resolve(parts[0])
            p = net.populations[pop]
            if len(parts) == 2:
                r, var = -1, parts[1]
                avail = state.neurons[pop]
            else:
                names = [rc.name for rc in p.receptors]
                if parts[1] not in names:
                    raise ValueError(
                        f"population {p.name!r} has no receptor {parts[1]!r}; it has {names}"
                    )
                r, var = names.index(parts[1]), parts[2]
                avail = state.receptors[pop][r]
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
            TraceSpec(tr.target, pop, r, var, tuple(int(i) + a for i in idx), int(tr.every), j)
        )
    return tuple(out)


def read_trace(spec: TraceSpec, state: NetworkState):
    """Current values of a traced variable, shape ``(len(indices),)``."""
    if spec.projection >= 0:
        src = state.projections[spec.projection]
    elif spec.receptor < 0:
        src = state.neurons[spec.pop]
    else:
        src = state.receptors[spec.pop][spec.receptor]
    x = jnp.atleast_1d(src[spec.var])
    return x[jnp.asarray(spec.indices, dtype=jnp.int32)]
