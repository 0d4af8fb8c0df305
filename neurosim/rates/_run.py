"""``run``: the pure, differentiable loop of a rate network (:func:`neurosim.run`)."""

from __future__ import annotations

from ._state import network, record_traces

__all__ = ["run"]


def run(
    model,
    coupling,
    state,
    n_steps: int,
    dt,
    *,
    key,
    noise=None,
    integrator=None,
    record=None,
    every: int = 1,
    checkpoint: bool = False,
):
    """Advance ``state`` by ``n_steps`` steps of ``dt`` (ms): :func:`neurosim.run` on
    :func:`network` ``(model, coupling)``. Pure: jit-, vmap- and grad-able.

    Args:
        model: a rate model (e.g. :class:`ReducedWongWangEI`).
        coupling: a coupling (e.g. :class:`LinearCoupling`) or None for isolated nodes.
        state: from :func:`init_state` or a previous run (a :class:`neurosim.NetworkState`).
        n_steps: number of steps (static).
        dt: time step (ms), concrete (it sizes the delay ring).
        key: random key for the noise (per-step keys ``fold_in(key, step)``).
        noise: :class:`AdditiveNoise` or None.
        integrator: integrator object for the drift (default ``ns.integrators.Heun()``).
        record: names of state variables or observables (default: all state variables),
            recorded as ``ns.Trace("nodes.<name>", every=every)``.
        every: keep the value after every ``every``-th step (times ``every*dt, 2*every*dt``...).
        checkpoint: rematerialise each step in the backward pass (less memory).

    Returns:
        ``(final_state, out)``: a :class:`neurosim.RunOutput`, ``out.traces["nodes.S_e"]``
        of shape ``(n_steps // every, n)``.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.rates.ReducedWongWangEI(2)
        >>> s0 = ns.rates.init_state(m, None, jax.random.key(0), dt=0.1)
        >>> s1, out = ns.rates.run(m, None, s0, 100, 0.1, key=jax.random.key(1))
        >>> out.traces["nodes.S_e"].shape
        (100, 2)
    """
    from ..network import run as run_network

    net = network(model, coupling, noise=noise, integrator=integrator)
    traces = record_traces(model, record, every)
    return run_network(net, state, n_steps, dt, key=key, record=traces, checkpoint=checkpoint)
