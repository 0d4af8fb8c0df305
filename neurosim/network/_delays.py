"""Per-synapse (heterogeneous) delays: a ring buffer of future input per postsynaptic neuron.

A projection with per-synapse delays ``d_ij`` (in steps, ``round(delay_ij / dt)``) keeps a
ring ``R`` of shape ``(D, n_post)``, ``D = max_ij d_ij + 1``. In step ``s`` a spike of
presynaptic neuron ``i`` adds ``w_ij`` to ``R[(s + d_ij) % D, j]`` for each of its synapses;
then row ``R[s % D]`` is what arrives in step ``s`` (added to the receptor at the end of the
step, like an undelayed projection) and is cleared. So ``d_ij = 0`` behaves exactly like the
default one-step transmission and ``d_ij = k`` like a homogeneous delay of ``k`` steps.

Rounding (documented contract): ``d_ij = round_half_even(delay_ij / dt)`` in the delays'
floating dtype (float32 unless x64 is enabled), as for homogeneous delays; a delay below
``dt / 2`` therefore adds no step, and a delay that is not a multiple of ``dt`` lands on the
nearest step.

Connectivity formats and where their delays live:

* :class:`neurosim.ops.CSR`: an array ``(nnz,)`` in the CSR's synapse order;
* :class:`neurosim.ops.ELL`: an array ``(n_pre, k)`` aligned with the target table (padding
  entries ignored), see :meth:`neurosim.ops.ELL.table_values`;
* :class:`neurosim.ops.ProceduralBernoulli`: an initializer (``ns.init.Uniform``,
  ``Constant``) whose ``quantile`` is evaluated on each synapse's own counter stream
  whenever its row is regenerated (:mod:`neurosim.ops._procedural_delays`): nothing is
  stored, and every path (event, reference, the stored equivalent from
  :meth:`neurosim.ops.ProceduralBernoulli.synapse_delays`) sees the same delays.

Delivery touches only the synapses of neurons that spiked: on CPU, for CSR, a compiled kernel
(``csrc/delay_kernels.cc``: same slots, same values added in the same order, the ring updated
in place; backend ``"auto"``/``"ffi"``), else rows in blocks of XLA loops. The JVP uses the
full product over all synapses (like :func:`neurosim.ops.event_matvec`), so surrogate
gradients reach neurons that did not spike, and gradients w.r.t. the weights are exact
(delays are rounded to steps: they get no gradient).

Delivered values are whatever the projection's dynamics emit at the presynaptic spike (e.g.
``w * u * x`` of Tsodyks–Markram, evaluated at emission, and the plastic weight at
emission): a value travels unchanged through its synapse's delay.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

from .._init import AbstractInit, Constant, Uniform
from .._validate import is_concrete, user_stacklevel
from ..ops import CSR, ELL, FFI_DTYPES, ProceduralBernoulli, csr_delay_ffi, ffi_available
from ..ops import compact_ranks as _compact

__all__ = [
    "deliver_delayed",
    "delay_steps_max",
    "delays_dtype",
    "ring_length",
    "warn_delay_rounding",
    "DelayRoundingWarning",
]

_MAX_RING_BYTES = 4 << 30


def _steps(delays, dt):
    """Integer delay steps, ``round(delays / dt)`` in the delays' dtype."""
    d = jnp.round(delays / jnp.asarray(dt, delays.dtype))
    return d.astype(jnp.int32)


def delay_steps_max(max_delay: float, dtype, dt: float) -> int:
    """Host-side ``round(max_delay / dt)`` with the same arithmetic as the device kernel."""
    dtype = np.dtype(dtype)
    return int(np.round(np.asarray(max_delay, dtype) / np.asarray(dt, dtype)))


