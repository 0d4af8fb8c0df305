"""Per-projection dynamics (short-term plasticity, learning rules): the component interface."""

from __future__ import annotations

import abc
from typing import NamedTuple

import equinox as eqx
import jax

from .._component import AbstractComponent, replace_static
from .._validate import check_bound
from ..ops import AbstractConnectivity

__all__ = ["AbstractProjectionDynamics", "ProjectionDrive", "Transmission"]


class ProjectionDrive(NamedTuple):
    """What a projection's dynamics receive in a step.

    Attributes:
        conn: the projection's operator (its stored weights are the initial ones).
        pre: this step's presynaptic spikes after the projection's delay, ``(n_pre,)``.
        post: this step's postsynaptic spikes, ``(n_post,)``.
        backend: the projection's event-delivery backend (:data:`neurosim.ops.Backend`);
            dynamics that deliver the spikes themselves (:attr:`Transmission.out`) do so
            only where this backend allows it (``"auto"``, ``"ffi"``).
    """

    conn: AbstractConnectivity
    pre: jax.Array
    post: jax.Array
    backend: str = "auto"


class Transmission(NamedTuple):
    """What a projection delivers in a step: ``values`` ``(n_pre,)`` through operator ``conn``.

    ``values`` are graded presynaptic events (e.g. ``spike * u * x`` for Tsodyks–Markram),
    ``conn`` the operator to deliver them through (e.g. with the plastic weights of the state
    *before* this step's learning).

    ``out`` (not a tuple field: a transmission unpacks as ``values, conn``) is None, or
    ``values @ conn`` already computed by the dynamics (``(n_post,)``, weight units; STDP
    computes it in the same compiled pass as its weight update), attached with
    :meth:`with_out`; the network then uses it instead of delivering again (except with
    per-synapse delays, which deliver ``values`` through ``conn`` themselves).
    """

    values: jax.Array
    conn: AbstractConnectivity
    out = None  # a class attribute, not a field; see with_out

    def with_out(self, out) -> Transmission:
        """This transmission with its delivered input ``out = values @ conn`` attached."""
        t = _Delivered(self.values, self.conn)
        t.out = out
        return t


class _Delivered(Transmission):
    """A :class:`Transmission` carrying ``out`` (an instance attribute; ``_replace`` drops it)."""


class AbstractProjectionDynamics(AbstractComponent):
    """State carried by a projection from step to step (in ``NetworkState.projections``).

    A component (:mod:`neurosim._component`):

    * ``init(key, dt) -> dict``: the initial state, for the connectivity this object is bound
      to (:meth:`bind`; the network builder binds at ``connect``);
    * ``step(state, drive, i, dt, key) -> (state, Transmission)``: ``drive`` is a
      :class:`ProjectionDrive` (operator, presynaptic spikes after the delay, postsynaptic
      spikes of this step); the returned :class:`Transmission` is what is delivered this step
      and through which operator; the returned state already includes this step's learning.

    Plastic weights live in the state, so the network's own weights stay the initial ones and
    a run stays a pure function.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> class Halve(ns.network.AbstractProjectionDynamics):
        ...     def init(self, key, dt):
        ...         return {}
        ...     def step(self, state, drive, i, dt, key):
        ...         return state, ns.network.Transmission(0.5 * drive.pre, drive.conn)
    """

    conn: AbstractConnectivity | None = eqx.field(default=None, kw_only=True)

    def bind(self, conn: AbstractConnectivity) -> AbstractProjectionDynamics:
        """A copy bound to the projection's operator ``conn`` (sizes and initial weights)."""
        if not isinstance(conn, AbstractConnectivity):
            raise ValueError(
                f"bind needs the projection's connectivity operator (ns.ops.CSR, ...), got "
                f"{type(conn).__name__}"
            )
        return replace_static(self, conn=conn)

    def _bound_conn(self) -> AbstractConnectivity:
        check_bound(
            self,
            self.conn,
            f"call .bind(conn) first, e.g. {type(self).__name__}(...)"
            ".bind(ns.connectivity.from_dense(w))",
        )
        return self.conn

    @abc.abstractmethod
    def init(self, key, dt) -> dict:
        """Initial state of the bound projection."""

    @abc.abstractmethod
    def step(self, state: dict, drive: ProjectionDrive, i, dt, key) -> tuple[dict, Transmission]:
        """One step: ``(state after learning, Transmission(values, conn))``."""
