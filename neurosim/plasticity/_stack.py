"""Several projection dynamics on one projection (e.g. short-term plasticity and STDP)."""

from __future__ import annotations

import jax

from ..network import AbstractProjectionDynamics, Transmission
from ._delayed import DendriticDelaySTDP
from ._stdp import AbstractSTDP

__all__ = ["Stack"]


def _owns_weights(m) -> bool:
    return isinstance(m, (AbstractSTDP, DendriticDelaySTDP))


class Stack(AbstractProjectionDynamics):
    """Projection dynamics applied in order on one projection, e.g. STP and STDP together.

    Each step the members step in order; member ``k`` gets the operator that member ``k - 1``
    returned (the first one the projection's operator) and this step's postsynaptic spikes.
    Members that own the plastic weights (STDP) get the raw presynaptic spikes (STDP pairs
    spike times, not release amplitudes) and supply the operator (with the plastic weights
    before this step's update); the others (short-term plasticity, custom value rules) get
    the values the previous value member returned and scale them. So
    ``Stack(TsodyksMarkram(...), PairSTDP(...))`` delivers ``w_ij(t) * u_i x_i`` per spike,
    whatever the order of the two members.

    The state is the members' state dicts merged into one, so each member's variables are
    recorded by their own names (``ns.Trace("E->P.u")``, ``ns.Trace("E->P.w")``) and
    :func:`neurosim.plasticity.plastic_weights` reads the weights as for a lone rule.

    Refused (``ValueError``): no member; a member that is not projection dynamics; two
    members that own plastic weights (two STDP rules would each update their own copy of
    ``w`` and only one could be delivered: combine them into one rule instead); members
    whose state variables share a name. Nested stacks are flattened.

    Args:
        *members: projection dynamics (``ns.plasticity.TsodyksMarkram``, ``PairSTDP``, ...).
        conn: the operator it is bound to (the network builder binds it; see ``bind``).

    Example:
        >>> import neurosim as ns
        >>> dyn = ns.plasticity.Stack(
        ...     ns.plasticity.TsodyksMarkram(U=0.2, tau_rec=200.0, tau_facil=50.0),
        ...     ns.plasticity.PairSTDP(a_plus=0.01, a_minus=0.012, w_max=2.0))
    """

    members: tuple[AbstractProjectionDynamics, ...]

    def __init__(self, *members, conn=None):
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
        self.conn = conn

    # -- state layout ---------------------------------------------------------------------
    def _bound(self, conn) -> list:
        return [m.bind(conn) for m in self.members]

    def _keys(self, conn) -> list[tuple[str, ...]]:
        """Each member's state variable names (from the shapes of its initial state)."""
        key = jax.random.key(0)
        return [tuple(jax.eval_shape(lambda m=m: m.init(key, 1.0))) for m in self._bound(conn)]

    def init(self, key, dt) -> dict:
        merged, owner = {}, {}
        members = self._bound(self._bound_conn())
        for k, m in enumerate(members):
            st = m.init(jax.random.fold_in(key, k), dt)
            for name, value in st.items():
                if name in merged:
                    raise ValueError(
                        f"Stack members {type(members[owner[name]]).__name__} and "
                        f"{type(m).__name__} both have a state variable {name!r}; stack "
                        "members must keep distinct state (one rule of each kind per projection)"
                    )
                merged[name], owner[name] = value, k
        return merged

    def step(self, state, drive, i, dt, key):
        parts = [{k: state[k] for k in keys} for keys in self._keys(drive.conn)]
        values, conn, new = drive.pre, drive.conn, {}
        fused, fused_conn = None, None
        for k, (m, st) in enumerate(zip(self._bound(drive.conn), parts, strict=True)):
            owner = _owns_weights(m)
            k_m = None if key is None else jax.random.fold_in(key, k)
            pre = drive.pre if owner else values
            st, tr = m.step(st, drive._replace(conn=conn, pre=pre), i, dt, k_m)
            values = values if owner else tr.values
            conn = tr.conn
            if owner:
                fused, fused_conn = tr.out, tr.conn
            new.update(st)
        # The owner's own delivery (of the raw spikes) is this step's input only if no
        # member changed the values or the operator after it.
        if values is not drive.pre or conn is not fused_conn:
            fused = None
        tr = Transmission(values, conn)
        return new, tr if fused is None else tr.with_out(fused)