def ring_length(max_delay: float, dtype, dt: float, n_post: int, name: str) -> int:
    """Static ring length ``D = max steps + 1`` for a concrete ``dt`` (checked for size)."""
    length = delay_steps_max(max_delay, dtype, dt) + 1
    nbytes = length * n_post * np.dtype(dtype).itemsize
    if nbytes > _MAX_RING_BYTES:
        raise ValueError(
            f"per-synapse delays of projection {name!r} (max {max_delay:g} ms) need a ring of "
            f"{length} steps x {n_post} neurons ({nbytes / 2**30:.1f} GiB) at dt={dt} ms; "
            "shorten the delays or use a larger dt"
        )
    return length


class DelayRoundingWarning(UserWarning):
    """A delay is not a whole number of steps and was rounded to the nearest step."""


_ROUND_TOL = 1e-3  # rounding errors below a thousandth of a step are float noise


def _initializer_rounding(init, dt: float) -> tuple[float, bool]:
    """Largest rounding error (ms) over an initializer's support, and whether a positive
    delay can round to 0 steps (``Constant``, ``Uniform``; others: the whole step range)."""
    if isinstance(init, Constant):
        pts = np.asarray([np.asarray(init.value, np.float64).max()])
        lo = hi = float(pts[0])
    elif isinstance(init, Uniform):
        lo, hi = float(np.max(init.low)), float(np.max(init.high))
        k = np.arange(np.floor(lo / dt), np.ceil(hi / dt) + 1)
        mids = (k + 0.5) * dt
        pts = np.concatenate([[lo, hi], mids[(mids > lo) & (mids < hi)]])
    else:
        return dt / 2, True
    err = float(np.max(np.abs(pts - np.round(pts / dt) * dt)))
    return err, bool(hi > 0 and lo < dt / 2)


def _array_rounding(values, dt: float):
    """``(largest rounding error (ms), number of positive delays that round to 0)`` or None
    where the values are traced. In numpy with :func:`_steps`' arithmetic (eager jnp ops
    compiled a dozen executables per projection shape: 43 s of the microcircuit's init)."""
    if not is_concrete(values):
        return None
    d = np.asarray(jnp.asarray(values))
    steps = np.round(d / np.asarray(dt, d.dtype))
    err = float(np.max(np.abs(d - steps * np.asarray(dt, d.dtype)))) if d.size else 0.0
    lost = int(np.count_nonzero((d > 0) & (steps == 0)))
    return err, lost


def warn_delay_rounding(net, dt) -> None:
    """Delays that are not whole steps of ``dt``: warn with the largest rounding error.

    Homogeneous delays are ``round(delay / dt)`` steps (beyond the minimal one step); a
    positive homogeneous delay below ``dt / 2`` would silently vanish, so it is refused with
    a ``ValueError``. Per-synapse delays (arrays or initializers) are rounded synapse by
    synapse: one :class:`DelayRoundingWarning` per projection reports the largest error and
    how many positive delays round to no extra step. Silence it with
    ``warnings.simplefilter("ignore", ns.network.DelayRoundingWarning)``.
    """
    import warnings

    if not is_concrete(dt):
        return
    dt = float(dt)
    for pr in net.projections:
        if pr.synapse_delays is None:
            if pr.delay <= 0:
                continue
            steps = int(round(pr.delay / dt))
            err = abs(pr.delay - steps * dt)
            if steps == 0:
                raise ValueError(
                    f"delay of projection {pr.name!r} is {pr.delay:g} ms, less than half a step "
                    f"(dt={dt:g} ms): it would round to no delay beyond the minimal one step; "
                    f"use delay=0, a delay of at least one step ({dt:g} ms), or a smaller dt"
                )
            if err > _ROUND_TOL * dt:
                warnings.warn(
                    f"delay of projection {pr.name!r} ({pr.delay:g} ms) is not a multiple of "
                    f"dt={dt:g} ms: rounded to {steps} steps ({steps * dt:g} ms), error "
                    f"{err:.3g} ms; use a multiple of dt for an exact delay",
                    DelayRoundingWarning,
                    stacklevel=user_stacklevel(),
                )
            continue
        if isinstance(pr.synapse_delays, AbstractInit):
            err, can_vanish = _initializer_rounding(pr.synapse_delays, dt)
            lost = "some positive delays may round to 0 steps" if can_vanish else ""
        else:
            found = _array_rounding(pr.synapse_delays, dt)
            if found is None:
                continue
            err, n_lost = found
            lost = f"{n_lost} positive delay(s) round to 0 steps" if n_lost else ""
        if err > _ROUND_TOL * dt:
            warnings.warn(
                f"per-synapse delays of projection {pr.name!r} are rounded to whole steps of "
                f"dt={dt:g} ms (largest error {err:.3g} ms{'; ' + lost if lost else ''})",
                DelayRoundingWarning,
                stacklevel=user_stacklevel(),
            )


