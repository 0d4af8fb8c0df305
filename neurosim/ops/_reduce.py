"""``any_nonfinite``: the per-step fault check (NaN/inf anywhere in a set of arrays)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from . import _build
from ._ffi import FFI_DTYPES

__all__ = ["any_nonfinite"]


def _jnp_check(*arrays):
    # One fused sum per array; any NaN/inf makes the total non-finite.
    total = sum(jnp.sum(x) for x in arrays)
    return ~jnp.isfinite(total)


def _ffi_check(*arrays):
    out = jax.ShapeDtypeStruct((), jnp.int32)
    flag = jax.ffi.ffi_call("neurosim_nonfinite", out, vmap_method="broadcast_all")(*arrays)
    return flag != 0


def any_nonfinite(tree) -> jax.Array:
    """True if any floating leaf of ``tree`` holds a NaN or ±inf (a boolean scalar).

    On CPU this is one call of a compiled, vectorised bit test when the kernels are
    available (XLA's CPU reductions are sequential and cost several µs per 4,000 values);
    elsewhere, or without a compiler, a fused ``jnp.sum`` whose result is non-finite iff
    an element is (up to overflow of the sum, which also flags a fault). Carries no
    gradient.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> bool(ns.ops.any_nonfinite({"v": jnp.array([0.0, jnp.nan])}))
        True
    """
    leaves = [
        lax.stop_gradient(x)
        for x in jax.tree.leaves(tree)
        if jnp.issubdtype(jnp.asarray(x).dtype, jnp.inexact)
    ]
    if not leaves:
        return jnp.asarray(False)
    if all(x.dtype in FFI_DTYPES for x in leaves) and _build.load_kernels():
        return lax.platform_dependent(*leaves, cpu=_ffi_check, default=_jnp_check)
    return _jnp_check(*leaves)
