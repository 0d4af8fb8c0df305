"""Trace-based spike-timing-dependent plasticity: pair rule and triplet rule.

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

from .._validate import (
    as_float_array,
    check,
    check_finite,
    check_literal,
    check_nonnegative,
    check_positive,
    is_concrete,
)
from ..network import AbstractProjectionDynamics, Transmission
from ..ops import CSR
from ._events import column_index, weight_update_dense, weight_update_event

__all__ = ["AbstractSTDP", "PairSTDP", "TripletSTDP", "PFISTER_GERSTNER_2006"]

Interaction = Literal["all_to_all", "nearest"]
Update = Literal["event", "dense"]
INTERACTIONS: tuple[str, ...] = get_args(Interaction)
UPDATES: tuple[str, ...] = get_args(Update)


def _scalar(name: str, x):
    if jnp.ndim(x) != 0:
        raise ValueError(f"{name} must be a scalar (one value per projection), got shape {x.shape}")


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
        """Deliver through the current plastic weights, then learn from this step's spikes."""
        conn = drive.conn.with_weights(state["w"])
        return self.learn(state, conn, drive.pre, drive.post, dt), Transmission(drive.pre, conn)

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
        dtype = state["w"].dtype
        s_pre = pre_spikes.astype(dtype)
        s_post = post_spikes.astype(dtype)
        st = {
            **state,
            "pre_elapsed": jnp.minimum(state["pre_elapsed"] + 1, _MAX_ELAPSED),
            "post_elapsed": jnp.minimum(state["post_elapsed"] + 1, _MAX_ELAPSED),
        }
        pre_tr, post_tr = self.traces(st, dt)
        if self.update == "event":
            w = weight_update_event(self, state["w"], conn, state, pre_tr, post_tr, s_pre, s_post)
        else:
            w = weight_update_dense(self, state["w"], conn, pre_tr, post_tr, s_pre, s_post)
        pre_last, pre_el = self._bump(pre_tr, st["pre_last"], st["pre_elapsed"], s_pre)
        post_last, post_el = self._bump(post_tr, st["post_last"], st["post_elapsed"], s_post)
        return {
            **state,
            "w": w,
            "pre_last": pre_last,
            "pre_elapsed": pre_el,
            "post_last": post_last,
            "post_elapsed": post_el,
        }

    def _bump(self, tr, last, elapsed, s):
        """Add this step's spikes to the traces (+1, or set to 1 for nearest-spike)."""
        new = tr + s if self.interaction == "all_to_all" else tr + s * (1.0 - tr)
        spiked = s != 0
        return jnp.where(spiked, new, last), jnp.where(spiked, 0, elapsed)


_MAX_ELAPSED = 2**30  # steps; elapsed-time counters saturate here (traces are ~0 by then)


def _decayed(last, elapsed, taus, dt):
    gap = elapsed.astype(last.dtype) * dt
    return last * jnp.exp(-gap[None, :] / jnp.stack(taus)[:, None])


def _soft(base, mu):
    """``base ** mu`` for ``base >= 0`` with ``0 ** 0 = 1`` and finite gradients at mu = 0."""
    base = jnp.maximum(base, 0.0)
    safe = jnp.where(mu == 0, 1.0, base)
    return jnp.where(mu == 0, 1.0, jnp.power(safe, mu))


