"""Trace-based spike-timing-dependent plasticity: the machinery shared by the rules
(:class:`AbstractSTDP`); the pair rule is in :mod:`neurosim.plasticity._pair`, the triplet
rule in :mod:`neurosim.plasticity._triplet`.

Weights live per synapse in the projection state (``state["w"]``, the CSR weight layout) and
are updated event-driven: a presynaptic spike updates its CSR row, a postsynaptic spike its
incoming synapses (through a column index built at ``init_state``).
"""

from __future__ import annotations

import abc
from typing import Literal, get_args

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check, check_finite, check_literal, is_concrete
from ..network import AbstractProjectionDynamics, Transmission
from ..ops import CSR
from . import _events
from ._events import column_index, deliver_and_update, weight_update_dense, weight_update_event

__all__ = ["AbstractSTDP", "Interaction", "Update", "check_scalar", "same_update"]

Interaction = Literal["all_to_all", "nearest"]
Update = Literal["event", "dense"]
INTERACTIONS: tuple[str, ...] = get_args(Interaction)
UPDATES: tuple[str, ...] = get_args(Update)


def check_scalar(name: str, x):
    """Refuse a per-synapse or per-neuron array where a rule takes one value."""
    if jnp.ndim(x) != 0:
        raise ValueError(f"{name} must be a scalar (one value per projection), got shape {x.shape}")


def same_update(rule, cls) -> bool:
    """True if ``rule`` updates weights with ``cls``'s methods (a subclass that redefines
    ``on_pre``, ``on_post``, ``_clip`` or ``_norm`` must not use ``cls``'s compiled kernel)."""
    names = ("on_pre", "on_post", "_clip", "_norm")
    return all(getattr(type(rule), n, None) is getattr(cls, n, None) for n in names)


