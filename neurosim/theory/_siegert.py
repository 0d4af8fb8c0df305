"""Mean first-passage-time rate of the LIF neuron under white noise (Siegert formula)."""

from __future__ import annotations

import numpy as np

__all__ = ["siegert_rate", "lif_diffusion_parameters"]

# Composite Gauss–Legendre rule: panels of width _PANEL with _NODES nodes each.
_NODES = 24
_PANEL = 0.5
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)


def _siegert_integral(a, b):
    r"""``sqrt(pi) * int_a^b exp(u^2) (1 + erf u) du`` for arrays ``a <= b`` (float64).

    Uses the identity (from ``e^{u^2} erfc(-u) = (2/\sqrt\pi) \int_0^\infty e^{-x^2+2ux} dx``)

    .. math:: \sqrt\pi\int_a^b e^{u^2}(1+\mathrm{erf}\,u)\,du
              = \int_0^\infty e^{-x^2}\,\frac{e^{2bx} - e^{2ax}}{x}\,dx,

    whose integrand, written as :math:`e^{x(2b - x)}(1 - e^{-2(b-a)x})/x` (``expm1``: no
    cancellation at small ``x``), is smooth, positive and negligible beyond ``max(b, 0) + 12``.
    """
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        ai, bi = a[idx], b[idx]
        x_max = max(bi, 0.0) + 12.0
        # Near 0 the integrand changes on the scale 1/(2(b - a)) (large for small sigma):
        # geometric panels there, uniform ones of width _PANEL beyond.
        x0 = min(_PANEL, 0.05 / max(bi - ai, 1e-12))
        geo = np.geomspace(x0, _PANEL, max(int(np.ceil(np.log2(_PANEL / x0))), 1) + 1)
        n_uni = max(int(np.ceil((x_max - _PANEL) / _PANEL)), 1)
        edges = np.concatenate([[0.0], geo[:-1], np.linspace(_PANEL, x_max, n_uni + 1)])
        half = 0.5 * (edges[1:] - edges[:-1])
        mid = 0.5 * (edges[1:] + edges[:-1])
        x = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
        w = (half[:, None] * _GL_W[None, :]).ravel()
        f = np.exp(x * (2.0 * bi - x)) * -np.expm1(-2.0 * (bi - ai) * x) / x
        out[idx] = np.sum(w * f)
    return out


def siegert_rate(mu, sigma, tau_m, v_th, v_reset, t_ref=0.0):
    r"""Stationary firing rate (Hz) of an LIF neuron driven by Gaussian white noise.

    For :math:`\tau_m \dot V = \mu - V + \sigma\sqrt{\tau_m}\,\xi(t)` with threshold
    :math:`\theta`, reset :math:`V_r` and refractory period :math:`\tau_{ref}` (Siegert 1951;
    Brunel 2000, *J. Comput. Neurosci.* 8:183, eq. 21; Amit & Tsodyks 1991):

    .. math::
        \frac{1}{\nu} = \tau_{ref} + \tau_m\sqrt\pi
        \int_{(V_r-\mu)/\sigma}^{(\theta-\mu)/\sigma} e^{u^2}\,(1 + \mathrm{erf}\,u)\,du .

    ``sigma = 0`` gives the deterministic rate :math:`1/(\tau_{ref} + \tau_m
    \ln\frac{\mu - V_r}{\mu - \theta})` above threshold, 0 below. Computed in float64 with
    a composite Gauss–Legendre rule (relative error < 1e-10 for threshold distances up to
    ~25 sigma; rates below ~1e-200 Hz underflow to 0).

    Args:
        mu: mean free membrane potential (mV).
        sigma: noise amplitude (mV), >= 0 (the free membrane potential has standard deviation
            ``sigma / sqrt(2)``).
        tau_m: membrane time constant (ms), > 0.
        v_th: threshold (mV); v_reset: reset (mV), < v_th; t_ref: refractory period (ms).

    Returns:
        Rate in Hz (numpy array broadcast over the inputs).

    Example:
        >>> import neurosim as ns
        >>> r = ns.theory.siegert_rate(mu=15.0, sigma=5.0, tau_m=20.0, v_th=20.0, v_reset=10.0,
        ...                            t_ref=2.0)
    """
    mu, sigma, tau_m, v_th, v_reset, t_ref = np.broadcast_arrays(
        *(np.asarray(x, np.float64) for x in (mu, sigma, tau_m, v_th, v_reset, t_ref))
    )
    if np.any(sigma < 0) or np.any(tau_m <= 0) or np.any(t_ref < 0):
        raise ValueError("sigma must be >= 0 mV, tau_m > 0 ms and t_ref >= 0 ms")
    if np.any(v_reset >= v_th):
        raise ValueError("v_reset must be below v_th")
    out = np.zeros(mu.shape)
    noisy = sigma > 0
    if np.any(noisy):
        s = sigma[noisy]
        a = (v_reset[noisy] - mu[noisy]) / s
        b = (v_th[noisy] - mu[noisy]) / s
        with np.errstate(over="ignore"):
            period = t_ref[noisy] + tau_m[noisy] * _siegert_integral(a, b)
        out[noisy] = np.where(np.isfinite(period), 1000.0 / period, 0.0)
    det = ~noisy & (mu > v_th)
    if np.any(det):
        period = t_ref[det] + tau_m[det] * np.log((mu[det] - v_reset[det]) / (mu[det] - v_th[det]))
        out[det] = 1000.0 / period
    return out if out.ndim else float(out)


def lif_diffusion_parameters(i_mean, i_sigma, *, e_l, g_l, tau_m):
    r"""``(mu, sigma)`` (mV) of the diffusion approximation for an LIF neuron.

    For input current :math:`I = I_0 + \sigma_I \xi(t)` (pA, pA·ms^½, as
    :class:`neurosim.inputs.WhiteNoiseCurrent`) into :math:`\tau_m \dot V = E_L - V + I/g_L`:
    :math:`\mu = E_L + I_0/g_L`, :math:`\sigma = \sigma_I / (g_L\sqrt{\tau_m})`.
    """
    i_mean, i_sigma, g_l, tau_m = (np.asarray(x, np.float64) for x in (i_mean, i_sigma, g_l, tau_m))
    return e_l + i_mean / g_l, i_sigma / (g_l * np.sqrt(tau_m))
