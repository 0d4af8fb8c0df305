"""``jax.ffi.ffi_call`` wrappers of the compiled CPU kernels (``csrc/*.cc``).

The stored-format event wrappers compute ``base * scale + spikes @ W`` (``base``/``scale``
optional) for one spike vector. Under ``vmap`` the call stays *one* kernel call with leading
batch dimensions (``vmap_method="expand_dims"``: unbatched operands get a size-1 axis that
the kernel broadcasts), so the batched product is a matrix–matrix kernel, not a loop of
calls. The procedural wrapper computes ``spikes @ W`` and batches with ``"broadcast_all"``
(every operand gets the batch dimensions; still one call).
Absent optional operands are passed as empty ``(0,)`` arrays. Callers check
:func:`neurosim.ops.ffi_available` first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _build

__all__ = [
    "FFI_DTYPES",
    "STDP_RULES",
    "csr_event_ffi",
    "ell_event_ffi",
    "procedural_event_ffi",
    "any_nonfinite_ffi",
    "stdp_update_ffi",
    "stp_deliver_ffi",
    "csr_delay_ffi",
]

FFI_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64))
STDP_RULES = {"pair": 0, "triplet": 1}  # the `rule` attribute of neurosim_stdp_update


def _optional(x, dtype, n_post: int, allow_scalar: bool):
    if x is None:
        return jnp.zeros((0,), dtype)
    x = jnp.asarray(x, dtype)
    if allow_scalar and x.ndim == 0:
        return x
    return jnp.broadcast_to(x, (n_post,))


def _require_kernels():
    if not _build.load_kernels():
        raise RuntimeError(
            f"neurosim's compiled CPU kernels are unavailable: {_build.ffi_status()['reason']}"
        )


def _call(name: str, n_post: int, dtype, spikes, operands, base, scale):
    _require_kernels()
    if scale is not None and base is None:
        raise ValueError("scale needs base")
    out = jax.ShapeDtypeStruct((n_post,), dtype)
    return jax.ffi.ffi_call(name, out, vmap_method="expand_dims")(
        jnp.asarray(spikes).astype(dtype),
        *operands,
        _optional(base, dtype, n_post, allow_scalar=False),
        _optional(scale, dtype, n_post, allow_scalar=True),
    )


def csr_event_ffi(spikes, indptr, indices, weights, n_post: int, dtype, base=None, scale=None):
    """``base * scale + spikes @ W`` for CSR ``(indptr, indices, weights)``."""
    w = jnp.asarray(weights).astype(dtype)
    return _call("neurosim_csr_event", n_post, dtype, spikes, (indptr, indices, w), base, scale)


def ell_event_ffi(spikes, targets, weights, n_post: int, dtype, base=None, scale=None):
    """``base * scale + spikes @ W`` for a padded ``(n_pre, k)`` target table."""
    w = jnp.asarray(weights).astype(dtype)
    return _call("neurosim_ell_event", n_post, dtype, spikes, (targets, w), base, scale)


def procedural_event_ffi(
    spikes, key, params, n_post: int, n_cand: int, skip_self: bool, uniform: bool, scale, dtype
):
    """``spikes @ W`` for a Bernoulli stream matrix, rows regenerated in C++.

    Args:
        spikes: ``(n_pre,)`` spike values (graded values scale the row).
        key: uint32 ``(2,)`` stream key words.
        params: ``(2,)`` weight parameters in ``dtype``: ``[w, 0]`` (every synapse weighs
            ``w``, nS or pA) or, with ``uniform``, ``[low, high]`` (weight
            ``low + (high - low) * u`` per synapse, ``u`` from the synapse's stream word).
        n_post, n_cand: columns of the matrix and candidate targets per row.
        skip_self: candidates exclude the presynaptic index (no autapses).
        scale: :func:`neurosim._streams.gap_scale` of ``p`` (float32).
        dtype: float32 or float64 output.
    """
    from .._streams import LOG2_TABLE

    _require_kernels()
    out = jax.ShapeDtypeStruct((n_post,), dtype)
    return jax.ffi.ffi_call("neurosim_procedural_event", out, vmap_method="broadcast_all")(
        jnp.asarray(spikes).astype(dtype),
        jnp.asarray(key, jnp.uint32),
        jnp.asarray(params, dtype),
        jnp.asarray(LOG2_TABLE, jnp.uint32),
        n_cand=np.int64(n_cand),
        skip_self=np.int64(bool(skip_self)),
        mode=np.int64(bool(uniform)),
        scale=np.float32(scale),
    )


def any_nonfinite_ffi(*arrays) -> jax.Array:
    """True if any element of the float32/float64 ``arrays`` is NaN or ±inf (one pass)."""
    _require_kernels()
    out = jax.ShapeDtypeStruct((), jnp.int32)
    return jax.ffi.ffi_call("neurosim_nonfinite", out, vmap_method="sequential")(*arrays) != 0


def stdp_update_ffi(
    rule: str, params, w, conn, cols: dict, pre_tr, post_tr, s_pre, s_post, deliver=False
):
    """One step of event-driven STDP on CSR weights ``w`` (``csrc/plasticity_kernels.cc``).

    Args:
        rule: ``"pair"`` (params ``a_plus, a_minus, w_min, w_max, mu_plus, mu_minus``) or
            ``"triplet"`` (params ``a2_plus, a3_plus, a2_minus, a3_minus, w_min, w_max``);
            amplitudes and bounds in weight units (nS or pA), exponents dimensionless.
        params: the six scalars above (cast to ``w.dtype``).
        w: per-synapse weights, CSR order with padding, ``(len,)`` float32/float64.
        conn: the :class:`neurosim.ops.CSR` (``indptr``, ``indices``).
        cols: the column index (``col_ptr``, ``col_syn``, ``col_pre``) of
            :func:`neurosim.plasticity._events.column_index`.
        pre_tr, post_tr: traces ``(K, n_pre)``, ``(K, n_post)`` before this step's spikes.
        s_pre, s_post: this step's spike values ``(n_pre,)``, ``(n_post,)``.
        deliver: also return ``s_pre @ W`` through the weights before the update (weight
            units per step), computed in the same pass.

    Returns the updated weights, or ``(delivered, updated weights)`` with ``deliver``. The
    kernel writes the weights in place of ``w`` when XLA can donate its buffer. Under
    ``vmap`` the kernel is called once per batch entry.
    """
    _require_kernels()
    dtype = w.dtype
    vals = jnp.stack([jnp.asarray(p, dtype) for p in params])
    w_out = jax.ShapeDtypeStruct(w.shape, dtype)
    if deliver:
        name, out, alias = (
            "neurosim_stdp_deliver_update",
            (
                jax.ShapeDtypeStruct((conn.n_post,), dtype),
                w_out,
            ),
            {0: 1},
        )
    else:
        name, out, alias = "neurosim_stdp_update", w_out, {0: 0}
    call = jax.ffi.ffi_call(name, out, vmap_method="sequential", input_output_aliases=alias)
    return call(
        w,
        conn.indptr,
        conn.indices,
        cols["col_ptr"],
        cols["col_syn"],
        cols["col_pre"],
        jnp.asarray(pre_tr, dtype),
        jnp.asarray(post_tr, dtype),
        jnp.asarray(s_pre, dtype),
        jnp.asarray(s_post, dtype),
        vals,
        rule=np.int32(STDP_RULES[rule]),
    )


def stp_deliver_ffi(spikes, state: dict, U, tau_rec, tau_facil, dt, conn):
    """One Tsodyks–Markram step fused with CSR delivery (``csrc/stp_kernels.cc``).

    Args:
        spikes: this step's presynaptic spikes ``(n_pre,)``.
        state: ``{"u", "x", "elapsed"}`` of :class:`neurosim.plasticity.TsodyksMarkram`.
        U: utilisation increment (dimensionless); ``tau_rec``, ``tau_facil``: time
            constants (ms); each a scalar or ``(n_pre,)``.
        dt: time step (ms).
        conn: a :class:`neurosim.ops.CSR` (homogeneous or per-synapse weights).

    Returns ``(out, values, new_state)``: the delivered input ``values @ W`` ``(n_post,)``
    (weight units), the released values ``s u x`` ``(n_pre,)`` and the state after the
    step (written in place of the old one when XLA can donate it). Under ``vmap`` the
    kernel is called once per batch entry.
    """
    _require_kernels()
    dtype = state["u"].dtype
    n_pre = conn.n_pre

    def param(p):
        p = jnp.asarray(p, dtype)
        return p.reshape(1) if p.ndim == 0 else p

    f = jax.ShapeDtypeStruct
    out = (
        f((conn.n_post,), dtype),
        f((n_pre,), dtype),
        f((n_pre,), dtype),
        f((n_pre,), dtype),
        f((n_pre,), jnp.int32),
    )
    call = jax.ffi.ffi_call(
        "neurosim_stp_deliver",
        out,
        vmap_method="sequential",
        input_output_aliases={1: 2, 2: 3, 3: 4},
    )
    delivered, values, u, x, elapsed = call(
        jnp.asarray(spikes, dtype),
        state["u"],
        state["x"],
        state["elapsed"],
        param(U),
        param(tau_rec),
        param(tau_facil),
        param(dt),
        conn.indptr,
        conn.indices,
        param(conn.weights),
    )
    return delivered, values, {"u": u, "x": x, "elapsed": elapsed}


def csr_delay_ffi(ring, spikes, conn, steps, step):
    """Per-synapse delayed CSR delivery into a ring (``csrc/delay_kernels.cc``).

    Adds ``w[p] * spikes[i]`` to ``ring[(step + steps[p]) % D, indices[p]]`` for every
    synapse ``p`` of every presynaptic neuron ``i`` that spiked (ascending ``i``, CSR order).

    Args:
        ring: ``(D, n_post)`` float32/float64 future input.
        spikes: ``(n_pre,)`` spike values, cast to the ring's dtype.
        conn: a :class:`neurosim.ops.CSR` whose weights have the ring's dtype.
        steps: ``(nnz,)`` int32 delay steps per synapse, already rounded and clipped to
            ``[.., D - 1]`` (the slot offset of each synapse).
        step: the int32 step counter.

    Returns ``(ring', now)``: ``now = ring[step % D]`` after the delivery, the input
    arriving this step, and ``ring'`` the ring with that slot cleared (written in place of
    ``ring`` when XLA can donate it). Under ``vmap`` the kernel is called once per batch
    entry.
    """
    _require_kernels()
    dtype = ring.dtype
    call = jax.ffi.ffi_call(
        "neurosim_csr_delay",
        (jax.ShapeDtypeStruct(ring.shape, dtype), jax.ShapeDtypeStruct(ring.shape[1:], dtype)),
        vmap_method="sequential",
        input_output_aliases={0: 0},
    )
    return call(
        ring,
        jnp.asarray(spikes).astype(dtype),
        conn.indptr,
        conn.indices,
        jnp.asarray(conn.weights).astype(dtype),
        jnp.asarray(steps, jnp.int32),
        jnp.asarray(step, jnp.int32),
    )
