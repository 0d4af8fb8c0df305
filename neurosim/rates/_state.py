"""Explicit state of a rate network and its one-step update (a pure function)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check
from ..integrators import AbstractIntegrator
from ._base import AbstractRateModel
from ._coupling import AbstractCoupling
from ._noise import AdditiveNoise, check_integrator, check_noise

__all__ = [
    "RateState",
    "AdditiveNoise",
    "init_state",
    "check_state",
    "rate_step",
    "check_setup",
    "read_record",
    "resolve_record",
]


class RateState(eqx.Module):
    """All dynamic state of a rate network; per-node arrays have the node axis first.

    Attributes:
        step: integer step counter (time is ``step * dt``).
        nodes: the model's state dict at this step.
        coupling: coupling input ``c`` at this step, shape of the model's output.
        history: ring ``(D, n, ...)`` of past outputs (slot ``s % D`` holds step ``s``), or
            None without delays.
        fault_step: per node, the first step whose state was not finite (-1: none).
    """

    step: jax.Array
    nodes: dict
    coupling: jax.Array
    history: jax.Array | None
    fault_step: jax.Array


def check_setup(model, coupling, noise=None, integrator=None) -> None:
    """Raise ``ValueError`` for mismatched model/coupling/noise/integrator (host side)."""
    if not isinstance(model, AbstractRateModel):
        raise ValueError(f"model must be a neurosim.rates model, got {type(model).__name__}")
    if coupling is not None:
        if not isinstance(coupling, AbstractCoupling):
            raise ValueError(
                f"coupling must be a neurosim.rates coupling or None, got {type(coupling).__name__}"
            )
        if coupling.n != model.n:
            raise ValueError(
                f"coupling weights are ({coupling.n}, {coupling.n}) but the model has "
                f"{model.n} nodes"
            )
    if noise is not None:
        check_noise(noise, model)
    if integrator is not None:
        check_integrator(integrator)


def _ring_depth(coupling, dt) -> int:
    if coupling is None or coupling.delays is None:
        return 0
    return coupling.max_delay_steps(dt) + 1


def init_state(model, coupling, key, dt: float, nodes: dict | None = None) -> RateState:
    """Initial state: node variables sampled with ``key`` (or given), a constant past.

    Args:
        model: the rate model.
        coupling: its coupling (or None).
        key: random key for the model's initializers.
        dt: time step (ms); sizes the delay ring (``max round(d_ij/dt) + 1`` steps).
        nodes: optional state dict to start from instead of sampling.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.rates.Kuramoto(3)
        >>> s0 = ns.rates.init_state(m, None, jax.random.key(0), dt=0.1)
    """
    check_setup(model, coupling)
    check(lambda a: a > 0, "dt", dt, "must be > 0 ms")
    if nodes is not None:
        missing = sorted(set(model.state_names) - set(nodes))
        if missing:
            raise ValueError(f"nodes is missing state variables {missing}")
        nodes = {
            k: jnp.broadcast_to(jnp.asarray(nodes[k], jnp.result_type(float)), (model.n,))
            for k in model.state_names
        }
    depth = _ring_depth(coupling, dt)
    dt = jnp.asarray(dt, jnp.result_type(float))
    # One compiled call instead of many eagerly dispatched operations (faster start-up).
    return _init_jit(model, coupling, key, dt, nodes, depth)


@eqx.filter_jit
def _init_jit(model, coupling, key, dt, nodes, depth: int):
    if nodes is None:
        nodes = model.init(key, dt)
    y = model.output(nodes)
    history = jnp.broadcast_to(y, (depth, *y.shape)) if depth > 0 else None
    step = jnp.asarray(0, jnp.int32)
    c = _coupling_input(coupling, y, history, step, dt)
    return RateState(
        step=step,
        nodes=nodes,
        coupling=c,
        history=history,
        fault_step=jnp.full((model.n,), -1, jnp.int32),
    )


def check_state(model, coupling, state: RateState, dt: float) -> None:
    """Raise ``ValueError`` if ``state`` does not fit this model/coupling at this ``dt``."""
    if not isinstance(state, RateState):
        raise ValueError(f"state must be a RateState, got {type(state).__name__}")
    if sorted(state.nodes) != sorted(model.state_names):
        raise ValueError(
            f"state has variables {sorted(state.nodes)}, the model {sorted(model.state_names)}"
        )
    need = _ring_depth(coupling, dt)
    have = 0 if state.history is None else state.history.shape[0]
    if have != need:
        raise ValueError(
            f"state keeps {have} steps of history but these delays at dt={dt} ms need {need}; "
            f"use ns.rates.init_state(model, coupling, key, dt={dt})"
        )


def _coupling_input(coupling, y, history, step, dt):
    if coupling is None:
        return jnp.zeros_like(y)
    return coupling(y, history, step, dt)


def _nonfinite_nodes(nodes: dict) -> jax.Array:
    """Per node, True if any variable is NaN/inf."""
    total = sum(nodes.values())
    return ~jnp.isfinite(total)


def rate_step(
    model,
    coupling,
    state: RateState,
    key,
    dt,
    noise: AdditiveNoise | None = None,
    integrator: AbstractIntegrator | None = None,
) -> RateState:
    """Advance by one step of ``dt`` (ms). Pure.

    Step ``s`` (``t = s dt``): the model's :meth:`~AbstractRateModel.step` integrates ``x``
    from ``t`` to ``t + dt`` with the coupling input ``c(t)`` held, adds its noise (key
    ``fold_in(key, s)``) and applies its bounds; the new output is written into the history
    ring and ``c(t + dt)`` computed for the next step. ``noise``/``integrator``, if given,
    replace the model's own (:meth:`~AbstractRateModel.with_integration`).

    Holding ``c`` over the step (as The Virtual Brain does) makes the coupling terms first
    order in ``dt`` whatever the integrator; the node's own dynamics get the integrator's
    order. The ring's length is fixed, so the delays are not differentiable (they are
    rounded to steps); everything else is.
    """
    if noise is not None or integrator is not None:
        model = model.with_integration(integrator=integrator, noise=noise)
    step = state.step
    nodes, y = model.step(state.nodes, state.coupling, step, dt, jax.random.fold_in(key, step))
    history = state.history
    if history is not None:
        history = jax.lax.dynamic_update_index_in_dim(
            history, y.astype(history.dtype), (step + 1) % history.shape[0], 0
        )
    c_next = _coupling_input(coupling, y, history, step + 1, dt)
    bad = _nonfinite_nodes(nodes)
    fault = jnp.where((state.fault_step < 0) & bad, step, state.fault_step)
    return RateState(step=step + 1, nodes=nodes, coupling=c_next, history=history, fault_step=fault)


def read_record(model, state: RateState, names: tuple[str, ...]) -> tuple:
    """Values ``(n,)`` of recorded variables (state variables or observables)."""
    obs = None
    out = []
    for name in names:
        if name in state.nodes:
            out.append(state.nodes[name])
        else:
            if obs is None:
                obs = model.observables(state.nodes, state.coupling)
            out.append(obs[name])
    return tuple(out)


def resolve_record(model, record) -> tuple[str, ...]:
    """Validate recorded names: state variables or the model's observables."""
    if record is None:
        return tuple(model.state_names)
    if isinstance(record, str):
        record = (record,)
    shapes = jax.eval_shape(
        lambda: model.observables(model.init(jax.random.key(0), 0.1), _zero_c(model))
    )
    known = list(model.state_names) + list(shapes)
    out = []
    for name in record:
        if name not in known:
            raise ValueError(f"cannot record {name!r}; available: {known}")
        if name in out:
            raise ValueError(f"{name!r} is recorded twice")
        out.append(name)
    if not out:
        raise ValueError("record must name at least one variable")
    return tuple(out)


def _zero_c(model):
    return jnp.zeros((model.n, *model.coupling_shape()), jnp.result_type(float))