class PairSTDP(AbstractSTDP):
    r"""Pair-based STDP with power-law weight dependence (additive ... multiplicative).

    Traces: presynaptic :math:`x` (time constant :math:`\tau_+`), postsynaptic :math:`y`
    (:math:`\tau_-`), each incremented by 1 at its neuron's spikes (``"all_to_all"``) or set
    to 1 (``"nearest"``). With :math:`\tilde w = (w - w_{min}) / (w_{max} - w_{min})`:

    .. math::
        \text{pre spike: } w \leftarrow w - A_-\,\tilde w^{\mu_-}\,y, \qquad
        \text{post spike: } w \leftarrow w + A_+\,(1 - \tilde w)^{\mu_+}\,x

    then clipped to :math:`[w_{min}, w_{max}]`. For a pair with :math:`\Delta t = t_{post} -
    t_{pre}` this gives :math:`A_+ e^{-\Delta t/\tau_+}` for :math:`\Delta t > 0` and
    :math:`-A_- e^{\Delta t/\tau_-}` for :math:`\Delta t < 0`.

    * ``mu_plus = mu_minus = 0``: additive with hard bounds (Song, Miller & Abbott 2000,
      *Nat. Neurosci.* 3:919);
    * ``mu_plus = 0, mu_minus = 1``: additive potentiation, multiplicative depression
      (van Rossum, Bi & Turrigiano 2000, *J. Neurosci.* 20:8812);
    * ``mu_plus = mu_minus = 1``: multiplicative / soft bounds; intermediate ``mu``: the
      non-linear rule of Gütig et al. (2003, *J. Neurosci.* 23:3697).

    Args:
        tau_plus: presynaptic trace time constant (ms), > 0.
        tau_minus: postsynaptic trace time constant (ms), > 0.
        a_plus: potentiation amplitude (weight units, nS or pA), >= 0.
        a_minus: depression amplitude (weight units), >= 0.
        w_min, w_max: weight bounds (weight units), ``w_min < w_max``.
        mu_plus, mu_minus: weight-dependence exponents, >= 0.
        interaction: ``"all_to_all"`` (traces sum over spikes) or ``"nearest"``.
        update: ``"event"`` or ``"dense"`` (see :class:`AbstractSTDP`).

    Example:
        >>> import neurosim as ns
        >>> stdp = ns.plasticity.PairSTDP(tau_plus=20.0, tau_minus=20.0, a_plus=0.01,
        ...                               a_minus=0.0105, w_max=1.0)
    """

    tau_plus: jax.Array = eqx.field(converter=as_float_array)
    tau_minus: jax.Array = eqx.field(converter=as_float_array)
    a_plus: jax.Array = eqx.field(converter=as_float_array)
    a_minus: jax.Array = eqx.field(converter=as_float_array)
    w_min: jax.Array = eqx.field(converter=as_float_array)
    w_max: jax.Array = eqx.field(converter=as_float_array)
    mu_plus: jax.Array = eqx.field(converter=as_float_array)
    mu_minus: jax.Array = eqx.field(converter=as_float_array)
    interaction: Interaction = eqx.field(static=True)
    update: Update = eqx.field(static=True)

    def __init__(
        self,
        *,
        tau_plus=16.8,
        tau_minus=33.7,
        a_plus=0.01,
        a_minus=0.01,
        w_min=0.0,
        w_max=1.0,
        mu_plus=0.0,
        mu_minus=0.0,
        interaction: Interaction = "all_to_all",
        update: Update = "event",
    ):
        self.tau_plus, self.tau_minus = as_float_array(tau_plus), as_float_array(tau_minus)
        self.a_plus, self.a_minus = as_float_array(a_plus), as_float_array(a_minus)
        self.w_min, self.w_max = as_float_array(w_min), as_float_array(w_max)
        self.mu_plus, self.mu_minus = as_float_array(mu_plus), as_float_array(mu_minus)
        self.interaction, self.update = interaction, update
        for name in ("tau_plus", "tau_minus"):
            check_positive(name, getattr(self, name), "ms")
        for name in ("a_plus", "a_minus", "mu_plus", "mu_minus"):
            check_nonnegative(name, getattr(self, name))
        for name in ("tau_plus", "tau_minus", "a_plus", "a_minus", "w_min", "w_max"):
            _scalar(name, getattr(self, name))
        self._check_common()

    def pre_taus(self):
        return (self.tau_plus,)

    def post_taus(self):
        return (self.tau_minus,)

    def _norm(self, w):
        return (w - self.w_min) / (self.w_max - self.w_min)

    def on_pre(self, w, pre, post):
        return -self.a_minus * _soft(self._norm(w), self.mu_minus) * post[0]

    def on_post(self, w, pre, post):
        return self.a_plus * _soft(1.0 - self._norm(w), self.mu_plus) * pre[0]


# Pfister & Gerstner (2006), J. Neurosci. 26:9673, Table 4 (visual cortex data of Sjöström et
# al. 2001), tau_plus = 16.8 ms and tau_minus = 33.7 ms (from Bi & Poo 1998) for all sets.
# Amplitudes are relative to the weight scale. "minimal" sets have A2+ = A3- = 0 (tau_x unused).
PFISTER_GERSTNER_2006 = {
    ("visual_cortex", "all_to_all", "full"): dict(
        a2_plus=5e-10, a3_plus=6.2e-3, a2_minus=7e-3, a3_minus=2.3e-4, tau_x=101.0, tau_y=125.0
    ),
    ("visual_cortex", "all_to_all", "minimal"): dict(
        a2_plus=0.0, a3_plus=6.5e-3, a2_minus=7.1e-3, a3_minus=0.0, tau_x=101.0, tau_y=114.0
    ),
}


