"""``simulate``: the host driver. Chunks of one compiled loop, streamed to host memory."""

from __future__ import annotations

import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._driver import HashableTree, OnFault, check_on_fault, compile_cached, finish, progress_bar
from .._validate import check_key, check_positive
from ..neurons import AbstractSpikeSource
from ..ops import any_nonfinite, unpack_spike_bits
from ._network import Network, NetworkState, Plan, nonfinite_variables
from ._record import TraceSpec, read_trace, resolve_traces
from ._result import SimulationResult
from ._step import network_step

__all__ = ["simulate", "decode_packed_spikes"]

_SPIKE_BUFFER_BYTES = 32 << 20  # per chunk, all populations together
_MAX_CHUNK_STEPS = 2000
_MAX_RATE_CHUNK_STEPS = 10000  # networks without spiking populations
_TRACE_BYTES = 64 << 20  # per chunk, all traces together (networks without spiking populations)
_COMPILED: dict = {}
_TRACE_COUNT = [0]  # incremented each time the chunk function is traced (tests use it)


def decode_packed_spikes(packed: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, indices)`` of the set bits of ``packed``: ``(steps, ceil(n/8))`` uint8, big-endian.

    Sorted by step, then index. Zero 8-byte words are skipped, so the cost is
    O(bytes / 8 + spikes) (a compiled helper when available, numpy otherwise).
    """
    return unpack_spike_bits(packed, n)


def _chunk_fn(
    dyn,
    static,
    plan: Plan,
    specs: tuple[TraceSpec, ...],
    rec: tuple[int, ...],
    capacity: int,
    state,
    key,
    dt,
    n_active,
):
    """Run up to ``capacity`` steps (``n_active`` of them) and fill fixed-size record buffers
    (spikes of the populations ``rec``, traces ``specs``)."""
    _TRACE_COUNT[0] += 1
    net = eqx.combine(dyn, static.tree)
    spike_buf = tuple(
        jnp.zeros((capacity, (net.populations[j].n + 7) // 8), jnp.uint8) for j in rec
    )
    trace_buf = tuple(
        jnp.zeros(
            (capacity // s.every, *read_trace(net, s, state).shape), read_trace(net, s, state).dtype
        )
        for s in specs
    )

    def cond(c):
        return c[0] < n_active

    def body(c):
        i, st, sb, tb = c
        st, spikes = network_step(net, plan, st, key, dt)
        sb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, jnp.packbits(spikes[j] > 0), i, 0)
            for b, j in zip(sb, rec, strict=True)
        )
        tb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, read_trace(net, s, st), i // s.every, 0)
            for b, s in zip(tb, specs, strict=True)
        )
        return i + 1, st, sb, tb

    _, state, spike_buf, trace_buf = jax.lax.while_loop(
        cond, body, (jnp.asarray(0, jnp.int32), state, spike_buf, trace_buf)
    )
    # Projection state (plastic weights, STP variables) is checked once per chunk: checking
    # O(synapses) values every step would cost more than the step itself.
    proj_bad = jnp.stack([any_nonfinite(ps) for ps in state.projections] or [jnp.asarray(False)])
    return state, spike_buf, trace_buf, proj_bad


def _chunk_capacity(
    net: Network, n_steps: int, every: int, chunk_steps: int | None, specs=(), rec=None
) -> int:
    if chunk_steps is not None:
        if isinstance(chunk_steps, bool) or not isinstance(chunk_steps, (int, np.integer)):
            raise ValueError(f"chunk_steps must be an integer >= 1, got {chunk_steps!r}")
        cap = int(chunk_steps)
        if cap < 1:
            raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
    elif net.populations:
        pops = net.populations if rec is None else [net.populations[j] for j in rec]
        bytes_per_step = sum((p.n + 7) // 8 for p in pops)
        cap = max(1, min(_MAX_CHUNK_STEPS, _SPIKE_BUFFER_BYTES // max(bytes_per_step, 1), n_steps))
    else:
        bytes_per_step = max(1, sum(8 * len(s.indices) // s.every for s in specs))
        cap = max(1, min(_MAX_RATE_CHUNK_STEPS, _TRACE_BYTES // bytes_per_step, n_steps))
    cap = max(every, (cap // every) * every)
    return cap


# -- phases of simulate -----------------------------------------------------------------------
def resolve_record_spikes(network: Network, record_spikes) -> tuple[int, ...]:
    """Indices of the populations whose spikes are recorded (see :func:`simulate`)."""
    pops = network.populations
    if record_spikes is None:
        return tuple(j for j, p in enumerate(pops) if not isinstance(p.neuron, AbstractSpikeSource))
    if record_spikes == "all" or record_spikes is True:
        return tuple(range(len(pops)))
    if record_spikes is False:
        return ()
    if isinstance(record_spikes, str):
        record_spikes = (record_spikes,)
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


class _Collector:
    """Host-side record of the chunks: decoded spikes and trace blocks."""

    def __init__(self, network: Network, specs, rec: tuple[int, ...]):
        self.network, self.specs = network, specs
        offsets = list(network.offsets().values())
        self.pops = [network.populations[j] for j in rec]
        self.offsets = [offsets[j] for j in rec]
        self.spike_steps, self.spike_idx = [], []
        self.traces = {s.name: [] for s in specs}

    def add(self, out, n_active: int, first_step: int) -> None:
        _, sb, tb, _ = out
        for p, off, buf in zip(self.pops, self.offsets, sb, strict=True):
            # Slice on the host: a device-side slice would compile once per new length.
            steps, idx = decode_packed_spikes(np.asarray(buf)[:n_active], p.n)
            self.spike_steps.append(steps + first_step)
            self.spike_idx.append(idx + off)
        for s, buf in zip(self.specs, tb, strict=True):
            k = -(-n_active // s.every)  # the last block may be partial
            self.traces[s.name].append(np.asarray(buf)[:k])

    def spikes(self):
        steps = np.concatenate(self.spike_steps) if self.spike_steps else np.zeros(0, np.int64)
        idx = np.concatenate(self.spike_idx) if self.spike_idx else np.zeros(0, np.int64)
        return steps, idx


def _projection_fault(network: Network, proj_bad, first: int, last: int) -> str:
    bad = np.flatnonzero(np.asarray(proj_bad)[: len(network.projections)])
    if not bad.size:
        return ""
    names = ", ".join(repr(network.projections[j].name) for j in bad)
    return (
        f"the state of projection {names} (plastic weights / short-term plasticity) became "
        f"non-finite between step {first} and step {last}; neuron and receptor states stayed "
        "finite, results up to there are kept"
    )


def _has_fault(state: NetworkState) -> bool:
    return bool(
        np.any(np.asarray(state.fault_step) >= 0)
        or any(np.any(np.asarray(f) >= 0) for f in state.node_fault)
    )


def _run_chunks(exe, dyn, state, k_run, dt_arr, capacity, n_steps, start_step, collector, bar):
    """Drive the compiled chunk until done or a fault; ``(state, done, status, message)``."""
    done, status, message = 0, "ok", ""
    pending = None  # (output, n_active, first_step): decoded while the next chunk runs
    while done < n_steps:
        n_active = min(capacity, n_steps - done)
        out = exe(dyn, state, k_run, dt_arr, jnp.asarray(n_active, jnp.int32))
        if pending is not None:
            collector.add(*pending)
        pending = (out, n_active, start_step + done)
        state = out[0]
        done += n_active
        if bar is not None:
            bar.update(n_active)
        if _has_fault(state):
            status = "fault"
            break
        message = _projection_fault(
            network=collector.network,
            proj_bad=out[3],
            first=start_step + done - n_active,
            last=start_step + done,
        )
        if message:
            status = "fault"
            break
    if pending is not None:
        collector.add(*pending)
    jax.block_until_ready(state)
    return state, done, status, message


def _fault_report(network: Network, state: NetworkState, start_step: int, dt: float):
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


def _assemble_traces(specs, collector, start_step, n_steps, completed, dt, status):
    traces, trace_times = {}, {}
    for s in specs:
        parts = collector.traces[s.name]
        arr = np.concatenate(parts) if parts else np.zeros((0, len(s.indices)))
        t = (start_step + np.minimum(np.arange(1, len(arr) + 1) * s.every, n_steps)) * dt
        if status == "fault":
            keep = t <= (start_step + completed) * dt + 1e-9
            arr, t = arr[keep], t[keep]
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
            or ``()`` for none. Unrecorded populations cost nothing to store; the result's
            ``spikes_recorded`` lists the recorded ones.
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
                       chunk_steps=chunk_steps, on_fault=on_fault)  # fmt: skip
    dt, n_steps = _validate(network, duration, dt, on_fault)
    state, k_run, start_step = _initial_state(network, state, key, dt, n_steps)
    specs = resolve_traces(network, record, state)
    rec = resolve_record_spikes(network, record_spikes)
    plan = network.plan(dt)
    every = math.lcm(*(s.every for s in specs)) if specs else 1
    capacity = _chunk_capacity(network, n_steps, every, chunk_steps, specs, rec)

    dyn, static = eqx.partition(network, eqx.is_array)
    static = HashableTree(static)
    dt_arr = jnp.asarray(dt, jnp.result_type(float))
    exe, compile_s = compile_cached(
        _COMPILED,
        _chunk_fn,
        5,
        (static, plan, specs, rec, capacity),
        (dyn, state, k_run, dt_arr, jnp.asarray(capacity, jnp.int32)),
    )
    collector = _Collector(network, specs, rec)
    bar = progress_bar(n_steps, dt, progress)
    t0 = time.perf_counter()
    try:
        state, done, status, message = _run_chunks(
            exe, dyn, state, k_run, dt_arr, capacity, n_steps, start_step, collector, bar
        )
    finally:
        if bar is not None:
            bar.close()
    run_s = time.perf_counter() - t0

    steps, idx = collector.spikes()
    completed = done
    if status == "fault" and _has_fault(state):
        first_bad, message = _fault_report(network, state, start_step, dt)
        completed = first_bad - start_step
        keep = steps < first_bad
        steps, idx = steps[keep], idx[keep]
    if len(rec) > 1:
        # Each (chunk, population) block is sorted by (step, index), chunks are in time order
        # and population offsets increase, so a stable sort by step restores (step, index).
        order = np.argsort(steps, kind="stable")
        steps, idx = steps[order], idx[order]
    traces, trace_times = _assemble_traces(
        specs, collector, start_step, n_steps, completed, dt, status
    )
    result = SimulationResult(
        spike_times=(steps + network.conventions.stamp_offset) * dt,
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
        spikes_recorded=tuple(network.populations[j].name for j in rec),
    )
    return finish(result, on_fault)
