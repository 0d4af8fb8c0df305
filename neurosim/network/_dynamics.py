"""Per-projection dynamic state: the hook for short-term plasticity and learning rules."""

from __future__ import annotations

import equinox as eqx

from ..ops import AbstractConnectivity

__all__ = ["AbstractProjectionDynamics"]


class AbstractProjectionDynamics(eqx.Module):
    """State carried by a projection from step to step (in ``NetworkState.projections``).

    Each step, for a projection with dynamics:

    1. ``transmit(state, conn, pre_spikes, dt) -> (state, values, conn)``: before delivery.
       ``values`` (shape ``(n_pre,)``) is what is delivered per presynaptic neuron (graded
       spikes, e.g. ``spike * u * x`` for Tsodyks–Markram), ``conn`` the operator to deliver
       through (e.g. with plastic weights held in ``state``).
    2. ``learn(state, conn, pre_spikes, post_spikes, dt) -> state``: after delivery, with this
       step's presynaptic spikes (after the projection's delay) and postsynaptic spikes.

    ``init_state(conn, key) -> dict`` gives the initial state. Plastic weights live in the
    state, so the network's own weights stay the initial ones and a run stays a pure function.
    """

    def init_state(self, conn: AbstractConnectivity, key) -> dict:
        return {}

    def transmit(self, state: dict, conn: AbstractConnectivity, pre_spikes, dt):
        return state, pre_spikes, conn

    def learn(self, state: dict, conn: AbstractConnectivity, pre_spikes, post_spikes, dt) -> dict:
        return state
