"""Bounded initializers: a normal redrawn into an interval, and any initializer clipped.

NEST draws the microcircuit's weights and delays as ``redraw(normal(...), min, max)``: values
outside ``[min, max]`` are drawn again until they fall inside, which is exactly sampling the
normal distribution truncated to the interval (:class:`TruncatedNormal`). Clipping
(:class:`Clipped`) instead moves the outside mass onto the bounds.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np

from ._init import AbstractInit, Normal
from ._validate import as_float_array, check_finite, check_nonnegative, is_concrete

__all__ = ["TruncatedNormal", "Clipped"]

_MAX_SIGMAS = 6.0  # the interval must reach within this many std of the mean
# jax.random.truncated_normal returns the largest finite float at an open end of [a, b] when its
# uniform draw lands on an end point (about 1 draw in 10^7 in float32); scaled by std that is
# +-inf. Standard scores are capped here: mass beyond 8 std (~1e-15) is below float resolution.
_Z_CAP = 8.0


def _check_interval(owner: str, low, high) -> None:
    if is_concrete(low) and is_concrete(high):
        lo, hi = np.asarray(low), np.asarray(high)
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo >= hi):
            raise ValueError(
                f"{owner} needs low < high (use -inf / inf for no bound), got low={lo}, high={hi}"
            )


_MIN_BLOCK = 1 << 10


def _eager_1d(shape) -> int | None:
    """The power-of-two block for an eager 1-D draw (``None``: draw ``shape`` directly)."""
    if len(shape) != 1 or int(shape[0]) < 1:
        return None
    return max(_MIN_BLOCK, 1 << (int(shape[0]) - 1).bit_length())


@eqx.filter_jit
def _draw(init, key, block: int):
    return init._raw_sample(key, (block,))


def _blocked_sample(init, key, shape):
    """``init._raw_sample`` of ``shape``; eager 1-D draws (per-synapse weights and delays,
    one new length per projection) are drawn as the first ``shape[0]`` values of a
    power-of-two block, so that building a network compiles once per block size, not once
    per projection."""
    block = _eager_1d(shape)
    if block is None or isinstance(key, jax.core.Tracer):
        return init._raw_sample(key, shape)
    return jnp.asarray(np.asarray(_draw(init, key, block))[: int(shape[0])])


def _phi(x):
    return jnp.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


class TruncatedNormal(AbstractInit):
    """Normal with ``loc``/``std``, redrawn until it falls in ``[low, high]``.

    The distribution of NEST's ``nest.math.redraw(nest.random.normal(loc, std), min=low,
    max=high)``: the normal truncated to the interval, sampled directly (inverse CDF, no
    rejection loop). Used for the delays of the Potjans–Diesmann microcircuit (redrawn below
    ``dt / 2``) and for weights that must keep their sign (``low=0`` or ``high=0``).

    Mean: ``loc + std (phi(a) - phi(b)) / Z`` with ``a = (low - loc)/std``,
    ``b = (high - loc)/std``, ``Z = Phi(b) - Phi(a)`` (Johnson, Kotz & Balakrishnan 1994,
    ch. 13).

    Args:
        loc: mean of the untruncated normal (units of the variable, e.g. ms, pA).
        std: its standard deviation, >= 0.
        low: lower bound (default ``-inf``); high: upper bound (default ``inf``), > low. The
            interval must lie within 6 std of ``loc`` (else nearly every draw would be redrawn).

    Example:
        >>> import neurosim as ns
        >>> delay = ns.init.TruncatedNormal(1.5, 0.75, low=0.05)  # ms, NEST: redraw < dt/2
    """

    loc: jax.Array = eqx.field(converter=as_float_array)
    std: jax.Array = eqx.field(converter=as_float_array)
    low: jax.Array = eqx.field(converter=as_float_array, default=-math.inf)
    high: jax.Array = eqx.field(converter=as_float_array, default=math.inf)

    def __check_init__(self):
        check_finite("TruncatedNormal.loc", self.loc)
        check_nonnegative("TruncatedNormal.std", self.std)
        _check_interval("TruncatedNormal", self.low, self.high)
        if all(is_concrete(x) for x in (self.loc, self.std, self.low, self.high)):
            a, b = (np.asarray(x, np.float64) for x in self._bounds())
            if np.any(a > _MAX_SIGMAS) or np.any(b < -_MAX_SIGMAS):
                raise ValueError(
                    f"TruncatedNormal: [low, high] = [{np.asarray(self.low)}, "
                    f"{np.asarray(self.high)}] lies more than {_MAX_SIGMAS:g} std from loc="
                    f"{np.asarray(self.loc)} (std={np.asarray(self.std)}); move the bounds or "
                    "the mean, or use ns.init.Uniform"
                )
            if np.any(np.asarray(self.std) == 0) and np.any(
                (np.asarray(self.loc) < np.asarray(self.low))
                | (np.asarray(self.loc) > np.asarray(self.high))
            ):
                raise ValueError("TruncatedNormal with std=0 needs low <= loc <= high")

    def _bounds(self):
        s = jnp.where(self.std > 0, self.std, 1.0)
        return (self.low - self.loc) / s, (self.high - self.loc) / s

    def sample(self, key, shape):
        return _blocked_sample(self, key, tuple(shape))

    def _raw_sample(self, key, shape):
        a, b = self._bounds()
        z = jax.random.truncated_normal(key, a, b, shape, dtype=self.loc.dtype)
        z = jnp.clip(z, jnp.maximum(a, -_Z_CAP), jnp.minimum(b, _Z_CAP))
        return jnp.clip(self.loc + self.std * z, self.low, self.high)

    def mean(self):
        a, b = self._bounds()
        z = jax.scipy.special.ndtr(b) - jax.scipy.special.ndtr(a)
        pa = jnp.where(jnp.isfinite(a), _phi(jnp.where(jnp.isfinite(a), a, 0.0)), 0.0)
        pb = jnp.where(jnp.isfinite(b), _phi(jnp.where(jnp.isfinite(b), b, 0.0)), 0.0)
        return self.loc + self.std * (pa - pb) / z

    def quantile(self, u):
        a, b = self._bounds()
        fa, fb = jax.scipy.special.ndtr(a), jax.scipy.special.ndtr(b)
        u = jnp.asarray(u, self.loc.dtype)
        x = self.loc + self.std * jax.scipy.special.ndtri(fa + u * (fb - fa))
        return jnp.clip(x, self.low, self.high)


class Clipped(AbstractInit):
    """Another initializer's values clipped to ``[low, high]``.

    Values below ``low`` become ``low`` (a point mass ``P(X < low)`` there), values above
    ``high`` become ``high``; compare :class:`TruncatedNormal`, which redraws them.

    Args:
        init: the initializer to clip (``ns.init.Normal(1.5, 0.75)``, ...).
        low: lower bound (default ``-inf``); high: upper bound (default ``inf``), > low.

    Example:
        >>> import neurosim as ns
        >>> delay = ns.init.Clipped(ns.init.Normal(1.5, 0.75), low=0.1)  # ms
    """

    init: AbstractInit
    low: jax.Array = eqx.field(converter=as_float_array, default=-math.inf)
    high: jax.Array = eqx.field(converter=as_float_array, default=math.inf)

    def __check_init__(self):
        if not isinstance(self.init, AbstractInit):
            raise TypeError(
                f"Clipped.init must be an initializer (ns.init.Normal, ...), got {self.init!r}"
            )
        _check_interval("Clipped", self.low, self.high)

    def sample(self, key, shape):
        return _blocked_sample(self, key, tuple(shape))

    def _raw_sample(self, key, shape):
        return jnp.clip(self.init.sample(key, shape), self.low, self.high)

    def mean(self):
        """Exact for a clipped :class:`~neurosim.init.Normal`; else the clipped inner mean."""
        if isinstance(self.init, Normal):
            loc, std = self.init.loc, self.init.std
            s = jnp.where(std > 0, std, 1.0)
            a, b = (self.low - loc) / s, (self.high - loc) / s
            fa, fb = jax.scipy.special.ndtr(a), jax.scipy.special.ndtr(b)
            pa = jnp.where(jnp.isfinite(a), _phi(jnp.where(jnp.isfinite(a), a, 0.0)), 0.0)
            pb = jnp.where(jnp.isfinite(b), _phi(jnp.where(jnp.isfinite(b), b, 0.0)), 0.0)
            lo = jnp.where(jnp.isfinite(self.low), self.low, 0.0)
            hi = jnp.where(jnp.isfinite(self.high), self.high, 0.0)
            inner = loc * (fb - fa) + std * (pa - pb)
            exact = lo * fa + hi * (1.0 - fb) + inner
            return jnp.where(std > 0, exact, jnp.clip(loc, self.low, self.high))
        return jnp.clip(self.init.mean(), self.low, self.high)

    def quantile(self, u):
        return jnp.clip(self.init.quantile(u), self.low, self.high)
