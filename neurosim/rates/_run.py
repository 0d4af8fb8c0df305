"""``run``: the pure, differentiable loop of a rate network (one ``lax.scan``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._state import RateState, check_setup, rate_step, read_record, resolve_record

__all__ = ["run"]


def run(
    model,
    coupling,
    state: RateState,
    n_steps: int,
    dt,
    *,
    key,
    noise=None,
    integrator=None,
    record=None,
    every: int = 1,
    checkpoint: bool = False,
) -> tuple[RateState, dict]:
    """Advance ``state`` by ``n_steps`` steps of ``dt`` (ms). Pure: jit-, vmap- and grad-able.

    The building block for fitting (and what :func:`simulate` drives in chunks). ``dt`` may be
    traced; the delay ring's length is that of ``state.history`` (delays longer than it are
    clipped to it, so build the state with :func:`init_state` for the ``dt`` you use).

    Args:
        model: a rate model (e.g. :class:`ReducedWongWangEI`).
        coupling: a coupling (e.g. :class:`LinearCoupling`) or None for isolated nodes.
        state: from :func:`init_state` or a previous run.
        n_steps: number of steps (static).
        dt: time step (ms).
        key: random key for the noise (per-step keys ``fold_in(key, step)``, so splitting a
            run in pieces gives the same result).
        noise: :class:`AdditiveNoise` or None.
        integrator: integrator object for the drift (default ``ns.integrators.Heun()``).
        record: names of state variables or observables (default: all state variables).
        every: keep the value after every ``every``-th step (times ``every*dt, 2*every*dt``...).
        checkpoint: rematerialise each step in the backward pass (less memory).

    Returns:
        ``(final_state, traces)``, traces ``{name: (n_steps // every, n)}``.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.rates.ReducedWongWangEI(2)
        >>> s0 = ns.rates.init_state(m, None, jax.random.key(0), dt=0.1)
        >>> s1, tr = ns.rates.run(m, None, s0, 100, 0.1, key=jax.random.key(1))
        >>> tr["S_e"].shape
        (100, 2)
    """
    check_setup(model, coupling, noise, integrator)
    names = resolve_record(model, record)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")

    def body(st, _):
        st = rate_step(model, coupling, st, key, dt, noise, integrator)
        return st, read_record(model, st, names)

    if checkpoint:
        body = jax.checkpoint(body)
    state, traces = jax.lax.scan(body, state, None, length=int(n_steps))
    return state, {
        n: jnp.asarray(tr[every - 1 :: every]) for n, tr in zip(names, traces, strict=True)
    }
