"""Synthetic current-clamp recordings of neurosim neuron models (twin experiments)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._free_run import simulate_population
from ._segments import Recording

__all__ = ["record_neuron"]


def record_neuron(neuron, current, dt, *, oversample: int = 1, noise_std=0.0, key=None):
    """Simulate one neuron under an injected current and return what a recording would hold.

    The model runs at ``dt / oversample`` ms (so the fitted model, run at ``dt``, is not the
    generating one: no "inverse crime"); the potential is sampled every ``dt``, the current is
    averaged over each sampling interval, spikes are assigned to the interval they fall in,
    and Gaussian measurement noise of ``noise_std`` mV is added to the potential.

    Args:
        neuron: a neuron model with ``n == 1`` and a ``"v"`` state variable.
        current: injected current (pA) per fine step, shape ``(N * oversample,)``.
        dt: sampling interval (ms).
        oversample: fine steps per sample (>= 1).
        noise_std: measurement noise (mV), >= 0.
        key: random key for the measurement noise (default ``jax.random.key(0)``).

    Returns:
        A :class:`Recording` with ``N`` steps.

    Example:
        >>> import jax, neurosim as ns
        >>> cur = ns.fit.ou_current(jax.random.key(0), 4000, 0.025, mean=250.0, sigma=50.0)
        >>> rec = ns.fit.record_neuron(ns.neurons.LIF(1), cur, 0.1, oversample=4)
    """
    if neuron.n != 1:
        raise ValueError(f"record_neuron simulates one neuron; got n={neuron.n}")
    m = int(oversample)
    if m < 1:
        raise ValueError(f"oversample must be an integer >= 1, got {oversample}")
    current = jnp.asarray(current, float)
    if current.ndim != 1 or current.shape[0] % m:
        raise ValueError(
            f"current must be 1-D with a length divisible by oversample={m}, got {current.shape}"
        )
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0 mV, got {noise_std}")
    n_fine = int(current.shape[0])
    n = n_fine // m
    dt_fine = float(dt) / m
    spikes, traces, s0 = simulate_population(neuron, current, dt_fine, None, ("v",))
    v_fine = np.asarray(traces["v"][:, 0], float)
    v = np.concatenate([[float(s0["v"][0])], v_fine[m - 1 :: m]])
    key = key if key is not None else jax.random.key(0)
    v = v + float(noise_std) * np.asarray(jax.random.normal(key, v.shape))
    spikes_fine = np.flatnonzero(np.asarray(spikes[:, 0]) > 0)
    cur = np.asarray(current).reshape(n, m).mean(axis=1)
    return Recording(float(dt), v, cur, spikes_fine // m)
