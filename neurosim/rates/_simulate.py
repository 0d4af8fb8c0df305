"""``simulate``: the host driver of a rate network (:func:`neurosim.simulate`)."""

from __future__ import annotations

from ._state import network, record_traces

__all__ = ["simulate"]


def simulate(
    model,
    coupling,
    duration: float,
    dt: float = 0.1,
    *,
    key,
    noise=None,
    integrator=None,
    state=None,
    record=None,
    every: int = 1,
    chunk_steps: int | None = None,
    progress: bool | None = None,
    on_fault: str = "raise",
):
    """Simulate a rate network for ``duration`` ms: :func:`neurosim.simulate` on
    :func:`network` ``(model, coupling, noise=, integrator=)``.

    Chunked, streamed, no recompilation when parameters, coupling strength or delays (within
    the ring) change; a NaN/inf state stops the run and is reported with its step, time, node
    and variable.

    Args:
        model: a rate model (:class:`WilsonCowan`, :class:`JansenRit`,
            :class:`ReducedWongWang`, :class:`ReducedWongWangEI`, :class:`StuartLandau`,
            :class:`Kuramoto`).
        coupling: a coupling over the nodes, or None for isolated nodes.
        duration: biological time (ms), > 0.
        dt: time step (ms), > 0.
        key: random key: initial state (when ``state`` is None) and noise.
        noise: :class:`AdditiveNoise` or None (deterministic).
        integrator: drift integrator (default ``ns.integrators.Heun()``).
        state: initial state (default :func:`init_state`); pass ``result.final_state`` to
            continue a run.
        record: state variables or observables to record (default: all state variables), as
            ``ns.Trace("nodes.<name>", every=every)``.
        every: record one sample every ``every`` steps (decimation), at ``every*dt, ...``.
        chunk_steps: steps per chunk (default: up to 10000, traces under ~64 MB per chunk).
        progress: show a progress bar (default: automatically for runs > 2 s).
        on_fault: ``"raise"`` a :class:`neurosim.SimulationError` (carrying the partial
            result) or ``"return"`` the partial result with ``status="fault"``.

    Returns:
        A :class:`neurosim.SimulationResult`: ``traces["nodes.S_e"]`` at
        ``trace_times["nodes.S_e"]`` (ms).

    Example:
        >>> import jax, numpy as np, neurosim as ns
        >>> W = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> m = ns.rates.ReducedWongWangEI(2)
        >>> cpl = ns.rates.LinearCoupling(W, G=0.5, delays=10.0 * W)
        >>> res = ns.rates.simulate(m, cpl, 1000.0, 0.1, key=jax.random.key(0), every=10)
        >>> res.traces["nodes.S_e"].shape
        (1000, 2)
    """
    from ..network import simulate as simulate_network

    net = network(model, coupling, noise=noise, integrator=integrator)
    traces = record_traces(model, record, every)
    return simulate_network(
        net, duration, dt, key=key, state=state, record=traces, chunk_steps=chunk_steps,
        progress=progress, on_fault=on_fault,
    )  # fmt: skip
