"""Triplet STDP (Pfister & Gerstner 2006) and its published parameter sets."""

from __future__ import annotations

import equinox as eqx
import jax

from .._validate import as_float_array, check_nonnegative, check_positive
from ._stdp import AbstractSTDP, Interaction, Update, check_scalar, same_update

__all__ = ["TripletSTDP", "PFISTER_GERSTNER_2006"]


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
            check_scalar(k, getattr(self, k))
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

    def _kernel_spec(self):
        if not same_update(self, TripletSTDP):
            return None
        return "triplet", (
            self.a2_plus,
            self.a3_plus,
            self.a2_minus,
            self.a3_minus,
            self.w_min,
            self.w_max,
        )
