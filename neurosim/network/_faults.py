"""Faults of a run: a non-finite state, found after a chunk and reported by name.

Neuron and rate-node states carry the first non-finite step per population / node through
the loop (``state.fault_step``, ``state.node_fault``); projection state (plastic weights,
STP) is checked once per chunk. The report names the population or node, the step, its time
and the variables.
"""

from __future__ import annotations

import numpy as np

from ._network import Network, NetworkState, nonfinite_variables

__all__ = ["has_fault", "projection_fault", "fault_report"]


def projection_fault(network: Network, proj_bad, first: int, last: int) -> str:
    bad = np.flatnonzero(np.asarray(proj_bad)[: len(network.projections)])
    if not bad.size:
        return ""
    names = ", ".join(repr(network.projections[j].name) for j in bad)
    return (
        f"the state of projection {names} (plastic weights / short-term plasticity) became "
        f"non-finite between step {first} and step {last}; neuron and receptor states stayed "
        "finite, results up to there are kept"
    )


def has_fault(state: NetworkState) -> bool:
    return bool(
        np.any(np.asarray(state.fault_step) >= 0)
        or any(np.any(np.asarray(f) >= 0) for f in state.node_fault)
    )


def fault_report(network: Network, state: NetworkState, start_step: int, dt: float):
    """``(first non-finite step, message)`` naming the population or node and variables."""
    bad_vars = nonfinite_variables(network, state)
    candidates = []  # (step, description)
    fault = np.asarray(state.fault_step)
    for i in np.flatnonzero(fault >= 0):
        name = network.populations[i].name
        candidates.append((int(fault[i]), f"population {name!r}", bad_vars.get(name, []), ""))
    for rp, f, x in zip(network.rate_populations, state.node_fault, state.nodes, strict=True):
        f = np.asarray(f)
        flagged = np.flatnonzero(f >= 0)
        if flagged.size:
            node = int(flagged[np.argmin(f[flagged])])
            variables = [k for k, v in x.items() if not np.all(np.isfinite(np.asarray(v)[node]))]
            candidates.append(
                (
                    int(f[node]),
                    f"rate population {rp.name!r}: node {node} ({type(rp.model).__name__})",
                    variables,
                    f"; {int(flagged.size)} node(s) affected",
                )
            )
    first, where, variables, extra = min(candidates, key=lambda c: c[0])
    message = (
        f"{where} produced a non-finite state at step {first} (t = {first * dt:g} ms)"
        + (f" in {', '.join(variables)}" if variables else "")
        + f"{extra}; results before that step are kept (dt={dt} ms may be too large, or a "
        "parameter is out of range)"
    )
    return first, message
