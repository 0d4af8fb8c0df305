"""Construction-time validation helpers.

Every check raises ``ValueError`` naming the parameter, the offending value and the fix.
Checks are skipped for traced values (inside ``jit``/``vmap``/``grad``), where the value is not
known; networks are validated when they are built eagerly.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "is_concrete",
    "check",
    "as_param",
    "as_float_array",
    "check_positive",
    "check_nonnegative",
    "check_size",
    "check_literal",
    "check_bound",
    "reject_renamed",
]

# Keywords renamed for one name per concept (issue 11): old -> new.
RENAMED = {"v_rest": "e_l"}


def is_concrete(x) -> bool:
    """True if ``x`` holds known values (not a tracer)."""
    return not isinstance(x, jax.core.Tracer)


def _fmt(x) -> str:
    a = np.asarray(x)
    if a.size == 1:
        return f"{a.reshape(()).item():g}"
    return f"array of shape {a.shape} (min {a.min():g}, max {a.max():g})"


def check(condition_fn, name: str, value, requirement: str, fix: str = "") -> None:
    """Raise ``ValueError`` if ``condition_fn(np.asarray(value))`` is not all true."""
    if not is_concrete(value):
        return
    arr = np.asarray(value)
    if not np.all(condition_fn(arr)):
        msg = f"{name} {requirement}, got {_fmt(arr)}"
        if fix:
            msg += f" ({fix})"
        raise ValueError(msg)


def check_finite(name: str, value) -> None:
    check(np.isfinite, name, value, "must be finite")


def check_positive(name: str, value, unit: str = "") -> None:
    u = f" {unit}" if unit else ""
    check_finite(name, value)
    check(lambda a: a > 0, name, value, f"must be > 0{u}")


def check_nonnegative(name: str, value, unit: str = "") -> None:
    u = f" {unit}" if unit else ""
    check_finite(name, value)
    check(lambda a: a >= 0, name, value, f"must be >= 0{u}")


def check_size(name: str, n) -> int:
    """Validate a population/size argument (a Python int >= 1) and return it."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def as_param(value, n: int, name: str, dtype=None) -> jax.Array:
    """Convert ``value`` to a float array broadcast to ``(n,)`` (the neuron axis leads)."""
    dtype = dtype or jnp.result_type(float)
    arr = jnp.asarray(value, dtype=dtype)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n)):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n},) (one value per neuron), "
            f"got shape {tuple(arr.shape)}"
        )
    return jnp.broadcast_to(arr, (n,))


def as_float_array(x) -> jax.Array:
    """``x`` as an array of the default float dtype (the converter of float parameter fields)."""
    return jnp.asarray(x, dtype=jnp.result_type(float))


def check_literal(name: str, value, allowed: tuple) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed`` (a ``Literal`` option)."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_bound(component, size, fix: str) -> None:
    """Raise ``ValueError`` if a size-generic component was not bound (``size`` is None)."""
    if size is None:
        raise ValueError(
            f"{type(component).__name__} is not bound to a size; {fix} (the network builder "
            "binds it for you)"
        )


def reject_renamed(owner: str, kwargs: dict) -> None:
    """Raise ``TypeError`` for unexpected keywords, naming the new name of renamed ones."""
    for old in kwargs:
        if old in RENAMED:
            raise TypeError(
                f"{owner}: the keyword {old!r} was renamed {RENAMED[old]!r} (one name per "
                f"concept); pass {RENAMED[old]}=... instead"
            )
    if kwargs:
        raise TypeError(f"{owner} got unexpected keyword arguments {sorted(kwargs)}")
