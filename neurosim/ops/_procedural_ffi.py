"""The compiled CPU event product of procedural connectivity (``csrc/procedural_kernels.cc``).

The kernel regenerates the rows of the neurons that spiked in C++ from the same counter-based
streams as the XLA path (:mod:`neurosim._streams`): the same Threefry words, the same
integer-only geometric gaps and the same float32 product, so the targets are bit-identical to
the stored CSR built with the same key. Each target sums its contributions in presynaptic
order, like the stored CSR kernel, so the delivery equals the stored matrix's bit for bit
whenever the synapse weights are equal bit for bit (scalar, ``Constant`` and ``Uniform``
weights: the C++ evaluates the JAX quantile's float expression as XLA compiles it: one fused
multiply-add for ``Uniform``).

``Normal`` weights (a transcendental quantile), parameters whose dtype differs from the
product's, dtypes other than float32/float64 and machines without the compiled kernels use the
XLA path (:meth:`ProceduralBernoulli._event`), as do accelerators (see
:meth:`ProceduralBernoulli.event_matvec_impl`). Gradients never go through the kernel (the
custom JVP of :func:`neurosim.ops.event_matvec` uses the reference product).
"""

from __future__ import annotations

import jax.numpy as jnp

from .._init import AbstractInit, Constant, Uniform
from .._streams import gap_scale
from . import _build

__all__ = ["ffi_weights", "cpu_fast", "event_ffi"]


def ffi_weights(conn, dtype):
    """``(params, uniform)`` for the kernel, or None where the kernel cannot draw the weights.

    ``params`` (shape ``(2,)``, ``dtype``) is ``[w, 0]`` for a scalar or ``Constant`` weight
    and ``[low, high]`` (``uniform`` True) for ``Uniform``; units those of the weights.
    """
    w = conn.weights
    if type(w) is Uniform:
        lo, hi = w.low, w.high
        if lo.ndim == 0 and hi.ndim == 0 and lo.dtype == hi.dtype == dtype:
            return jnp.stack([lo, hi]), True
        return None
    if type(w) is Constant:
        w = w.value
    elif isinstance(w, AbstractInit):
        return None
    if w.ndim != 0:
        return None
    return jnp.stack([w.astype(dtype), jnp.zeros((), dtype)]), False


def _dtype(conn, spikes):
    return jnp.dtype(conn._dtype(jnp.asarray(spikes).dtype))


def cpu_fast(conn, spikes):
    """The compiled kernel where it can run (float32/64, supported weights), else XLA."""
    from ._ffi import FFI_DTYPES

    dtype = _dtype(conn, spikes)
    if (
        not conn.empty
        and dtype in FFI_DTYPES
        and ffi_weights(conn, dtype) is not None
        and _build.load_kernels()
    ):
        return event_ffi(conn, spikes)
    return conn._event(spikes)


def event_ffi(conn, spikes):
    """``spikes @ W`` (shape ``(n_post,)``, units of the weights) with the compiled kernel."""
    from ._ffi import procedural_event_ffi

    dtype = _dtype(conn, spikes)
    found = ffi_weights(conn, dtype)
    if found is None:
        raise TypeError(
            f"the compiled procedural kernel draws scalar, Constant or Uniform weights "
            f"(parameters in {dtype}), not {type(conn.weights).__name__}; use backend='auto'"
        )
    if conn.empty:
        return jnp.zeros((conn.n_post,), dtype)
    params, uniform = found
    return procedural_event_ffi(
        spikes,
        conn.key,
        params,
        conn.n_post,
        conn.n_cand,
        conn.skip_self,
        uniform,
        gap_scale(conn.p),
        dtype,
    )
