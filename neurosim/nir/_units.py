"""Unit conversions between NIR (seconds, unitless) and neurosim (ms, mV, pA, nS).

The conversions of weights and biases, for one postsynaptic population, in both directions.
``dt`` is in ms. A spike is a unit-area delta in NIR and one increment per step in neurosim.

* CubaLIF / CubaLI (current synapse ``tau_syn``): a NIR spike through ``W`` raises the current
  by ``w_in W / tau_syn[s]``, which is neurosim's jump per spike ``J`` (pA). A NIR bias ``b``
  (held constant) drives ``tau_syn dI/dt = -I + w_in b``, whose exact update over one step adds
  ``w_in b (1 - exp(-dt/tau_syn))`` after the decay -- neurosim's per-step increment.
* LIF / LI (no synapse): a NIR spike raises ``v`` by ``r W / tau[s]``; neurosim's current
  ``J`` lasting one step raises it by ``(J / g_l) (1 - exp(-dt/tau_m))`` (exact exponential
  Euler), so ``J = W / (tau[s] (1 - exp(-dt/tau_m)))``. A bias is a current held over every
  step: ``b`` pA either way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ms", "seconds", "weight_to_ns", "weight_to_nir", "bias_to_ns", "bias_to_nir"]


def ms(t_seconds) -> np.ndarray:
    """NIR time (s) -> neurosim time (ms)."""
    return np.asarray(t_seconds, np.float64) * 1000.0


def seconds(t_ms) -> np.ndarray:
    """neurosim time (ms) -> NIR time (s)."""
    return np.asarray(t_ms, np.float64) / 1000.0


def _gain(tau_m, tau_syn, w_in, dt):
    """neurosim jump per NIR weight unit, per postsynaptic neuron (all times in ms)."""
    if tau_syn is None:
        return 1.0 / (seconds(tau_m) * -np.expm1(-dt / np.asarray(tau_m, np.float64)))
    return np.asarray(w_in, np.float64) / seconds(tau_syn)


def _bias_gain(tau_syn, w_in, dt):
    if tau_syn is None:
        return np.ones(())
    return np.asarray(w_in, np.float64) * -np.expm1(-dt / np.asarray(tau_syn, np.float64))


def weight_to_ns(w_nir, *, tau_m, tau_syn, w_in, dt):
    """NIR weights ``(n_post, n_pre)`` -> neurosim weights ``(n_pre, n_post)`` (pA/spike)."""
    return (np.asarray(w_nir, np.float64) * _gain(tau_m, tau_syn, w_in, dt)[:, None]).T


def weight_to_nir(w_ns, *, tau_m, tau_syn, w_in, dt):
    """neurosim weights ``(n_pre, n_post)`` (pA/spike) -> NIR weights ``(n_post, n_pre)``."""
    return np.asarray(w_ns, np.float64).T / _gain(tau_m, tau_syn, w_in, dt)[:, None]


def bias_to_ns(b_nir, *, tau_syn, w_in, dt):
    """NIR bias (constant signal) -> neurosim per-step current increment (pA)."""
    return np.asarray(b_nir, np.float64) * _bias_gain(tau_syn, w_in, dt)


def bias_to_nir(b_ns, *, tau_syn, w_in, dt):
    """neurosim per-step current increment (pA) -> NIR bias."""
    return np.asarray(b_ns, np.float64) / _bias_gain(tau_syn, w_in, dt)
