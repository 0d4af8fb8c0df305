"""Host-side helpers from the compiled library (ctypes), with numpy fallbacks."""

from __future__ import annotations

import ctypes

import numpy as np

from . import _build

__all__ = ["unpack_spike_bits"]

_I64 = ctypes.c_int64
_PTR = ctypes.c_void_p


def _numpy_unpack(packed: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    nbytes = packed.shape[1]
    flat = packed.reshape(-1)
    m = flat.size - flat.size % 8
    # Skip zero 8-byte words first (rasters are sparse), then unpack the non-zero bytes.
    words = np.flatnonzero(flat[:m].view(np.uint64)) if m else np.zeros(0, np.int64)
    pos = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    if m < flat.size:
        pos = np.concatenate([pos, np.arange(m, flat.size)])
    vals = flat[pos]
    nz = vals != 0
    pos, vals = pos[nz], vals[nz]
    r, b = np.nonzero(np.unpackbits(vals[:, None], axis=1))
    pos = pos[r]
    steps = pos // nbytes
    idx = (pos - steps * nbytes) * 8 + b
    keep = idx < n
    return steps[keep].astype(np.int64), idx[keep].astype(np.int64)


def unpack_spike_bits(packed, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, indices)`` of the set bits of a ``(steps, ceil(n/8))`` uint8 raster.

    Bits are in ``numpy.packbits`` (big-endian) order; indices ``>= n`` are ignored; the
    result is sorted by step, then index. Uses the compiled helper when available.
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    if packed.ndim != 2:
        raise ValueError(f"packed must be 2-D (steps, bytes), got shape {packed.shape}")
    lib = _build.host_library()
    if lib is None or packed.size == 0:
        return _numpy_unpack(packed, n)
    rows, nbytes = packed.shape
    total = int(lib.neurosim_count_bits(packed.ctypes.data_as(_PTR), _I64(packed.size)))
    steps = np.empty(total, np.int64)
    idx = np.empty(total, np.int64)
    k = int(
        lib.neurosim_unpack_bits(
            packed.ctypes.data_as(_PTR),
            _I64(rows),
            _I64(nbytes),
            _I64(n),
            steps.ctypes.data_as(_PTR),
            idx.ctypes.data_as(_PTR),
            _I64(total),
        )
    )
    return steps[:k], idx[:k]
