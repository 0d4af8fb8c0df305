"""``run``: the pure, differentiable simulation loop (one ``lax.scan``)."""

from __future__ import annotations

from typing import NamedTuple

import jax

from ._network import Network, NetworkState, Plan
from ._record import read_trace, resolve_traces
from ._step import network_step

__all__ = ["run", "RunOutput"]


class RunOutput(NamedTuple):
    """Per-step outputs of :func:`run`.

    Attributes:
        spikes: per spiking population name, float array ``(n_steps, n)`` (differentiable
            through the surrogate).
        traces: per trace name, ``(n_steps // every, len(indices))``: neuron, receptor,
            projection and rate-node variables, observables and readouts alike.
    """

    spikes: dict
    traces: dict


def run(
    net: Network,
    state: NetworkState,
    n_steps: int,
    dt,
    *,
    key,
    record=(),
    plan: Plan | None = None,
    checkpoint: bool = False,
) -> tuple[NetworkState, RunOutput]:
    """Advance ``state`` by ``n_steps`` steps of ``dt`` (ms). Pure: jit-, vmap- and grad-able.

    This is the building block for training and fitting (and what :func:`simulate` drives in
    chunks), for spiking, rate and mixed networks alike. All spikes are returned as dense
    float arrays, so keep networks small or ``n_steps`` short when differentiating.

    Args:
        net: the network.
        state: from ``net.init_state(key, dt)`` or a previous run.
        n_steps: number of steps (static).
        dt: time step (ms); may be traced when ``plan`` is given.
        key: random key for stochastic elements (per-step keys are ``fold_in(key, step)``, so
            splitting a run in pieces gives the same result).
        record: :class:`neurosim.Trace` objects (or ``"pop.var"`` strings).
        plan: static delay plan (default ``net.plan(dt)``, which needs a concrete ``dt``).
        checkpoint: rematerialise each step in the backward pass (less memory, more compute).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=100, key=jax.random.key(0))
        >>> s0 = net.init_state(jax.random.key(1), dt=0.1)
        >>> s1, out = ns.run(net, s0, 100, 0.1, key=jax.random.key(2), record=["P.v"])
    """
    if plan is None:
        try:
            plan = net.plan(float(dt))
        except (TypeError, jax.errors.ConcretizationTypeError) as e:
            raise ValueError("dt is traced: pass plan=net.plan(dt_value) to run()") from e
    specs = resolve_traces(net, record, state)

    def body(st, _):
        st, spikes = network_step(net, plan, st, key, dt)
        return st, (spikes, tuple(read_trace(net, s, st) for s in specs))

    if checkpoint:
        body = jax.checkpoint(body)
    state, (spikes, traces) = jax.lax.scan(body, state, None, length=int(n_steps))
    out = RunOutput(
        spikes={p.name: s for p, s in zip(net.populations, spikes, strict=True)},
        traces={s.name: tr[s.every - 1 :: s.every] for s, tr in zip(specs, traces, strict=True)},
    )
    return state, out
