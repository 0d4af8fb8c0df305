"""The compiled chunk of :func:`neurosim.simulate` and its host-side driver.

A chunk is one ``while_loop`` of up to ``capacity`` steps (``n_active`` of them, a traced
trip count, so one executable serves every chunk) that fills fixed-size buffers: spikes
bit-packed per step (``ceil(n/8)`` bytes per population), traces decimated. The host decodes
a chunk's buffers while the next chunk runs (:class:`Collector`) and stops at a fault.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..ops import any_nonfinite, unpack_spike_bits
from ._faults import has_fault, projection_fault
from ._network import Network, Plan
from ._record import TraceSpec, read_trace
from ._step import network_step

__all__ = ["decode_packed_spikes", "chunk_fn", "chunk_capacity", "Collector", "run_chunks"]

_SPIKE_BUFFER_BYTES = 32 << 20  # per chunk, all populations together
_MAX_CHUNK_STEPS = 2000
_MAX_RATE_CHUNK_STEPS = 10000  # networks without spiking populations
_TRACE_BYTES = 64 << 20  # per chunk, all traces together (networks without spiking populations)
_TRACE_COUNT = [0]  # incremented each time the chunk function is traced (tests use it)


def decode_packed_spikes(packed: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, indices)`` of the set bits of ``packed``: ``(steps, ceil(n/8))`` uint8, big-endian.

    Sorted by step, then index. Zero 8-byte words are skipped, so the cost is
    O(bytes / 8 + spikes) (a compiled helper when available, numpy otherwise).
    """
    return unpack_spike_bits(packed, n)


def chunk_fn(
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
        st, spikes = network_step(net, plan, st, key, dt, fused=True)
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


def _fit(cap_max: int, n_steps: int) -> int:
    """The chunk's capacity for a run of ``n_steps``: the full ``cap_max`` from a quarter of
    it up, else the next power of two (at most twice ``n_steps``).

    The capacity is part of the compiled chunk, so runs of different lengths (a 100 ms
    transient, a 200 ms run) share an executable unless they are short, and short runs use at
    most ~log2(cap_max) executables; the buffers are never larger than a long run's.
    """
    cap_max = max(1, cap_max)
    if 4 * n_steps >= cap_max:
        return cap_max
    return min(cap_max, 1 << max(0, n_steps - 1).bit_length())


def chunk_capacity(
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
        cap = _fit(min(_MAX_CHUNK_STEPS, _SPIKE_BUFFER_BYTES // max(bytes_per_step, 1)), n_steps)
    else:
        bytes_per_step = max(1, sum(8 * len(s.indices) // s.every for s in specs))
        cap = _fit(min(_MAX_RATE_CHUNK_STEPS, _TRACE_BYTES // bytes_per_step), n_steps)
    cap = max(every, (cap // every) * every)
    return cap


class Collector:
    """Host-side record of the chunks: decoded spikes and trace blocks."""

    def __init__(self, network: Network, specs, rec: tuple[int, ...], buffered=None):
        """``rec``: the populations decoded; ``buffered`` (default ``rec``): those the chunk
        fills buffers for, in the order of its outputs (a superset of ``rec``)."""
        self.network, self.specs = network, specs
        offsets = list(network.offsets().values())
        buffered = rec if buffered is None else buffered
        self.slots = [k for k, j in enumerate(buffered) if j in rec]
        self.pops = [network.populations[buffered[k]] for k in self.slots]
        self.offsets = [offsets[buffered[k]] for k in self.slots]
        self.spike_steps, self.spike_idx = [], []
        self.traces = {s.name: [] for s in specs}

    def add(self, out, n_active: int, first_step: int) -> None:
        _, sb, tb, _ = out
        sb = [sb[k] for k in self.slots]  # unrecorded buffers are never read back
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


def run_chunks(exe, dyn, state, k_run, dt_arr, capacity, n_steps, start_step, collector, bar):
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
        if has_fault(state):
            status = "fault"
            break
        message = projection_fault(
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
