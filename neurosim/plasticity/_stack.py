"""Several projection dynamics on one projection (e.g. short-term plasticity and STDP)."""

from __future__ import annotations

import jax

from ..network._dynamics import AbstractProjectionDynamics
from ._delayed import DendriticDelaySTDP
from ._stdp import AbstractSTDP

__all__ = ["Stack"]


def _owns_weights(m) -> bool:
    return isinstance(m, (AbstractSTDP, DendriticDelaySTDP))


class Stack(AbstractProjectionDynamics):
    """Projection dynamics applied in order on one projection, e.g. STP and STDP together.

    Each step:

    1. *transmit*, in the members' order: member ``k`` receives the values and the operator
       that member ``k - 1`` returned (the first one the presynaptic spikes after the delay
       and the projection's operator). So ``Stack(TsodyksMarkram(...), PairSTDP(...))``
       delivers ``w_ij(t) * u_i x_i`` per spike: Tsodyks–Markram scales the delivered values
       (``spike * u * x``), STDP supplies the operator with the plastic weights (held in the
       state, before this step's update), and the order of the two does not matter.
    2. *learn*, in the members' order, each with the raw presynaptic spikes (not values
       scaled by earlier members: STDP pairs spike times, not release amplitudes), this
       step's postsynaptic spikes and the operator of step 1.

    The state is the members' state dicts merged into one, so each member's variables are
    recorded by their own names (``ns.Trace("E->P.u")``, ``ns.Trace("E->P.w")``) and
    :func:`neurosim.plasticity.plastic_weights` reads the weights as for a lone rule.

    Refused (``ValueError``): no member; a member that is not projection dynamics; two
    members that own plastic weights (two STDP rules would each update their own copy of
    ``w`` and only one could be delivered: combine them into one rule instead); members
    whose state variables share a name. Nested stacks are flattened.

    Args:
        *members: projection dynamics (``ns.plasticity.TsodyksMarkram``, ``PairSTDP``, ...).

    Example:
        >>> import neurosim as ns
        >>> dyn = ns.plasticity.Stack(
        ...     ns.plasticity.TsodyksMarkram(U=0.2, tau_rec=200.0, tau_facil=50.0),
        ...     ns.plasticity.PairSTDP(a_plus=0.01, a_minus=0.012, w_max=2.0))
    """

    members: tuple[AbstractProjectionDynamics, ...]
    init_takes_dt = True  # init_state(conn, key, dt): members with delay rings need dt

    def __init__(self, *members):
        flat = []
        for k, m in enumerate(members):
            if isinstance(m, Stack):
                flat.extend(m.members)
            elif isinstance(m, AbstractProjectionDynamics):
                flat.append(m)
            else:
                raise ValueError(
                    f"Stack member {k} must be projection dynamics (ns.plasticity."
                    f"TsodyksMarkram, PairSTDP, ...), got {type(m).__name__}"
                )
        if not flat:
            raise ValueError("Stack needs at least one member, e.g. Stack(TsodyksMarkram(...))")
        owners = [type(m).__name__ for m in flat if _owns_weights(m)]
        if len(owners) > 1:
            raise ValueError(
                f"Stack members {owners} both own the projection's plastic weights; a "
                "projection delivers one weight per synapse: keep one learning rule per "
                "projection (combine the rules into one, or use two projections)"
            )
        self.members = tuple(flat)

    # -- state layout ---------------------------------------------------------------------
    def _keys(self, conn) -> list[tuple[str, ...]]:
        """Each member's state variable names (from the shapes of its initial state)."""
        key = jax.random.key(0)
        return [
            m.state_names(conn)
            if isinstance(m, DendriticDelaySTDP)
            else tuple(jax.eval_shape(lambda m=m: m.init_state(conn, key)))
            for m in self.members
        ]

    def _split(self, state, conn) -> list[dict]:
        return [{k: state[k] for k in keys} for keys in self._keys(conn)]

    def init_state(self, conn, key, dt=None) -> dict:
        merged, owner = {}, {}
        for k, m in enumerate(self.members):
            k_m = jax.random.fold_in(key, k)
            if isinstance(m, DendriticDelaySTDP):
                st = m.init_state(conn, k_m, dt)
            else:
                st = m.init_state(conn, k_m)
            for name, value in st.items():
                if name in merged:
                    raise ValueError(
                        f"Stack members {type(self.members[owner[name]]).__name__} and "
                        f"{type(m).__name__} both have a state variable {name!r}; stack "
                        "members must keep distinct state (one rule of each kind per projection)"
                    )
                merged[name], owner[name] = value, k
        return merged

    def transmit(self, state, conn, pre_spikes, dt):
        parts = self._split(state, conn)
        values, out_conn, new = pre_spikes, conn, {}
        for m, st in zip(self.members, parts, strict=True):
            st, values, out_conn = m.transmit(st, out_conn, values, dt)
            new.update(st)
        return new, values, out_conn

    def learn(self, state, conn, pre_spikes, post_spikes, dt) -> dict:
        new = {}
        for m, st in zip(self.members, self._split(state, conn), strict=True):
            new.update(m.learn(st, conn, pre_spikes, post_spikes, dt))
        return new
