"""Statistics of continuous recordings (rate-model traces, voltages, BOLD-like signals).

Pure ``jax.numpy`` functions: they accept NumPy or JAX arrays, work inside ``jit`` and are
differentiable (e.g. a loss on functional connectivity or on a spectrum).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = [
    "power_spectrum",
    "peak_frequency",
    "synchrony_chi",
    "functional_connectivity",
    "fc_similarity",
    "kuramoto_order",
]


def _check_dt(dt_ms):
    if not float(dt_ms) > 0:
        raise ValueError(f"dt_ms must be > 0 ms, got {dt_ms}")


def power_spectrum(x, dt_ms: float, *, n_segments: int = 1, detrend: bool = True):
    r"""Power spectral density of signals sampled every ``dt_ms`` along axis 0.

    Bartlett's estimate: the record is cut into ``n_segments`` equal, non-overlapping pieces
    (no taper), each piece's mean removed (``detrend``), and
    :math:`S(f) = \Delta t\, |\sum_k x_k e^{-2\pi i f k \Delta t}|^2 / K` averaged over pieces
    (``K`` samples per piece, ``Delta t`` in seconds). This is the two-sided density at
    ``f >= 0``: white noise of variance ``sigma^2`` has ``S = sigma^2 Delta t`` and
    :math:`\int_{-f_s/2}^{f_s/2} S\,df = \mathrm{var}(x)`. Units: ``[x]^2 / Hz``; for a rate
    in Hz the spectrum is in Hz (a Poisson train's spectrum is flat at its rate, see
    :func:`spike_train_spectrum`). Resolution ``1 / (K Delta t)``.

    Args:
        x: samples, shape ``(T,)`` or ``(T, ...)`` (time first).
        dt_ms: sampling interval (ms), > 0.
        n_segments: number of pieces to average, >= 1.
        detrend: remove each piece's mean.

    Returns:
        ``(freqs_hz, psd)``: frequencies ``(K//2 + 1,)`` and ``psd`` ``(K//2 + 1, ...)``.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> t = np.arange(2000) * 0.5  # ms
        >>> f, p = ns.analysis.power_spectrum(np.sin(2 * np.pi * 0.010 * t), 0.5)
        >>> float(f[np.argmax(p)])
        10.0
    """
    _check_dt(dt_ms)
    x = jnp.asarray(x)
    if isinstance(n_segments, bool) or not isinstance(n_segments, int) or n_segments < 1:
        raise ValueError(f"n_segments must be an integer >= 1, got {n_segments!r}")
    k = x.shape[0] // n_segments
    if k < 2:
        raise ValueError(f"{x.shape[0]} samples are too few for {n_segments} segment(s)")
    seg = x[: k * n_segments].reshape((n_segments, k) + x.shape[1:])
    if detrend:
        seg = seg - jnp.mean(seg, axis=1, keepdims=True)
    dt_s = float(dt_ms) * 1e-3
    spec = jnp.abs(jnp.fft.rfft(seg, axis=1)) ** 2 * (dt_s / k)
    return jnp.asarray(np.fft.rfftfreq(k, dt_s)), jnp.mean(spec, axis=0)


def peak_frequency(x, dt_ms: float, *, fmin: float = 0.0, fmax: float | None = None, **kw):
    """Frequency (Hz) of the largest peak of :func:`power_spectrum` in ``(fmin, fmax]``.

    The resolution is that of the spectrum, ``1 / (K dt)``. ``x`` of shape ``(T, ...)``
    gives one frequency per trailing index. Keyword arguments go to :func:`power_spectrum`.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> t = np.arange(4000) * 0.25  # ms
        >>> float(ns.analysis.peak_frequency(np.cos(2 * np.pi * 0.040 * t), 0.25))
        40.0
    """
    f, p = power_spectrum(x, dt_ms, **kw)
    band = f > fmin
    if fmax is not None:
        band = band & (f <= fmax)
    if not bool(jnp.any(band)):
        raise ValueError(f"no frequency of the spectrum lies in ({fmin}, {fmax}] Hz")
    mask = band.reshape((-1,) + (1,) * (p.ndim - 1))
    return f[jnp.argmax(jnp.where(mask, p, -jnp.inf), axis=0)]


def synchrony_chi(v):
    r"""Synchrony measure :math:`\chi` of Golomb & Rinzel (1993) / Golomb (2007).

    For signals :math:`V_i(t)` (``(T, N)``: time first, one column per neuron or node),

    .. math::
        \chi^2 = \frac{\mathrm{var}_t\big(\frac{1}{N}\sum_i V_i(t)\big)}
                      {\frac{1}{N}\sum_i \mathrm{var}_t(V_i(t))}

    ``chi = 1`` for identical signals, ``~ 1/sqrt(N)`` for independent ones. Golomb (2007),
    *Scholarpedia* 2(1):1347.

    Returns:
        ``chi`` (a scalar in [0, 1]).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> v = np.tile(np.sin(np.linspace(0, 20, 500))[:, None], (1, 8))
        >>> round(float(ns.analysis.synchrony_chi(v)), 6)
        1.0
    """
    v = jnp.asarray(v)
    if v.ndim != 2:
        raise ValueError(f"v must have shape (T, N), got {v.shape}")
    pop = jnp.var(jnp.mean(v, axis=1))
    single = jnp.mean(jnp.var(v, axis=0))
    return jnp.sqrt(pop / single)


def functional_connectivity(x):
    """Functional connectivity: the Pearson correlation matrix of signals ``x`` ``(T, N)``.

    Entry ``[i, j]`` is the correlation over time of columns ``i`` and ``j`` (``N x N``, ones
    on the diagonal). Constant columns give NaN (zero variance).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> x = np.random.default_rng(0).standard_normal((1000, 3))
        >>> ns.analysis.functional_connectivity(x).shape
        (3, 3)
    """
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (T, N), got {x.shape}")
    xc = x - jnp.mean(x, axis=0)
    cov = xc.T @ xc
    sd = jnp.sqrt(jnp.diag(cov))
    return cov / (sd[:, None] * sd[None, :])


def fc_similarity(fc_a, fc_b):
    """Pearson correlation between the upper triangles (off-diagonal) of two FC matrices.

    The usual goodness of fit of a whole-brain model's FC to an empirical one.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> fc = np.corrcoef(np.random.default_rng(0).standard_normal((4, 200)))
        >>> round(float(ns.analysis.fc_similarity(fc, fc)), 6)
        1.0
    """
    a, b = jnp.asarray(fc_a), jnp.asarray(fc_b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 3:
        raise ValueError(
            f"need two square matrices of equal shape (n >= 3), got {a.shape}, {b.shape}"
        )
    iu = np.triu_indices(a.shape[0], k=1)
    u, w = a[iu] - jnp.mean(a[iu]), b[iu] - jnp.mean(b[iu])
    return jnp.sum(u * w) / jnp.sqrt(jnp.sum(u * u) * jnp.sum(w * w))


def kuramoto_order(theta, axis: int = -1):
    r"""Kuramoto order parameter :math:`R = |\frac{1}{N}\sum_j e^{i\theta_j}|` over ``axis``.

    ``theta`` in radians (e.g. ``(T, N)`` phases from :class:`neurosim.rates.Kuramoto`); 1 for
    identical phases, ~ ``1/sqrt(N)`` for independent uniform ones (Kuramoto 1975).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> round(float(ns.analysis.kuramoto_order(np.zeros(5))), 6)
        1.0
    """
    theta = jnp.asarray(theta)
    return jnp.hypot(jnp.mean(jnp.cos(theta), axis=axis), jnp.mean(jnp.sin(theta), axis=axis))