class TripletSTDP(AbstractSTDP):
    r"""Triplet STDP (Pfister & Gerstner 2006, *J. Neurosci.* 26:9673, eqs. 3–4).

    Presynaptic traces :math:`r_1` (:math:`\tau_+`), :math:`r_2` (:math:`\tau_x`),
    postsynaptic traces :math:`o_1` (:math:`\tau_-`), :math:`o_2` (:math:`\tau_y`):

    .. math::
        \text{pre spike at } t: &\ w \leftarrow w - o_1(t)\,[A_2^- + A_3^-\,r_2(t-\epsilon)] \\
        \text{post spike at } t: &\ w \leftarrow w + r_1(t)\,[A_2^+ + A_3^+\,o_2(t-\epsilon)]

    then clipped to ``[w_min, w_max]`` (additive, hard bounds). The amplitudes are in weight
    units: the published (relative) amplitudes times a weight scale, see
    :meth:`from_pfister_gerstner`. All traces are read before this step's spikes are added.

    Args:
        tau_plus, tau_minus, tau_x, tau_y: trace time constants (ms), > 0.
        a2_plus, a3_plus, a2_minus, a3_minus: pair/triplet amplitudes (weight units), >= 0.
        w_min, w_max: weight bounds.
        interaction: ``"all_to_all"`` (traces ``+= 1``) or ``"nearest"`` (traces set to 1).
        update: ``"event"`` or ``"dense"``.

    Example:
        >>> import neurosim as ns
        >>> rule = ns.plasticity.TripletSTDP.from_pfister_gerstner(
        ...     "visual_cortex", model="minimal", w_scale=1.0, w_max=2.0)
    """

    tau_plus: jax.Array = eqx.field(converter=as_float_array)
    tau_minus: jax.Array = eqx.field(converter=as_float_array)
    tau_x: jax.Array = eqx.field(converter=as_float_array)
    tau_y: jax.Array = eqx.field(converter=as_float_array)
    a2_plus: jax.Array = eqx.field(converter=as_float_array)
    a3_plus: jax.Array = eqx.field(converter=as_float_array)
    a2_minus: jax.Array = eqx.field(converter=as_float_array)
    a3_minus: jax.Array = eqx.field(converter=as_float_array)
    w_min: jax.Array = eqx.field(converter=as_float_array)
    w_max: jax.Array = eqx.field(converter=as_float_array)
    interaction: Interaction = eqx.field(static=True)
    update: Update = eqx.field(static=True)

    def __init__(
        self,
        *,
        tau_plus=16.8,
        tau_minus=33.7,
        tau_x=101.0,
        tau_y=125.0,
        a2_plus=5e-10,
        a3_plus=6.2e-3,
        a2_minus=7e-3,
        a3_minus=2.3e-4,
        w_min=0.0,
        w_max=1.0,
        interaction: Interaction = "all_to_all",
        update: Update = "event",
    ):
        names = ("tau_plus", "tau_minus", "tau_x", "tau_y")
        amps = ("a2_plus", "a3_plus", "a2_minus", "a3_minus")
        vals = dict(
            zip(
                names + amps,
                (tau_plus, tau_minus, tau_x, tau_y) + (a2_plus, a3_plus, a2_minus, a3_minus),
                strict=True,
            )
        )
        for k, v in vals.items():
            setattr(self, k, as_float_array(v))
        self.w_min, self.w_max = as_float_array(w_min), as_float_array(w_max)
        self.interaction, self.update = interaction, update
        for k in names:
            check_positive(k, getattr(self, k), "ms")
        for k in amps:
            check_nonnegative(k, getattr(self, k))
        for k in names + amps + ("w_min", "w_max"):
            _scalar(k, getattr(self, k))
        self._check_common()

    @classmethod
    def from_pfister_gerstner(
        cls,
        dataset: str = "visual_cortex",
        *,
        interaction: Interaction = "all_to_all",
        model: str = "minimal",
        w_scale=1.0,
        w_min=0.0,
        w_max=1.0,
        update: Update = "event",
    ) -> TripletSTDP:
        """A published parameter set (:data:`PFISTER_GERSTNER_2006`), amplitudes × ``w_scale``."""
        key = (dataset, interaction, model)
        if key not in PFISTER_GERSTNER_2006:
            raise ValueError(f"no published set {key}; available: {sorted(PFISTER_GERSTNER_2006)}")
        p = dict(PFISTER_GERSTNER_2006[key])
        for k in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            p[k] = p[k] * w_scale
        return cls(
            tau_plus=16.8,
            tau_minus=33.7,
            w_min=w_min,
            w_max=w_max,
            interaction=interaction,
            update=update,
            **p,
        )

    def pre_taus(self):
        return (self.tau_plus, self.tau_x)

    def post_taus(self):
        return (self.tau_minus, self.tau_y)

    def on_pre(self, w, pre, post):
        return -post[0] * (self.a2_minus + self.a3_minus * pre[1])

    def on_post(self, w, pre, post):
        return pre[0] * (self.a2_plus + self.a3_plus * post[1])
