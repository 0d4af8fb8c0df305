"""Builder (a): a whole-brain rate network, one neural-mass node per region."""

from __future__ import annotations

from typing import NamedTuple

from .. import rates
from ._connectome import Connectome

__all__ = ["RateNetwork", "rate_network"]


class RateNetwork(NamedTuple):
    """What :func:`rate_network` returns (unpack it, or pass the fields to ``ns.rates.simulate``).

    Attributes:
        model: the node population (one node per region, node ``i`` = ``connectome.labels[i]``).
        coupling: :class:`neurosim.rates.LinearCoupling` with the connectome's weights
            (``W[i, j]`` from j to i), the global strength ``G`` and the delays (ms).
        connectome: the connectome actually used (after normalisation / self-connection removal).
    """

    model: rates.AbstractRateModel
    coupling: rates.LinearCoupling
    connectome: Connectome


def rate_network(
    connectome: Connectome,
    model=None,
    *,
    G: float = 0.3,
    velocity: float | None = 3.0,
    normalize: str | None = "row_sum",
    self_connections: bool = False,
) -> RateNetwork:
    r"""One neural-mass node per region, coupled by the connectome with tract-length delays.

    Node ``i`` receives ``c_i = G \sum_j W_{ij} y_j(t - L_{ij} / v)`` where ``y`` is the
    model's output (``S_E`` for the Wong–Wang models) and ``W`` the (normalised) weights.
    Today the result is simulated with ``ns.rates.simulate(net.model, net.coupling, ...)``; once
    rate populations live in the network builder, only this function changes.

    Args:
        connectome: the structural connectome.
        model: a rate model with ``n == connectome.n`` nodes, a rate-model class called as
            ``model(n)``, or None for :class:`neurosim.rates.ReducedWongWangEI` (Deco et al.
            2014, TVB's defaults).
        G: global coupling strength (dimensionless for the Wong–Wang models: ``c`` multiplies
            ``J_N``). The default 0.3 with row-sum weights keeps TVB's 76-region connectome in
            the low-rate state (r_E 3-8 Hz) near the largest FC-SC correlation we found
            (about 0.2 on S_E; ``examples/whole_brain.py``); from G ~ 0.5 regions saturate.
        velocity: conduction velocity (m/s = mm/ms), > 0; default 3 m/s (TVB's default
            ``Connectivity.speed``). None: no delays.
        normalize: ``"row_sum"`` (default: the inputs of each region sum to 1, so ``c`` is
            ``G`` times a weighted mean of ``S_E``), ``"max"`` (largest weight 1) or None
            (weights as given). Applied after removing self-connections.
        self_connections: keep the diagonal of ``W`` (default False: a node's own recurrence is
            part of the node model).

    Returns:
        A :class:`RateNetwork` ``(model, coupling, connectome)``.

    Example:
        >>> import jax, numpy as np, neurosim as ns
        >>> con = ns.connectome.Connectome(np.ones((3, 3)), centres=np.eye(3) * 30.0)
        >>> net = ns.connectome.rate_network(con, G=0.5)
        >>> res = ns.rates.simulate(net.model, net.coupling, 100.0, 0.1, key=jax.random.key(0))
    """
    if not isinstance(connectome, Connectome):
        raise TypeError(f"connectome must be a ns.connectome.Connectome, got {type(connectome)}")
    con = connectome if self_connections else connectome.without_self_connections()
    if normalize is not None:
        con = con.normalized(normalize)
    n = con.n
    if model is None:
        model = rates.ReducedWongWangEI(n)
    elif isinstance(model, type):
        if not issubclass(model, rates.AbstractRateModel):
            raise TypeError(f"model must be a neurosim.rates model class, got {model.__name__}")
        model = model(n)
    if not isinstance(model, rates.AbstractRateModel):
        raise TypeError(
            f"model must be a neurosim.rates model (instance or class), got {type(model).__name__}"
        )
    if model.n != n:
        raise ValueError(
            f"model has n={model.n} nodes but the connectome has {n} regions; build it with "
            f"n={n} (or pass the class)"
        )
    delays = None if velocity is None else con.delays(velocity)
    coupling = rates.LinearCoupling(con.weights, G=G, delays=delays)
    return RateNetwork(model=model, coupling=coupling, connectome=con)
