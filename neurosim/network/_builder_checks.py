"""Checks and per-synapse delays of :meth:`NetworkBuilder.connect` (validated at construction)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit, Constant, Uniform
from .._validate import check_weights
from ..ops import CSR, ELL, ProceduralBernoulli

__all__ = ["check_conn_weights", "per_synapse_delays"]


def _check_delay_values(arr, name: str) -> float:
    """Host check of per-synapse delays (ms): finite and >= 0; returns their maximum."""
    if arr.size and not (np.all(np.isfinite(arr)) and arr.min() >= 0):
        raise ValueError(
            f"delay of {name!r} must be finite and >= 0 ms for every synapse, got values in "
            f"[{np.nanmin(arr):g}, {np.nanmax(arr):g}] (clip the initializer, e.g. "
            "ns.init.Uniform(low >= 0, high))"
        )
    return float(arr.max()) if arr.size else 0.0


def _procedural_delays(delay, conn: ProceduralBernoulli, name: str):
    """Delays of procedural connectivity: an initializer with a bounded support (no array)."""
    if not isinstance(delay, (Uniform, Constant)):
        got = type(delay).__name__ if isinstance(delay, AbstractInit) else "an array"
        raise ValueError(
            f"per-synapse delays of {name!r} on procedural connectivity are regenerated from "
            f"the row streams and need ns.init.Uniform(low, high) or ns.init.Constant(value) "
            f"(a bounded support sizes the ring without storing them), got {got}; use one of "
            "those, or stored connectivity (FixedProbability without procedural=True) for "
            "other distributions or arrays"
        )
    lo, hi = (delay.low, delay.high) if isinstance(delay, Uniform) else (delay.value,) * 2
    _check_delay_values(np.asarray([lo, hi], np.float64), name)
    return delay, float(np.asarray(hi))


def per_synapse_delays(delay, conn, name: str, key):
    """Validated per-synapse delays (ms) of ``conn`` and their maximum.

    CSR: one value per synapse ``(nnz,)`` in CSR order; ELL: a ``(n_pre, k)`` table aligned
    with the targets (an array in CSR order is laid out by ``ELL.table_values``); procedural:
    the initializer itself (delays regenerated per row, see ``neurosim.ops._procedural``).
    """
    if isinstance(conn, ProceduralBernoulli):
        return _procedural_delays(delay, conn, name)
    if not isinstance(conn, (CSR, ELL)):
        raise ValueError(
            f"per-synapse delays of {name!r} need CSR, ELL or procedural connectivity "
            f"(ns.connectivity.FixedProbability(p, procedural=True)), got "
            f"{type(conn).__name__}; convert it or give a number as delay"
        )
    dtype = jnp.result_type(float)
    shape = (conn.nnz,) if isinstance(conn, CSR) else conn.targets.shape
    if isinstance(delay, AbstractInit):
        values = jnp.asarray(delay.sample(key, shape), dtype)
    else:
        values = jnp.asarray(delay, dtype)
        if isinstance(conn, ELL) and values.shape == (conn.nnz,):
            values = conn.table_values(values)
        if values.shape != shape:
            extra = f" or ({conn.nnz},) in CSR order" if isinstance(conn, ELL) else ""
            raise ValueError(
                f"delay for {name!r} must be a number, an initializer or an array with one "
                f"value per synapse, shape {shape}{extra}; got shape {values.shape}"
            )
    arr = np.asarray(values)
    if isinstance(conn, ELL):
        values = jnp.where(conn.targets < conn.n_post, values, 0.0).astype(dtype)
        arr = arr[np.asarray(conn.targets) < conn.n_post]
    return values, _check_delay_values(arr, name)


def check_conn_weights(name: str, conn, output) -> None:
    """Finite weights, and >= 0 onto a conductance output (procedural: the initializer's
    support where it is bounded, ``Constant``/``Uniform``; a ``Normal`` is not checked)."""
    w = conn.weights
    if isinstance(w, Constant):
        w = w.value
    elif isinstance(w, Uniform):
        w = jnp.stack([w.low, w.high])
    elif isinstance(w, AbstractInit):
        return
    conductance = bool(getattr(output, "conductance", False))
    check_weights(name, w, conductance, "nS" if conductance else "")
