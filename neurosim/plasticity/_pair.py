"""Pair-based STDP with power-law weight dependence (additive ... multiplicative)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import as_float_array, check_nonnegative, check_positive
from ._stdp import AbstractSTDP, Interaction, Update, check_scalar, same_update

__all__ = ["PairSTDP"]


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
            check_scalar(name, getattr(self, name))
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

    def _kernel_spec(self):
        if not same_update(self, PairSTDP):
            return None
        return "pair", (
            self.a_plus,
            self.a_minus,
            self.w_min,
            self.w_max,
            self.mu_plus,
            self.mu_minus,
        )
