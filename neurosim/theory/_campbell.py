"""Campbell's theorem: moments of shot noise (Poisson input filtered by a kernel)."""

from __future__ import annotations

import numpy as np

__all__ = ["campbell_lif_exp_psc"]


def campbell_lif_exp_psc(rate, weight, tau_syn, *, tau_m, g_l, e_l=0.0):
    r"""Mean and variance of a non-spiking LIF membrane driven by Poisson exponential PSCs.

    Input: Poisson spikes at ``rate`` (Hz, total over all inputs), each adding a current
    :math:`w e^{-t/\tau_s}` (pA) to :math:`\tau_m \dot V = E_L - V + I/g_L`. The PSP kernel is
    :math:`h(t) = \frac{w}{g_L}\frac{\tau_s}{\tau_s - \tau_m}(e^{-t/\tau_s} - e^{-t/\tau_m})`
    and Campbell's theorem (Campbell 1909; Papoulis, *Probability, Random Variables and
    Stochastic Processes*) gives :math:`E[V] = E_L + \nu\int h = E_L + \nu w\tau_s/g_L` and
    :math:`\mathrm{Var}[V] = \nu\int h^2 = \nu\,(w/g_L)^2\,\tau_s^2 / (2(\tau_s + \tau_m))`.

    Args:
        rate: total input rate (Hz); weight: PSC amplitude (pA); tau_syn: PSC decay (ms);
        tau_m: membrane time constant (ms); g_l: leak conductance (nS); e_l: rest (mV).

    Returns:
        ``(mean mV, variance mV^2)``.
    """
    nu = np.asarray(rate, np.float64) * 1e-3  # 1/ms
    w, ts, tm, g = (np.asarray(x, np.float64) for x in (weight, tau_syn, tau_m, g_l))
    mean = e_l + nu * w * ts / g
    var = nu * (w / g) ** 2 * ts**2 / (2.0 * (ts + tm))
    return mean, var
