"""``simulate``: the host driver. Chunks of one compiled loop, streamed to host memory.

Named phases: validate, initial state, what to record, compile (cached per structure), run
the chunks (:mod:`neurosim.network._chunks`), assemble traces, and the one result
(:func:`neurosim.network.simulation_result`, which also reports faults).
"""

from __future__ import annotations

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._driver import HashableTree, OnFault, check_on_fault, compile_cached, progress_bar
from .._validate import check_key, check_positive
from ._chunks import (
    _TRACE_COUNT,  # noqa: F401  (the chunk's trace count: tests read it here)
    Collector,
    chunk_capacity,
    chunk_fn,
    decode_packed_spikes,
    run_chunks,
)
from ._network import Network, NetworkState
from ._record import resolve_record_spikes, resolve_traces, spike_buffers
from ._result import SimulationResult, simulation_result

__all__ = ["simulate", "decode_packed_spikes", "resolve_record_spikes"]

_COMPILED: dict = {}


# -- phases of simulate -----------------------------------------------------------------------
def _validate(network, duration, dt, on_fault) -> tuple[float, int]:
    """Checked ``(dt, n_steps)``."""
    if not isinstance(network, Network):
        raise ValueError(f"network must be a neurosim Network, got {type(network).__name__}")
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_on_fault(on_fault)
    dt = float(dt)
    n_steps = int(round(float(duration) / dt))
    if n_steps < 1:
        raise ValueError(f"duration ({duration} ms) is shorter than one step (dt={dt} ms)")
    return dt, n_steps


def _initial_state(network: Network, state, key, dt: float, n_steps: int):
    """The start state (made, or checked against the network) and the run's key."""
    k_init, k_run = jax.random.split(check_key(key))
    if state is None:
        state = network.init_state(k_init, dt)
    else:
        network.check_state(state, dt)
    start_step = int(state.step)
    for inp in network.inputs:
        avail = inp.current.n_steps_available()
        if avail is not None and start_step + n_steps > avail:
            raise ValueError(
                f"input {inp.name!r} is defined for {avail} steps ({avail * dt:g} ms) but the run "
                f"needs {start_step + n_steps}; lengthen its values or shorten duration"
            )
    return state, k_run, start_step


def _assemble_traces(specs, collector, start_step: int, n_steps: int, dt: float):
    """``(traces, trace_times)``: each trace's blocks joined, with its sample times (ms)."""
    traces, trace_times = {}, {}
    for s in specs:
        parts = collector.traces[s.name]
        arr = np.concatenate(parts) if parts else np.zeros((0, len(s.indices)))
        t = (start_step + np.minimum(np.arange(1, len(arr) + 1) * s.every, n_steps)) * dt
        traces[s.name], trace_times[s.name] = arr, t
    return traces, trace_times


def simulate(
    network: Network,
    duration: float,
    dt: float = 0.1,
    *,
    key,
    state: NetworkState | None = None,
    record=(),
    record_spikes=None,
    chunk_steps: int | None = None,
    progress: bool | None = None,
    on_fault: OnFault = "raise",
    mesh=None,
) -> SimulationResult:
    """Simulate ``network`` for ``duration`` ms with time step ``dt`` ms.

    Spiking, rate (neural-mass) and mixed networks alike. The loop over time is one compiled
    ``while_loop`` per chunk; chunks are calls of the same executable, streamed to host memory
    (spikes bit-packed on device, so no spike is ever dropped), with a progress bar on stderr
    for runs longer than a few seconds. Splitting a run into chunks does not change it:
    per-step random keys are ``fold_in(key, step)``.

    Args:
        network: the network to simulate.
        duration: biological time to simulate (ms), > 0.
        dt: time step (ms), > 0.
        key: JAX random key: initial state (when ``state`` is None) and stochastic elements.
        state: initial state (default ``network.init_state(key, dt)``); pass
            ``result.final_state`` to continue a run.
        record: :class:`neurosim.Trace` objects (or ``"pop.var"`` strings): neuron, receptor,
            projection and rate-node variables, observables and readouts.
        record_spikes: populations whose spikes are recorded: ``None`` (default) every
            population except spike sources (:class:`~neurosim.neurons.AbstractSpikeSource`,
            e.g. a pool of Poisson inputs), ``"all"``, a population name or a sequence of them,
            or ``()`` for none. Unrecorded populations cost no host memory; the result's
            ``spikes_recorded`` lists the recorded ones. What is recorded does not change the
            compiled chunk (its device buffers hold the default set too), so a transient with
            ``()`` followed by a recorded run compiles once.
        chunk_steps: steps per chunk (default: sized to keep spike buffers ~32 MB).
        progress: show a progress bar (default: automatically for runs > 2 s).
        on_fault: ``"raise"`` a :class:`SimulationError` (carrying the partial result) when a
            state becomes NaN/inf, or ``"return"`` the partial result with ``status="fault"``;
            the message names the population (or rate node), step, time and variables.
        mesh: a :class:`jax.sharding.Mesh` (``ns.distributed.make_mesh()``): shard the network
            along the neuron axis over its devices (:func:`neurosim.distributed.simulate`).

    Returns:
        A :class:`SimulationResult`.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=400, key=jax.random.key(0))
        >>> res = ns.simulate(net, duration=100.0, dt=0.1, key=jax.random.key(1))
        >>> res.spike_times.shape == res.spike_indices.shape
        True
    """
    if mesh is not None:
        from ..distributed import simulate as sharded

        return sharded(network, duration, dt, key=key, mesh=mesh, state=state, record=record,
                       record_spikes=record_spikes, chunk_steps=chunk_steps,
                       on_fault=on_fault)  # fmt: skip
    dt, n_steps = _validate(network, duration, dt, on_fault)
    state, k_run, start_step = _initial_state(network, state, key, dt, n_steps)
    specs = resolve_traces(network, record, state)
    rec = resolve_record_spikes(network, record_spikes)
    buffered = spike_buffers(network, rec)  # what the chunk fills: one executable for any rec
    plan = network.plan(dt)
    every = math.lcm(*(s.every for s in specs)) if specs else 1
    capacity = chunk_capacity(network, n_steps, every, chunk_steps, specs, buffered)

    dyn, static = eqx.partition(network, eqx.is_array)
    static = HashableTree(static)
    dt_arr = jnp.asarray(dt, jnp.result_type(float))
    exe, compile_s = compile_cached(
        _COMPILED,
        chunk_fn,
        5,
        (static, plan, specs, buffered, capacity),
        (dyn, state, k_run, dt_arr, jnp.asarray(capacity, jnp.int32)),
    )
    collector = Collector(network, specs, rec, buffered)
    bar = progress_bar(n_steps, dt, progress)
    t0 = time.perf_counter()
    try:
        state, done, status, message = run_chunks(
            exe, dyn, state, k_run, dt_arr, capacity, n_steps, start_step, collector, bar
        )
    finally:
        if bar is not None:
            bar.close()
    run_s = time.perf_counter() - t0

    steps, idx = collector.spikes()
    traces, trace_times = _assemble_traces(specs, collector, start_step, n_steps, dt)
    return simulation_result(
        network,
        steps=steps,
        indices=idx,
        recorded=rec,
        final_state=state,
        start_step=start_step,
        n_steps=n_steps,
        done=done,
        dt=dt,
        compile_s=compile_s,
        run_s=run_s,
        devices=[str(d) for d in jax.devices()],
        status=status,
        message=message,
        traces=traces,
        trace_times=trace_times,
        on_fault=on_fault,
    )