def _block_rows(max_row: int) -> int:
    return int(max(1, min(64, 4096 // max(max_row, 1))))


def delays_dtype(delays):
    """Floating dtype of per-synapse delays: an array, or an initializer (procedural)."""
    if isinstance(delays, AbstractInit):
        return jnp.result_type(*jax.tree.leaves(delays), float)
    return delays.dtype


def _clipped_steps(d_ms, dt, n_slots: int, rule=(0, 0)):
    """``clip(round(d_ms/dt) - offset, minimum, D - 1)`` with ``rule = (offset, minimum)``
    (:meth:`neurosim.network.Conventions.synapse_delay_rule`): the slot offset of a synapse."""
    offset, minimum = rule
    return jnp.clip(_steps(d_ms, dt) - offset, min(minimum, n_slots - 1), n_slots - 1)


def _destination(step, dt, n_slots: int, n_post: int, rule=(0, 0)):
    """``dest(tgt, valid, d_ms)``: flat ring index ``((step + d) % D) * n_post + tgt``,
    ``d = _clipped_steps(d_ms, dt, D, rule)``."""

    def dest(tgt, valid, d_ms):
        d = _clipped_steps(d_ms, dt, n_slots, rule)
        return jnp.where(valid, ((step + d) % n_slots) * n_post + tgt, n_slots * n_post)

    return dest


def _spiking_blocks(spikes, rows_per_block: int, flat, scatter_rows):
    """``flat = scatter_rows(flat, rows, live)`` over blocks of the rows that spiked."""
    count, rows_of_rank = _compact(spikes != 0)
    B = rows_per_block

    def block(b, flat):
        rank = b * B + jnp.arange(B, dtype=jnp.int32)
        live = rank < count
        return scatter_rows(flat, jnp.where(live, rows_of_rank(rank), 0), live)

    return lax.fori_loop(0, (count + B - 1) // B, block, flat)


def _csr_rows(conn: CSR, delays, spikes, dest):
    M = conn.max_row
    lane = jnp.arange(M, dtype=jnp.int32)

    def scatter_rows(flat, r, live):
        start = conn.indptr[r]
        ok = (lane[None, :] < (conn.indptr[r + 1] - start)[:, None]) & live[:, None]
        k = jnp.where(ok, start[:, None] + lane[None, :], 0)
        idx = dest(conn.indices[k], ok, delays[k])
        w = conn.weights if conn.homogeneous else conn.weights[k]
        vals = (w * spikes[r][:, None]).astype(flat.dtype)
        return flat.at[idx.ravel()].add(jnp.broadcast_to(vals, idx.shape).ravel(), mode="drop")

    return _block_rows(M), scatter_rows


def _ell_rows(conn: ELL, delays, spikes, dest):
    def scatter_rows(flat, r, live):
        tgt = conn.targets[r]
        idx = dest(tgt, (tgt < conn.n_post) & live[:, None], delays[r])
        w = conn.weights if conn.homogeneous else conn.weights[r]
        vals = (w * spikes[r][:, None]).astype(flat.dtype)
        return flat.at[idx.ravel()].add(jnp.broadcast_to(vals, idx.shape).ravel(), mode="drop")

    return _block_rows(conn.k), scatter_rows


def _deliver_events(conn, delays, spikes, ring, step, dt, rule=(0, 0)):
    """Add the synapses of the spiking rows into ``ring`` (blocks of rows, fixed windows)."""
    n_slots, n_post = ring.shape
    dest = _destination(step, dt, n_slots, n_post, rule)
    flat = ring.reshape(-1)
    if isinstance(conn, ProceduralBernoulli):
        flat = conn.scatter_delayed(spikes, flat, dest, delays, events=True)
    else:
        rows = _csr_rows if isinstance(conn, CSR) else _ell_rows
        block, scatter_rows = rows(conn, delays, spikes, dest)
        flat = _spiking_blocks(spikes, block, flat, scatter_rows)
    return flat.reshape(n_slots, n_post)


def _deliver_all(conn, delays, x, ring, step, dt, rule=(0, 0)):
    """Reference: every synapse, masked by ``x`` (linear in ``x``, the weights and ``ring``)."""
    n_slots, n_post = ring.shape
    dest = _destination(step, dt, n_slots, n_post, rule)
    flat = ring.reshape(-1)
    x = jnp.asarray(x)
    if isinstance(conn, ProceduralBernoulli):
        flat = conn.scatter_delayed(x, flat, dest, delays, events=False)
    elif isinstance(conn, ELL):
        idx = dest(conn.targets, conn.targets < n_post, delays)
        vals = x[:, None] * jnp.broadcast_to(conn.weights, conn.targets.shape)
        flat = flat.at[idx.ravel()].add(vals.astype(ring.dtype).ravel(), mode="drop")
    else:
        nnz = conn.nnz
        idx = dest(conn.indices[:nnz], jnp.ones((nnz,), bool), delays[:nnz])
        vals = (x[conn.row_ids()] * conn.synapse_weights()).astype(ring.dtype)
        flat = flat.at[idx].add(vals, mode="drop")
    return flat.reshape(n_slots, n_post)


def _use_kernel(conn, delays, spikes, ring, step) -> bool:
    """Whether the compiled CPU kernel (``csrc/delay_kernels.cc``) computes exactly what the
    XLA loops do: stored CSR with array delays, a float32/float64 ring whose dtype is that of
    ``weights * spikes``, an int32 step, and the kernels built (not ``NEUROSIM_DISABLE_FFI``)."""
    if not isinstance(conn, CSR) or isinstance(delays, AbstractInit):
        return False
    if ring.dtype not in FFI_DTYPES or jnp.asarray(step).dtype != jnp.int32:
        return False
    if jnp.result_type(conn.weights, spikes) != ring.dtype:
        return False
    return ffi_available()


def _take_slot(ring, step):
    """``(ring with slot step % D cleared, that slot's content)``."""
    slot = step % ring.shape[0]
    now = lax.dynamic_index_in_dim(ring, slot, keepdims=False)
    return lax.dynamic_update_index_in_dim(ring, jnp.zeros_like(now), slot, 0), now


def _ring_tangent(primals, tangents, rule):
    """Tangent of the ring after delivery (before the slot is taken): the ring's tangent,
    spike tangents through every synapse (surrogate gradients of silent neurons) and weight
    tangents through the spikes."""
    conn, delays, spikes, ring, step, dt = primals
    conn_dot, _, spikes_dot, ring_dot, _, _ = tangents
    zero = jnp.zeros_like(ring)
    tan = zero if isinstance(ring_dot, SymbolicZero) else ring_dot.astype(ring.dtype)
    if not isinstance(spikes_dot, SymbolicZero):
        tan = tan + _deliver_all(conn, delays, spikes_dot, zero, step, dt, rule)
    w_dot = conn.weight_tangent(conn_dot)
    if not isinstance(w_dot, SymbolicZero):
        w = conn.with_weights(w_dot)
        tan = tan + _deliver_all(w, delays, spikes, zero, step, dt, rule)
    return tan


@functools.cache
def _delayed_op(backend: str, rule: tuple[int, int] = (0, 0)):
    @jax.custom_jvp
    def op(conn, delays, spikes, ring, step, dt):
        if backend in ("reference", "dense"):
            return _deliver_all(conn, delays, spikes, ring, step, dt, rule)
        return _deliver_events(conn, delays, spikes, ring, step, dt, rule)

    def jvp(primals, tangents):
        return op(*primals), _ring_tangent(primals, tangents, rule)

    op.defjvp(jvp, symbolic_zeros=True)
    return op


def _kernel_deliver(conn, delays, spikes, ring, step, dt, rule=(0, 0)):
    """The compiled kernel: slot offsets from :func:`_clipped_steps` (the XLA path's
    expression), values added in the XLA path's order (spiking rows ascending, CSR order),
    then the slot taken, in one pass over the ring in place."""
    steps = _clipped_steps(delays[: conn.nnz], dt, ring.shape[0], rule)
    return csr_delay_ffi(ring, spikes, conn, steps, step)


def _loops_deliver(conn, delays, spikes, ring, step, dt, rule=(0, 0)):
    return _take_slot(_deliver_events(conn, delays, spikes, ring, step, dt, rule), step)


@functools.cache
def _kernel_op(rule: tuple[int, int]):
    """Delivery and slot taking: the kernel on CPU, the XLA loops elsewhere; the JVP is
    :func:`_delayed_op`'s followed by the (linear) slot taking."""

    @jax.custom_jvp
    def op(conn, delays, spikes, ring, step, dt):
        cpu = functools.partial(_kernel_deliver, rule=rule)
        xla = functools.partial(_loops_deliver, rule=rule)
        return lax.platform_dependent(conn, delays, spikes, ring, step, dt, cpu=cpu, default=xla)

    def jvp(primals, tangents):
        return op(*primals), _take_slot(_ring_tangent(primals, tangents, rule), primals[4])

    op.defjvp(jvp, symbolic_zeros=True)
    return op


def deliver_delayed(conn, delays, spikes, ring, step, dt, backend: str = "auto", *, rule=(0, 0)):
    """One step of per-synapse delayed delivery: ``(new ring, input arriving now)``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> from neurosim.network._delays import deliver_delayed
        >>> W = ns.ops.CSR.from_arrays([0, 2], [0, 1], 1.0, n_post=2)
        >>> ring, now = deliver_delayed(W, jnp.array([0.0, 0.2]), jnp.array([1.0]),
        ...                             jnp.zeros((3, 2)), 0, 0.1)
        >>> now.tolist(), ring[2].tolist()
        ([1.0, 0.0], [0.0, 1.0])

    Args:
        conn: connectivity (rows = presynaptic neurons): ``CSR``, ``ELL`` or
            ``ProceduralBernoulli``.
        delays: per-synapse delays (ms): ``(nnz,)`` in CSR order, ``(n_pre, k)`` for ELL, an
            initializer with ``quantile`` for procedural connectivity.
        spikes: presynaptic spikes (or graded values) of this step, shape ``(n_pre,)``.
        ring: ``(D, n_post)`` future input; ``ring[(s + d) % D]`` arrives in step ``s + d``.
        step: integer step counter ``s``.
        dt: time step (ms).
        backend: ``"auto"``/``"ffi"`` (spiking rows only: the compiled kernel on CPU for
            CSR where it applies, else XLA loops), ``"loop"`` (the XLA loops) or
            ``"reference"`` (all synapses).
        rule: ``(offset, minimum)``: steps are ``max(round(d/dt) - offset, minimum)``
            (:meth:`neurosim.network.Conventions.synapse_delay_rule`; default ``(0, 0)``).

    Returns:
        The ring with this step's slot cleared, and that slot's content ``(n_post,)``.
    """
    rule = tuple(int(r) for r in rule)
    if backend in ("auto", "ffi") and _use_kernel(conn, delays, spikes, ring, step):
        return _kernel_op(rule)(conn, delays, spikes, ring, step, dt)
    ring = _delayed_op(backend, rule)(conn, delays, spikes, ring, step, dt)
    return _take_slot(ring, step)
