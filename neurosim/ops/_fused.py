"""``lif_step_ffi``: one fused step of an LIF population with exponential conductances.

The wrapper of ``neurosim_lif_step`` (``csrc/lif_kernels.cc``): membrane update, threshold,
reset and refractory counter, delivery through the population's own CSR projections and
receptor decay in one compiled call, bitwise equal to the pure-JAX step it replaces (see the
kernel's header for the arithmetic). :mod:`neurosim.network` decides when it applies.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._ffi import _require_kernels

__all__ = ["lif_step_ffi", "LIF_MAX_RECEPTORS"]

LIF_MAX_RECEPTORS = 4


def lif_step_ffi(v, ref, params: dict, restart, dt, g, decay, e_rev, projections):
    """One fused LIF + exponential-conductance step of a population.

    Args:
        v: membrane potentials ``(n,)`` (mV), float32/float64; ``ref``: refractory counters
            ``(n,)`` int32.
        params: ``tau_m, e_l, g_l, i_e, v_th, v_reset``, each ``(n,)`` in ``v``'s dtype.
        restart: ``(n,)`` int32, the counter a spike restarts.
        dt: time step (ms), a scalar.
        g: receptor conductances, a sequence of ``(n,)`` arrays (nS), 1 to 4.
        decay, e_rev: per receptor, scalars: the decay factor ``exp(-dt/tau)`` and the
            reversal potential (mV).
        projections: ``(conn, lo, hi, receptor)`` per projection of the population onto
            itself: a :class:`neurosim.ops.CSR` from neurons ``lo:hi`` to all ``n``.

    Returns ``(v', ref', spikes, g', nonfinite)``, ``g'`` a tuple, ``nonfinite`` True if any
    of ``v'``, ``g'`` is NaN or infinite; ``v'``, ``ref'`` and ``g'`` are written in place of
    the inputs when XLA can donate them. Not differentiable (callers use
    it only in :func:`neurosim.simulate`'s loop).
    """
    _require_kernels()
    dtype = v.dtype
    n, r = v.shape[0], len(g)
    if not 1 <= r <= LIF_MAX_RECEPTORS:
        raise ValueError(f"1 to {LIF_MAX_RECEPTORS} receptors are supported, got {r}")
    f = jax.ShapeDtypeStruct
    out = (f((n,), dtype), f((n,), jnp.int32), f((n,), dtype))
    out += tuple(f((n,), dtype) for _ in range(r)) + (f((), jnp.int32),)
    aliases = {0: 0, 1: 1, **{10 + k: 3 + k for k in range(r)}}
    call = jax.ffi.ffi_call(
        "neurosim_lif_step", out, vmap_method="sequential", input_output_aliases=aliases
    )
    csr = []
    for conn, *_ in projections:
        csr += [conn.indptr, conn.indices, jnp.asarray(conn.weights).astype(dtype)]
    res = call(
        v,
        jnp.asarray(ref, jnp.int32),
        *(jnp.asarray(params[k], dtype) for k in ("tau_m", "e_l", "g_l", "i_e", "v_th", "v_reset")),
        jnp.asarray(restart, jnp.int32),
        jnp.asarray(dt, dtype),
        *(jnp.asarray(x, dtype) for x in g),
        *(jnp.asarray(x, dtype) for x in decay),
        *(jnp.asarray(x, dtype) for x in e_rev),
        *csr,
        proj_lo=np.array([p[1] for p in projections], np.int64),
        proj_hi=np.array([p[2] for p in projections], np.int64),
        proj_rec=np.array([p[3] for p in projections], np.int64),
    )
    return res[0], res[1], res[2], tuple(res[3 : 3 + r]), res[3 + r] != 0
