"""Construction-time validation helpers.

Every check raises ``ValueError`` naming the parameter, the offending value and the fix.
Checks are skipped for traced values (inside ``jit``/``vmap``/``grad``), where the value is not
known; networks are validated when they are built eagerly.

Strings are never numbers: ``p="0.1"`` raises ``TypeError`` naming the parameter and the
number to pass instead (documented choice, issue 16: accepting them would hide a config or
CLI value that was never parsed). A plain ``int`` is not a random key: ``key=0`` raises
``TypeError`` naming ``jax.random.key(0)`` (wrapping it silently would hide which of
``key``/``PRNGKey``/``fold_in`` was meant, and a seed outside 32 bits would wrap).
"""

from __future__ import annotations

import typing

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
    "check_number",
    "check_key",
    "check_weights",
    "not_a_string",
    "check_rate_per_step",
    "POISSON_WARN_P",
    "user_stacklevel",
]


def _package_dir(module) -> str:
    import os

    return os.path.dirname(os.path.abspath(module.__file__)) + os.sep


def user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the calling function that points at the user's
    code: the first frame outside neurosim, equinox and jax (a warning raised while a module
    is constructed or a network is set up otherwise lands in their internals).

    Example:
        >>> user_stacklevel() >= 1
        True
    """
    import sys

    import equinox

    internal = tuple(_package_dir(m) for m in (sys.modules[__package__], equinox, jax))
    frame, level = sys._getframe(1), 1  # the function that calls warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame, level = frame.f_back, level + 1
    return level


# A Bernoulli spike source emits at most one spike per step with probability p = rate * dt:
# its mean is exact for p <= 1 and its count variance is low by the factor (1 - p).
POISSON_WARN_P = 0.1

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


def not_a_string(name: str, value, unit: str = "") -> None:
    """Raise ``TypeError`` if ``value`` is a string (or bytes) where a number is expected."""
    if isinstance(value, (str, bytes)):
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        try:
            hint = f"{name}={float(text)!r}"
        except ValueError:
            hint = f"a number for {name}"
        u = f" ({unit})" if unit else ""
        raise TypeError(
            f"{name} must be a number{u}, got the string {value!r}; pass {hint} (strings are "
            "not converted)"
        )


def check_number(name: str, value, unit: str = "") -> float:
    """A finite real number (Python or NumPy scalar) as ``float``, else a clear error.

    Raises:
        TypeError: ``value`` is a string, a bool or not a real scalar.
        ValueError: ``value`` is NaN or infinite.

    Example:
        >>> check_number("delay", 1.5, "ms")
        1.5
    """
    not_a_string(name, value, unit)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (hasattr(value, "shape") and np.ndim(value) == 0 and is_concrete(value)):
            raise TypeError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not np.isfinite(out):
        u = f" ({unit})" if unit else ""
        raise ValueError(f"{name} must be a finite number{u}, got {out}")
    return out


def check_key(value, name: str = "key"):
    """Return ``value`` if it is a JAX random key (typed, or raw ``uint32`` of shape ``(2,)``).

    Raises:
        TypeError: a plain ``int`` (naming ``jax.random.key(value)``) or anything else.

    Example:
        >>> import jax
        >>> k = check_key(jax.random.key(0))
    """
    if isinstance(value, jax.core.Tracer):
        return value
    if isinstance(value, (bool, np.bool_)) or not hasattr(value, "dtype"):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            raise TypeError(
                f"{name} must be a JAX random key, got the int {value}; pass "
                f"{name}=jax.random.key({value}) (plain ints are not converted)"
            )
        raise TypeError(f"{name} must be a JAX random key (jax.random.key(seed)), got {value!r}")
    if jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):
        return value
    if value.dtype == np.uint32 and value.shape[-1:] == (2,):
        return value  # a raw key from jax.random.PRNGKey
    raise TypeError(
        f"{name} must be a JAX random key (jax.random.key(seed)), got an array of dtype "
        f"{value.dtype} and shape {tuple(value.shape)}"
    )


def check_weights(name: str, weights, conductance: bool, unit: str) -> None:
    """Refuse non-finite weights, and negative ones onto a conductance (COBA-type) output.

    Args:
        name: the projection, for the message.
        weights: an array (all synapses; padding zeros are fine) or a scalar; traced values
            are not checked.
        conductance: the output is a conductance (``COBA``, ``MgBlock``): weights are nS >= 0.
        unit: the weights' unit, for the message.
    """
    if not is_concrete(weights):
        return
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0:
        return
    if not np.all(np.isfinite(w)):
        bad = int(np.size(w) - np.isfinite(w).sum())
        got = f"{w.reshape(-1)[0]}" if w.size == 1 else f"{bad} NaN/inf value(s) of {w.size}"
        raise ValueError(
            f"weight of {name!r} must be finite, got {got}; "
            "check the initializer or array (NaN/inf would make the state non-finite)"
        )
    if conductance and w.min() < 0:
        raise ValueError(
            f"weight of {name!r} must be >= 0 {unit} with a conductance output (COBA/MgBlock: "
            f"a negative conductance), got min {w.min():g}; for inhibition use positive "
            "weights with an inhibitory reversal potential, e.g. output=ns.synapses.COBA(-80.0)"
        )


def check_rate_per_step(owner: str, rate, dt) -> None:
    """Refuse a spike-source rate above one spike per step; warn above ``POISSON_WARN_P``.

    ``p = rate * dt / 1000`` is the spike probability per step of a Bernoulli source. Above 1
    it saturates at one spike per step (a 1e5 Hz source at dt 0.1 ms fires 10,000 Hz):
    ``ValueError``. Above ``POISSON_WARN_P`` (0.1) the mean is exact but the count variance is
    low by ``1 - p``: ``UserWarning``. Traced values are not checked.

    Example:
        >>> check_rate_per_step("PoissonSource", 10.0, 0.1)
    """
    if not (is_concrete(rate) and is_concrete(dt)):
        return
    r = np.asarray(rate, np.float64)
    if r.size == 0:
        return
    r_max, dt = float(r.max()), float(dt)
    p = r_max * dt * 1e-3
    if p <= POISSON_WARN_P:
        return
    fix = (
        f"use dt <= {POISSON_WARN_P * 1e3 / r_max:.3g} ms, or for background input at such "
        "rates NetworkBuilder.add_poisson_input(target, rate_hz=..., weight=..., synapse=...) "
        "(Poisson counts per step, any rate, no stored synapses)"
    )
    if p > 1.0:
        raise ValueError(
            f"{owner} rate up to {r_max:g} Hz at dt={dt:g} ms asks for {p:.3g} spikes per step, "
            f"but it emits at most one per step: the rate exceeds 1/dt = {1e3 / dt:g} Hz (it "
            f"would fire {1e3 / dt:g} Hz, not {r_max:g} Hz); {fix}"
        )
    if p > POISSON_WARN_P:
        import warnings

        warnings.warn(
            f"{owner} rate up to {r_max:g} Hz at dt={dt:g} ms is {p:.3g} spikes per step "
            f"({p:.0%} of 1/dt = {1e3 / dt:g} Hz): the "
            f"mean rate is exact but the count variance is low by the factor {1 - p:.3g} (at "
            f"most one spike per step); {fix}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def check(condition_fn, name: str, value, requirement: str, fix: str = "") -> None:
    """Raise ``ValueError`` if ``condition_fn(np.asarray(value))`` is not all true.

    A string ``value`` raises ``TypeError`` (see :func:`not_a_string`).
    """
    not_a_string(name, value)
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
    not_a_string(name, value)
    arr = jnp.asarray(value, dtype=dtype)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n)):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n},) (one value per neuron), "
            f"got shape {tuple(arr.shape)}"
        )
    return jnp.broadcast_to(arr, (n,))


def check_literal(name: str, value, options) -> str:
    """Validate a string option against a ``typing.Literal`` type and return it.

    Args:
        name: the parameter's name, for the message.
        value: the value given.
        options: a ``Literal[...]`` type (the allowed values are its arguments) or a tuple.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is not one of the allowed strings.

    Example:
        >>> from typing import Literal
        >>> check_literal("on_fault", "raise", Literal["raise", "return"])
        'raise'
    """
    allowed = typing.get_args(options) or (
        tuple(options) if isinstance(options, (tuple, list, frozenset, set)) else ()
    )
    if not allowed:
        raise TypeError(f"options must be a typing.Literal[...] type or a tuple, got {options!r}")
    listed = ", ".join(repr(a) for a in allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {listed} (a string), got {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def as_float_array(x) -> jax.Array:
    """``x`` as an array of the default float dtype (the converter of float parameter fields)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"a numeric parameter got the string {x!r}; pass a number (strings are not converted)"
        )
    return jnp.asarray(x, dtype=jnp.result_type(float))


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
