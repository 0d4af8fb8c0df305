"""Plain-Python reference for trace STDP (NEST's test design): one synapse at a time, float64.

Traces are not integrated step by step: at an event time ``t`` each trace is evaluated from
the spike times directly, ``sum_{t_k < t} exp(-(t - t_k)/tau)`` (all-to-all) or
``exp(-(t - t_last)/tau)`` with ``t_last`` the latest spike before ``t`` (nearest-spike).
Conventions (those documented in neurosim.plasticity.AbstractSTDP): at a time with both a
pre and a post spike, the pre update (depression) comes first, then the post update, both
reading traces that exclude spikes at that time; each update is clipped to [w_min, w_max].
"""

from __future__ import annotations

import numpy as np


def trace(spike_times, t, tau, nearest):
    past = np.asarray([s for s in spike_times if s < t], np.float64)
    if past.size == 0:
        return 0.0
    if nearest:
        return float(np.exp(-(t - past.max()) / tau))
    return float(np.sum(np.exp(-(t - past) / tau)))


def pair_rule(tau_plus, tau_minus, a_plus, a_minus, w_min, w_max, mu_plus, mu_minus):
    def f(base, mu):
        return 1.0 if mu == 0 else max(base, 0.0) ** mu

    def on_pre(w, pre_tr, post_tr):
        wn = (w - w_min) / (w_max - w_min)
        return -a_minus * f(wn, mu_minus) * post_tr[0]

    def on_post(w, pre_tr, post_tr):
        wn = (w - w_min) / (w_max - w_min)
        return a_plus * f(1.0 - wn, mu_plus) * pre_tr[0]

    return (tau_plus,), (tau_minus,), on_pre, on_post


def triplet_rule(tau_plus, tau_minus, tau_x, tau_y, a2_plus, a3_plus, a2_minus, a3_minus):
    def on_pre(w, pre_tr, post_tr):
        return -post_tr[0] * (a2_minus + a3_minus * pre_tr[1])

    def on_post(w, pre_tr, post_tr):
        return pre_tr[0] * (a2_plus + a3_plus * post_tr[1])

    return (tau_plus, tau_x), (tau_minus, tau_y), on_pre, on_post


def simulate_synapse(w0, pre_times, post_times, rule, w_min, w_max, nearest=False):
    """Final weight and the weight just before each presynaptic spike (list)."""
    pre_taus, post_taus, on_pre, on_post = rule
    w = float(w0)
    before_pre = []
    for t in sorted(set(pre_times) | set(post_times)):
        pre_tr = [trace(pre_times, t, tau, nearest) for tau in pre_taus]
        post_tr = [trace(post_times, t, tau, nearest) for tau in post_taus]
        if t in pre_times:
            before_pre.append(w)
            w = min(max(w + on_pre(w, pre_tr, post_tr), w_min), w_max)
        if t in post_times:
            w = min(max(w + on_post(w, pre_tr, post_tr), w_min), w_max)
    return w, before_pre
