r"""Plasticity on projections with per-synapse delays: the delays are dendritic.

Semantics (NEST's convention for its ``stdp_synapse`` family, where the synaptic delay is the
*dendritic* delay: "the delay between arrival of a spike at the dendritic spine and the time
at which its effects are felt at the soma (or conversely, the delay between a somatic action
potential and the arrival at the dendritic spine due to dendritic backpropagation)", NESTML
documentation, *Synapses in NESTML: dendritic delay*; Morrison, Diesmann & Gerstner 2008,
*Biol. Cybern.* 98:459):

* a presynaptic spike of neuron ``i`` at step ``s`` reaches synapse ``ij`` at once; its
  value is evaluated then (Tsodyks–Markram's ``u x`` at the spike, the plastic weight before
  this step's update) and arrives at the soma of ``j`` ``d_ij`` steps later, unchanged;
* a postsynaptic spike of ``j`` at step ``s'`` reaches synapse ``ij`` at step ``s' + d_ij``;
* so STDP pairs ``Δt = t_post + d_ij - t_pre`` for every synapse: at a presynaptic spike the
  synapse reads the postsynaptic traces of ``d_ij`` steps earlier; at the arrival of a
  postsynaptic spike it reads the presynaptic traces of now. Pre and post events at the
  synapse in the same step do not interact (``Δt = 0``, as without delays and as NEST
  discards exactly coinciding pairs); the presynaptic update comes first.

With ``d_ij = 0`` this is the undelayed rule exactly. ``d_ij = round(delay_ij / dt)``, as
for delivery (:mod:`neurosim.network._delays`). Short-term plasticity needs nothing extra:
its state is per presynaptic neuron and is updated at emission.

Homogeneous delays (a number as ``delay=``) differ: the whole spike is delayed before the
projection's dynamics see it (a ring of past presynaptic spikes), so STP and STDP act at
arrival and STDP pairs ``t_post - (t_pre + d)`` (an axonal delay). A per-synapse
``ns.init.Constant(d)`` therefore delivers the same input as ``delay=d`` but learns with the
dendritic pairing above.

Cost: a ring of the postsynaptic traces and spikes, ``(D, n_post)`` per trace
(``D = max_ij d_ij + 1``), and a masked update of all synapses per step (``O(nnz)``; the
``update`` option of the rule is not used here).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..network import AbstractProjectionDynamics, Transmission
from ..ops import CSR
from ._stdp import _MAX_ELAPSED, AbstractSTDP

__all__ = ["DendriticDelaySTDP", "with_synapse_delays"]


def _steps(delays, dt):
    # The rounding of the delivery ring (network._delays): round(delay / dt), delays' dtype.
    return jnp.round(delays / jnp.asarray(dt, delays.dtype)).astype(jnp.int32)


class DendriticDelaySTDP(AbstractProjectionDynamics):
    """An STDP rule whose synapses pair spikes across their own (dendritic) delays.

    Made by the network builder for a plastic projection with per-synapse delays (see
    :func:`with_synapse_delays`); the state is the rule's plus the rings of the
    postsynaptic traces and spikes (``post_trace_ring``, ``post_spike_ring``, ``ring_step``).

    Attributes:
        rule: the STDP rule (``ns.plasticity.PairSTDP``, ``TripletSTDP``).
        delays: per-synapse delays (ms), CSR order, shape ``(nnz,)``.
        max_delay: the largest delay (ms; static, sizes the rings).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> W = ns.ops.CSR.from_arrays([0, 1], [0], 0.5, n_post=1)
        >>> rule = ns.plasticity.PairSTDP()
        >>> dyn = ns.plasticity.DendriticDelaySTDP(rule, jnp.array([1.0]), 1.0).bind(W)
        >>> dyn.init(None, 0.1)["post_trace_ring"].shape  # 1 ms / 0.1 ms + 1 steps, 1 trace
        (11, 1, 1)
    """

    rule: AbstractSTDP
    delays: jax.Array
    max_delay: float = eqx.field(static=True)

    def _ring_len(self, dt) -> int:
        dtype = np.dtype(self.delays.dtype)
        return int(np.round(np.asarray(self.max_delay, dtype) / np.asarray(dt, dtype))) + 1

    def init(self, key, dt) -> dict:
        conn = self._bound_conn()
        st = self.rule.bind(conn).init(key, dt)
        D = self._ring_len(dt)
        dtype = st["w"].dtype
        st["post_trace_ring"] = jnp.zeros((D, len(self.rule.post_taus()), conn.n_post), dtype)
        st["post_spike_ring"] = jnp.zeros((D, conn.n_post), dtype)
        st["ring_step"] = jnp.zeros((), jnp.int32)
        return st

    def step(self, state, drive, i, dt, key):
        """Deliver through the plastic weights (before this step's update), then learn."""
        conn = drive.conn.with_weights(state["w"])
        return self.learn(state, conn, drive.pre, drive.post, dt), Transmission(drive.pre, conn)

    def learn(self, state, conn, pre_spikes, post_spikes, dt):
        rule = self.rule
        dtype = state["w"].dtype
        s_pre, s_post = pre_spikes.astype(dtype), post_spikes.astype(dtype)
        st = {
            **state,
            "pre_elapsed": jnp.minimum(state["pre_elapsed"] + 1, _MAX_ELAPSED),
            "post_elapsed": jnp.minimum(state["post_elapsed"] + 1, _MAX_ELAPSED),
        }
        pre_tr, post_tr = rule.traces(st, dt)  # before this step's spikes
        ring_y, ring_s, t = state["post_trace_ring"], state["post_spike_ring"], state["ring_step"]
        D = ring_y.shape[0]
        ring_y = ring_y.at[t % D].set(post_tr)
        ring_s = ring_s.at[t % D].set(s_post)
        nnz = conn.nnz
        pre_ids, post_ids = conn.row_ids(), conn.indices[:nnz]
        src = (t - jnp.clip(_steps(self.delays[:nnz], dt), 0, D - 1)) % D
        a = pre_tr[:, pre_ids]  # presynaptic traces now
        b = jnp.moveaxis(ring_y[src, :, post_ids], -1, 0)  # postsynaptic traces d_ij ago
        arrive = ring_s[src, post_ids]  # postsynaptic spikes reaching the synapse now
        sp = s_pre[pre_ids]
        wn = state["w"][:nnz]
        wn = jnp.where(sp != 0, rule._clip(wn + sp * rule.on_pre(wn, a, b)), wn)
        wn = jnp.where(arrive != 0, rule._clip(wn + arrive * rule.on_post(wn, a, b)), wn)
        pre_last, pre_el = rule._bump(pre_tr, st["pre_last"], st["pre_elapsed"], s_pre)
        post_last, post_el = rule._bump(post_tr, st["post_last"], st["post_elapsed"], s_post)
        return {
            **state,
            "w": state["w"].at[:nnz].set(wn),
            "pre_last": pre_last,
            "pre_elapsed": pre_el,
            "post_last": post_last,
            "post_elapsed": post_el,
            "post_trace_ring": ring_y,
            "post_spike_ring": ring_s,
            "ring_step": t + 1,
        }


def with_synapse_delays(dynamics, conn, delays, max_delay: float, name: str = "projection"):
    """The dynamics to run on a projection with per-synapse delays (ms).

    Short-term plasticity (state per presynaptic neuron, applied at emission) is returned
    unchanged; an STDP rule becomes :class:`DendriticDelaySTDP` (it needs stored CSR
    connectivity); a :class:`neurosim.plasticity.Stack` maps its members. Other dynamics are
    returned unchanged: they see this step's presynaptic spikes at emission.
    """
    from ._stack import Stack

    if isinstance(dynamics, Stack):
        members = (with_synapse_delays(m, conn, delays, max_delay, name) for m in dynamics.members)
        return Stack(*members).bind(conn)
    if isinstance(dynamics, AbstractSTDP):
        if not isinstance(conn, CSR):
            raise ValueError(
                f"projection {name!r}: {type(dynamics).__name__} with per-synapse delays needs "
                f"stored CSR connectivity (one weight per stored synapse), got "
                f"{type(conn).__name__}; build it with ns.connectivity.FixedProbability(p) "
                "(procedural=False) or format='csr'"
            )
        return DendriticDelaySTDP(dynamics, delays, float(max_delay)).bind(conn)
    return dynamics