class AbstractSTDP(AbstractProjectionDynamics):
    """Shared machinery of trace-based STDP rules (subclasses give traces and updates).

    Per step (after delivery, with this step's presynaptic spikes after the delay and this
    step's postsynaptic spikes):

    1. all traces decay exactly (each neuron's trace is stored as its value after the
       neuron's last spike plus the steps elapsed since, and decayed over the whole gap in
       one ``exp``: no accumulation of rounding over steps);
    2. each presynaptic spike updates its synapses with ``on_pre`` (depression), reading the
       traces *before* this step's spikes are added;
    3. each postsynaptic spike updates its incoming synapses with ``on_post`` (potentiation),
       reading the same (pre-increment) traces, on the weights after step 2;
    4. spikes are added to the traces (``+1`` all-to-all, or set to 1 for nearest-spike).

    So a pre and a post spike in the same step do not interact (Δt = 0 gives no change);
    every update is clipped to ``[w_min, w_max]``. Delivery in a step uses the weights before
    that step's update. ``update="event"`` loops over the neurons that spiked (CPU-efficient);
    ``update="dense"`` updates all synapses with masks (O(nnz) per step; no sequential loop,
    for accelerators). Both give the same result and the same derivatives (the event path's
    JVP is the dense one's): gradients reach the parameters, the initial weights and the
    values of the spikes that occurred (steps without a spike contribute none).
    """

    w_min: eqx.AbstractVar[jax.Array]
    w_max: eqx.AbstractVar[jax.Array]
    interaction: eqx.AbstractVar[Interaction]
    update: eqx.AbstractVar[Update]

    # -- to implement ---------------------------------------------------------------------
    @abc.abstractmethod
    def pre_taus(self) -> tuple:
        """Time constants (ms) of the presynaptic traces."""

    @abc.abstractmethod
    def post_taus(self) -> tuple:
        """Time constants (ms) of the postsynaptic traces."""

    @abc.abstractmethod
    def on_pre(self, w, pre, post):
        """Weight change at a presynaptic spike; ``pre``/``post`` are sequences of traces."""

    @abc.abstractmethod
    def on_post(self, w, pre, post):
        """Weight change at a postsynaptic spike."""

    def _kernel_spec(self) -> tuple[str, tuple] | None:
        """``(rule, params)`` for the compiled CPU update (:func:`neurosim.ops._ffi.
        stdp_update_ffi`) when it computes exactly this rule's ``on_pre``/``on_post``, else
        None (the pure-JAX event loops are used)."""
        return None

    # -- shared ---------------------------------------------------------------------------
    def _check_common(self):
        check_literal("interaction", self.interaction, INTERACTIONS)
        check_literal("update", self.update, UPDATES)
        check_finite("w_min", self.w_min)
        check_finite("w_max", self.w_max)
        check(lambda a: a > 0, "w_max - w_min", self.w_max - self.w_min, "must be > 0")

    def init(self, key, dt) -> dict:
        conn = self._bound_conn()
        if not isinstance(conn, CSR):
            raise ValueError(
                f"{type(self).__name__} needs stored synapses (ns.ops.CSR), got "
                f"{type(conn).__name__}; use a stored connectivity for plastic projections"
            )
        dtype = jnp.result_type(float)
        w0 = conn.synapse_weights().astype(dtype)
        concrete = is_concrete(conn.weights) and is_concrete(self.w_min) and is_concrete(self.w_max)
        if concrete and conn.nnz:
            lo, hi = np.asarray(self.w_min), np.asarray(self.w_max)
            w_np = np.broadcast_to(np.asarray(conn.weights), conn.indices.shape)[: conn.nnz]
            if w_np.min() < lo or w_np.max() > hi:
                raise ValueError(
                    f"initial weights must lie in [w_min, w_max] = [{lo:g}, {hi:g}], got "
                    f"[{w_np.min():g}, {w_np.max():g}]; adjust the weights or the bounds"
                )
        w = jnp.zeros(conn.indices.shape[0], dtype).at[: conn.nnz].set(w0)
        state = {
            "w": w,
            "pre_last": jnp.zeros((len(self.pre_taus()), conn.n_pre), dtype),
            "pre_elapsed": jnp.zeros((conn.n_pre,), jnp.int32),
            "post_last": jnp.zeros((len(self.post_taus()), conn.n_post), dtype),
            "post_elapsed": jnp.zeros((conn.n_post,), jnp.int32),
        }
        if self.update == "event":
            state.update(column_index(conn))
        return state

    def step(self, state, drive, i, dt, key):
        """Deliver through the current plastic weights, then learn from this step's spikes.

        With ``update="event"`` on CPU, when the compiled kernel applies (see
        :func:`neurosim.plasticity._events.use_kernel`) and the projection's backend is
        ``"auto"`` or ``"ffi"``, one kernel pass delivers the spikes (through the weights
        before the update) and updates the weights in place: the returned
        :class:`~neurosim.network.Transmission` carries the delivered input (``out``).
        """
        conn = drive.conn.with_weights(state["w"])
        w = state["w"]
        fuse = (
            self.update == "event"
            and drive.backend in ("auto", "ffi")
            and conn.out_dtype(drive.pre) == w.dtype
            and _events.use_kernel(self, w)
        )
        state, out = self._learn(state, conn, drive.pre, drive.post, dt, deliver=fuse)
        tr = Transmission(drive.pre, conn)
        return state, tr if out is None else tr.with_out(out)

    def _clip(self, w):
        return jnp.clip(w, self.w_min, self.w_max)

    def traces(self, state, dt) -> tuple[jax.Array, jax.Array]:
        """Current traces ``(pre (K_pre, n_pre), post (K_post, n_post))`` (before this step's
        spikes): the value after each neuron's last spike decayed exactly over the gap."""
        return (
            _decayed(state["pre_last"], state["pre_elapsed"], self.pre_taus(), dt),
            _decayed(state["post_last"], state["post_elapsed"], self.post_taus(), dt),
        )

    def learn(self, state, conn, pre_spikes, post_spikes, dt):
        """The state after this step's learning (traces, weights); ``conn`` holds the
        weights of ``state``."""
        return self._learn(state, conn, pre_spikes, post_spikes, dt, deliver=False)[0]

    def _learn(self, state, conn, pre_spikes, post_spikes, dt, deliver: bool):
        """``(state after learning, pre_spikes @ W before the update or None)``; the
        delivery is computed only with ``deliver`` (fused with the event update)."""
        dtype = state["w"].dtype
        s_pre = pre_spikes.astype(dtype)
        s_post = post_spikes.astype(dtype)
        st = {
            **state,
            "pre_elapsed": jnp.minimum(state["pre_elapsed"] + 1, _MAX_ELAPSED),
            "post_elapsed": jnp.minimum(state["post_elapsed"] + 1, _MAX_ELAPSED),
        }
        pre_tr, post_tr = self.traces(st, dt)
        args = (self, state["w"], conn, state, pre_tr, post_tr, s_pre, s_post)
        out = None
        if deliver:
            out, w = deliver_and_update(*args)
        elif self.update == "event":
            w = weight_update_event(*args)
        else:
            w = weight_update_dense(self, state["w"], conn, pre_tr, post_tr, s_pre, s_post)
        pre_last, pre_el = self._bump(pre_tr, st["pre_last"], st["pre_elapsed"], s_pre)
        post_last, post_el = self._bump(post_tr, st["post_last"], st["post_elapsed"], s_post)
        new = {
            **state,
            "w": w,
            "pre_last": pre_last,
            "pre_elapsed": pre_el,
            "post_last": post_last,
            "post_elapsed": post_el,
        }
        return new, out

    def _bump(self, tr, last, elapsed, s):
        """Add this step's spikes to the traces (+1, or set to 1 for nearest-spike)."""
        new = tr + s if self.interaction == "all_to_all" else tr + s * (1.0 - tr)
        spiked = s != 0
        return jnp.where(spiked, new, last), jnp.where(spiked, 0, elapsed)


_MAX_ELAPSED = 2**30  # steps; elapsed-time counters saturate here (traces are ~0 by then)


def _decayed(last, elapsed, taus, dt):
    gap = elapsed.astype(last.dtype) * dt
    return last * jnp.exp(-gap[None, :] / jnp.stack(taus)[:, None])
