"""Hidden linear state reconstructed from a recording: the AdEx adaptation current.

A recording holds the potential, not the adaptation current ``w``. But ``w`` obeys a *linear*
equation driven by the potential and the spikes,

.. math::
    \\tau_w \\frac{dw}{dt} = a (v - E_L) - w, \\qquad w \\to w + b \\text{ at each spike},

so for given ``(a, b, tau_w, E_L)`` the recorded ``v`` determines ``w`` over the whole
recording: a causal exponential filter of ``v`` plus ``b`` per recorded spike. Fitting the
potential segment by segment (:func:`split_at_spikes`) with each segment's initial ``w``
taken from this filter is teacher forcing of the hidden variable: ``w`` stays consistent
across segments by construction — no latent per segment and no continuity penalty — and is
a smooth, exact-gradient function of the parameters. The measurement noise of ``v`` averages
out in the filter (it is linear, so unbiased).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._validate import check_positive
from ._segments import Recording, checked_recording

__all__ = ["adaptation_current"]


def adaptation_current(rec: Recording, *, a, b, tau_w, e_l, w_init=0.0):
    """The adaptation current ``w`` (pA) implied by a recording, at every sample.

    Integrates ``tau_w dw/dt = a (v - E_L) - w`` exactly over each sampling interval with
    ``v`` linear between the samples around it (second order in ``dt / tau_w``), and adds
    ``b`` in the interval of each recorded spike (over which ``v`` is taken as the sample
    before it: the upswing and reset are not resolved by the samples, an error of order
    ``a (v_peak - v) dt / tau_w`` per spike).

    Args:
        rec: the recording (``rec.v`` of shape ``(N + 1,)``, ``rec.spike_steps``, ``rec.dt``).
        a: subthreshold adaptation (nS). b: spike-triggered increment (pA).
        tau_w: adaptation time constant (ms), > 0. e_l: leak reversal potential (mV).
        w_init: ``w`` at the first sample (pA). All five may be traced (jit/grad/vmap);
            scalars.

    Returns:
        ``(N + 1,)`` array: ``w`` at each sample time (after the increment of a spike in the
        preceding interval), differentiable in the parameters.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> rec = ns.fit.Recording(0.1, np.full(101, -60.0), np.zeros(100), np.array([49]))
        >>> w = ns.fit.adaptation_current(rec, a=4.0, b=80.0, tau_w=144.0, e_l=-70.0)
    """
    v_np, steps = checked_recording(rec)
    check_positive("tau_w", tau_w, "ms")
    n = rec.n_steps
    v = jnp.asarray(v_np)
    spike = jnp.zeros(n, v.dtype).at[steps].set(1.0)
    # Over a spike interval the sample after it is post-reset: use the one before.
    v_mid = jnp.where(spike > 0, v[:-1], 0.5 * (v[:-1] + v[1:]))
    decay = jnp.exp(-float(rec.dt) / jnp.asarray(tau_w, v.dtype))
    drive = a * (v_mid - e_l) * (1.0 - decay) + b * spike
    # w[k+1] = decay w[k] + drive[k]: compose affine maps x -> m x + c with a parallel scan;
    # the leading constant map (0, w_init) sets the initial value.
    m = jnp.concatenate([jnp.zeros(1, v.dtype), jnp.broadcast_to(decay, (n,))])
    c = jnp.concatenate([jnp.reshape(jnp.asarray(w_init, v.dtype), (1,)), drive])

    def compose(first, second):
        return first[0] * second[0], second[0] * first[1] + second[1]

    _, w = jax.lax.associative_scan(compose, (m, c))
    return w
