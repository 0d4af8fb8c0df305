"""``simulate``: the host driver. Chunks of one compiled loop, streamed to host memory."""

from __future__ import annotations

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._driver import check_on_fault, compile_cached, finish, progress_bar
from .._validate import check_positive
from ..ops import unpack_spike_bits
from ._network import (
    Network,
    NetworkState,
    Plan,
    _nonfinite,
    network_step,
    nonfinite_variables,
)
from ._record import TraceSpec, read_trace, resolve_traces
from ._result import SimulationResult

__all__ = ["simulate", "decode_packed_spikes"]

_SPIKE_BUFFER_BYTES = 32 << 20  # per chunk, all populations together
_MAX_CHUNK_STEPS = 2000
_COMPILED: dict = {}
_TRACE_COUNT = [0]  # incremented each time the chunk function is traced (tests use it)


def decode_packed_spikes(packed: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, indices)`` of the set bits of ``packed``: ``(steps, ceil(n/8))`` uint8, big-endian.

    Sorted by step, then index. Zero 8-byte words are skipped, so the cost is
    O(bytes / 8 + spikes) (a compiled helper when available, numpy otherwise).
    """
    return unpack_spike_bits(packed, n)


def _chunk_fn(
    dyn, static, plan: Plan, specs: tuple[TraceSpec, ...], capacity: int, state, key, dt, n_active
):
    """Run up to ``capacity`` steps (``n_active`` of them) and fill fixed-size record buffers."""
    _TRACE_COUNT[0] += 1
    net = eqx.combine(dyn, static)
    spike_buf = tuple(jnp.zeros((capacity, (p.n + 7) // 8), jnp.uint8) for p in net.populations)
    trace_buf = tuple(
        jnp.zeros((capacity // s.every, len(s.indices)), read_trace(s, state).dtype) for s in specs
    )

    def cond(c):
        return c[0] < n_active

    def body(c):
        i, st, sb, tb = c
        st, spikes = network_step(net, plan, st, key, dt)
        sb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, jnp.packbits(s > 0), i, 0)
            for b, s in zip(sb, spikes, strict=True)
        )
        tb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, read_trace(s, st), i // s.every, 0)
            for b, s in zip(tb, specs, strict=True)
        )
        return i + 1, st, sb, tb

    _, state, spike_buf, trace_buf = jax.lax.while_loop(
        cond, body, (jnp.asarray(0, jnp.int32), state, spike_buf, trace_buf)
    )
    # Projection state (plastic weights, STP variables) is checked once per chunk: checking
    # O(synapses) values every step would cost more than the step itself.
    proj_bad = jnp.stack([_nonfinite(ps) for ps in state.projections] or [jnp.asarray(False)])
    return state, spike_buf, trace_buf, proj_bad


def _chunk_capacity(net: Network, n_steps: int, every: int, chunk_steps: int | None) -> int:
    if chunk_steps is not None:
        cap = int(chunk_steps)
        if cap < 1:
            raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
    else:
        bytes_per_step = sum((p.n + 7) // 8 for p in net.populations)
        cap = max(1, min(_MAX_CHUNK_STEPS, _SPIKE_BUFFER_BYTES // max(bytes_per_step, 1), n_steps))
    cap = max(every, (cap // every) * every)
    return cap


def simulate(
    network: Network,
    duration: float,
    dt: float = 0.1,
    *,
    key,
    state: NetworkState | None = None,
    record=(),
    chunk_steps: int | None = None,
    progress: bool | None = None,
    on_fault: str = "raise",
) -> SimulationResult:
    """Simulate ``network`` for ``duration`` ms with time step ``dt`` ms.

    The loop over time is one compiled ``while_loop`` per chunk; chunks are calls of the same
    executable, streamed to host memory (spikes bit-packed on device, so no spike is ever
    dropped), with a progress bar on stderr for runs longer than a few seconds. Splitting a
    run into chunks does not change it: per-step random keys are ``fold_in(key, step)``.

    Args:
        network: the network to simulate.
        duration: biological time to simulate (ms), > 0.
        dt: time step (ms), > 0.
        key: JAX random key: initial state (when ``state`` is None) and stochastic elements.
        state: initial state (default ``network.init_state(key, dt)``); pass
            ``result.final_state`` to continue a run.
        record: :class:`neurosim.Trace` objects (or ``"pop.var"`` strings).
        chunk_steps: steps per chunk (default: sized to keep spike buffers ~32 MB).
        progress: show a progress bar (default: automatically for runs > 2 s).
        on_fault: ``"raise"`` a :class:`SimulationError` (carrying the partial result) when a
            state becomes NaN/inf, or ``"return"`` the partial result with ``status="fault"``.

    Returns:
        A :class:`SimulationResult`.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=400, key=jax.random.key(0))
        >>> res = ns.simulate(net, duration=100.0, dt=0.1, key=jax.random.key(1))
        >>> res.spike_times.shape == res.spike_indices.shape
        True
    """
    if not isinstance(network, Network):
        raise ValueError(f"network must be a neurosim Network, got {type(network).__name__}")
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_on_fault(on_fault)
    dt = float(dt)
    n_steps = int(round(float(duration) / dt))
    if n_steps < 1:
        raise ValueError(f"duration ({duration} ms) is shorter than one step (dt={dt} ms)")
    k_init, k_run = jax.random.split(key)
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
    specs = resolve_traces(network, record, state)
    plan = network.plan(dt)
    every = math.lcm(*(s.every for s in specs)) if specs else 1
    capacity = _chunk_capacity(network, n_steps, every, chunk_steps)

    dyn, static = eqx.partition(network, eqx.is_array)
    dt_arr = jnp.asarray(dt, jnp.result_type(float))
    exe, compile_s = compile_cached(
        _COMPILED,
        _chunk_fn,
        4,
        (static, plan, specs, capacity),
        (dyn, state, k_run, dt_arr, jnp.asarray(capacity, jnp.int32)),
    )

    spike_steps, spike_idx = [], []
    trace_parts = {s.name: [] for s in specs}
    offsets = list(network.offsets().values())
    done, status, message = 0, "ok", ""
    bar = progress_bar(n_steps, dt, progress)

    def collect(out, n_active, first_step):
        _, sb, tb, _ = out
        for p, off, buf in zip(network.populations, offsets, sb, strict=True):
            # Slice on the host: a device-side slice would compile once per new length.
            steps, idx = decode_packed_spikes(np.asarray(buf)[:n_active], p.n)
            spike_steps.append(steps + first_step)
            spike_idx.append(idx + off)
        for s, buf in zip(specs, tb, strict=True):
            k = -(-n_active // s.every)  # the last block may be partial
            trace_parts[s.name].append(np.asarray(buf)[:k])

    t0 = time.perf_counter()
    pending = None  # (output, n_active, first_step): decoded while the next chunk runs
    try:
        while done < n_steps:
            n_active = min(capacity, n_steps - done)
            out = exe(dyn, state, k_run, dt_arr, jnp.asarray(n_active, jnp.int32))
            if pending is not None:
                collect(*pending)
            pending = (out, n_active, start_step + done)
            state = out[0]
            fault = np.asarray(state.fault_step)
            done += n_active
            if bar is not None:
                bar.update(n_active)
            if np.any(fault >= 0):
                status = "fault"
                break
            bad_proj = np.flatnonzero(np.asarray(out[3])[: len(network.projections)])
            if bad_proj.size:
                status = "fault"
                names = ", ".join(repr(network.projections[j].name) for j in bad_proj)
                message = (
                    f"the state of projection {names} (plastic weights / short-term "
                    f"plasticity) became non-finite between step {start_step + done - n_active} "
                    f"and step {start_step + done}; neuron and receptor states stayed finite, "
                    "results up to there are kept"
                )
                break
        if pending is not None:
            collect(*pending)
        jax.block_until_ready(state)
    finally:
        if bar is not None:
            bar.close()
    run_s = time.perf_counter() - t0

    steps = np.concatenate(spike_steps) if spike_steps else np.zeros(0, np.int64)
    idx = np.concatenate(spike_idx) if spike_idx else np.zeros(0, np.int64)
    completed = done
    if status == "fault" and np.any(fault >= 0):
        flagged = np.flatnonzero(fault >= 0)
        bad_pop = int(flagged[np.argmin(fault[flagged])])
        first_bad = int(fault[bad_pop])
        variables = nonfinite_variables(network, state).get(network.populations[bad_pop].name, [])
        completed = first_bad - start_step
        message = (
            f"population {network.populations[bad_pop].name!r} produced a non-finite state at step "
            f"{first_bad} (t = {first_bad * dt:g} ms)"
            + (f" in {', '.join(variables)}" if variables else "")
            + f"; results before that step are kept (dt={dt} ms may be too large, or a parameter "
            "is out of range)"
        )
        keep = steps < first_bad
        steps, idx = steps[keep], idx[keep]
    if len(network.populations) > 1:
        # Each (chunk, population) block is sorted by (step, index), chunks are in time order
        # and population offsets increase, so a stable sort by step restores (step, index).
        order = np.argsort(steps, kind="stable")
        steps, idx = steps[order], idx[order]
    traces, trace_times = {}, {}
    for s in specs:
        arr = (
            np.concatenate(trace_parts[s.name])
            if trace_parts[s.name]
            else np.zeros((0, len(s.indices)))
        )
        t = (start_step + np.minimum(np.arange(1, len(arr) + 1) * s.every, n_steps)) * dt
        if status == "fault":
            keep = t <= (start_step + completed) * dt + 1e-9
            arr, t = arr[keep], t[keep]
        traces[s.name], trace_times[s.name] = arr, t

    result = SimulationResult(
        spike_times=steps * dt,
        spike_indices=idx,
        traces=traces,
        trace_times=trace_times,
        final_state=state,
        network=network,
        t_start=start_step * dt,
        duration=n_steps * dt,
        dt=dt,
        n_steps=completed,
        compile_s=compile_s,
        run_s=run_s,
        status=status,
        message=message,
        devices=[str(d) for d in jax.devices()],
    )
    return finish(result, on_fault)
