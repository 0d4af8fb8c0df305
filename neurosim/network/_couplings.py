"""Cross-scale couplings: spiking populations <-> rate (neural-mass) populations.

A cross-scale coupling connects a spiking population (or group), whose neurons are assigned
to regions, to the nodes of a rate population (region ``k`` <-> node ``nodes[k]``), with a
homogeneous delay of whole steps. Add them with :meth:`neurosim.NetworkBuilder.couple`.

* spiking -> rate: :class:`PopulationActivity` (exponentially filtered population rate per
  region, Hz) or :class:`SynapticActivity` (mean of a receptor's variable per region) is added,
  times ``G``, to the node's coupling input ``c``.
* rate -> spiking: :class:`CurrentDrive` injects ``offset + G * y`` (pA) into every neuron of
  the region; :class:`RateDrive` sets the rate ``offset + G * y`` (Hz) of a spike-source
  population (e.g. ``ns.neurons.PoissonSource``) whose rate follows the node.

``y`` is the node's ``output`` (or the state variable / observable named by ``variable``).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import AbstractComponent, replace_static
from .._validate import check_finite, check_positive

__all__ = [
    "AbstractCrossCoupling",
    "PopulationActivity",
    "SynapticActivity",
    "CurrentDrive",
    "RateDrive",
    "filtered_rate",
]


def _scalar(name: str, value) -> jax.Array:
    arr = jnp.asarray(value, dtype=jnp.result_type(float))
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {tuple(arr.shape)}")
    check_finite(name, arr)
    return arr


def filtered_rate(r, fraction, dt, tau):
    r"""One step of the exponential rate filter (Hz).

    :math:`r \leftarrow a r + (1 - a)\, f / (dt \cdot 10^{-3})` with :math:`a = e^{-dt/\tau}`,
    ``f`` the fraction of the region's neurons that spiked this step. For Poisson spiking at
    :math:`\nu` Hz the filtered rate's mean is exactly :math:`\nu` (per-step spike fraction
    :math:`\nu\, dt\, 10^{-3}`).
    """
    a = jnp.exp(-dt / tau)
    return a * r + (1.0 - a) * fraction / (dt * 1e-3)


class AbstractCrossCoupling(AbstractComponent):
    """A coupling between a spiking population and a rate population (see module docs).

    ``direction`` is ``"spiking->rate"`` or ``"rate->spiking"``; ``G`` the coupling strength
    (an array leaf: differentiable, changing it does not recompile). As a component,
    ``step(state, drive, i, dt, key) -> (state, signal)`` maps this step's per-region drive
    (spiking -> rate: the raw region summary; rate -> spiking: the node signal ``y``) to the
    coupling's signal; ``bind(n_regions)`` sizes a stateful one.
    """

    G: eqx.AbstractVar[jax.Array]
    direction: ClassVar[str]

    def init(self, key, dt) -> dict:
        """No state (stateless couplings)."""
        return {}

    def step(self, state, drive, i, dt, key):
        """The identity (stateless couplings override ``value``)."""
        return state, drive

    def bind(self, n: int):
        """A copy for ``n`` regions (a no-op for stateless couplings)."""
        return self

    @abc.abstractmethod
    def describe(self) -> str:
        """One-line description (for ``Network.summary``)."""


class PopulationActivity(AbstractCrossCoupling):
    r"""Spiking -> rate: the population rate of each region (Hz), low-pass filtered.

    Each step the fraction ``f`` of the region's neurons that spiked updates
    :math:`r \leftarrow a r + (1-a) f / dt` (:func:`filtered_rate`, ``a = exp(-dt/tau)``);
    ``G * r`` is added to the node's coupling input. Spikes are not differentiable, so use
    :class:`SynapticActivity` for gradients through the spiking side.

    Args:
        G: strength (units of the node's input per Hz).
        tau: filter time constant (ms), > 0.

    Example:
        >>> import neurosim as ns
        >>> cpl = ns.network.PopulationActivity(G=0.01, tau=10.0)
    """

    G: jax.Array
    tau: jax.Array
    n: int | None = eqx.field(static=True, default=None)
    direction: ClassVar[str] = "spiking->rate"

    def __init__(self, G=1.0, tau=10.0, n: int | None = None):
        self.G = _scalar("G", G)
        check_positive("tau", tau, "ms")
        self.tau = _scalar("tau", tau)
        self.n = n

    def bind(self, n: int):
        return replace_static(self, n=int(n))

    def init(self, key, dt) -> dict:
        if self.n is None:
            raise ValueError(
                "PopulationActivity is not bound to a number of regions; add it with "
                "NetworkBuilder.couple (or call .bind(n) first)"
            )
        return {"r": jnp.zeros((self.n,), jnp.result_type(float))}

    def step(self, state, drive, i, dt, key):
        """``drive``: fraction of each region's neurons that spiked; out: the rate (Hz)."""
        r = filtered_rate(state["r"], drive.astype(state["r"].dtype), dt, self.tau)
        return {"r": r}, r

    def describe(self) -> str:
        return f"population rate (tau {float(self.tau):g} ms)"


class SynapticActivity(AbstractCrossCoupling):
    """Spiking -> rate: the mean of a receptor's synaptic variable over each region.

    ``G * mean_k(value of receptor)`` is added to the node's input (e.g. the mean AMPA
    conductance, nS, or a current-based receptor's current, pA). Smooth in the synaptic weights
    and in ``G``: gradients through it match finite differences whenever the presynaptic
    spikes do not change (e.g. Poisson sources fixed by the key).

    Args:
        receptor: name of a receptor of the spiking population (``"AMPA"``, ``"syn0"``, ...).
        G: strength (units of the node's input per unit of the receptor variable).

    Example:
        >>> import neurosim as ns
        >>> cpl = ns.network.SynapticActivity("AMPA", G=0.05)
    """

    receptor: str = eqx.field(static=True)
    G: jax.Array
    direction: ClassVar[str] = "spiking->rate"

    def __init__(self, receptor: str, G=1.0):
        if not isinstance(receptor, str) or not receptor:
            raise ValueError(f"receptor must be a receptor name (str), got {receptor!r}")
        self.receptor = receptor
        self.G = _scalar("G", G)

    def describe(self) -> str:
        return f"mean {self.receptor} activity"


class _NodeToSpiking(AbstractCrossCoupling):
    G: jax.Array
    offset: jax.Array
    variable: str | None = eqx.field(static=True)
    direction: ClassVar[str] = "rate->spiking"

    def __init__(self, G=1.0, offset=0.0, variable: str | None = None):
        self.G = _scalar("G", G)
        self.offset = _scalar("offset", offset)
        if variable is not None and (not isinstance(variable, str) or not variable):
            raise ValueError(
                f"variable must be None (the node's output) or a state variable / observable "
                f"name, got {variable!r}"
            )
        self.variable = variable

    def value(self, y):
        """``offset + G * y``: current (pA) or rate (Hz) for the node signal ``y``."""
        return self.offset + self.G * y

    def step(self, state, drive, i, dt, key):
        """``drive``: the node signal per region; out: ``value(drive)``."""
        return state, self.value(drive)


class CurrentDrive(_NodeToSpiking):
    """Rate -> spiking: a current ``offset + G * y`` (pA) into every neuron of the region.

    Args:
        G: pA per unit of the node's signal ``y``.
        offset: constant current (pA).
        variable: node state variable or observable used as ``y`` (default: its ``output``).

    Example:
        >>> import neurosim as ns
        >>> cpl = ns.network.CurrentDrive(G=400.0)
    """

    def describe(self) -> str:
        return f"current {self.variable or 'output'}"


class RateDrive(_NodeToSpiking):
    """Rate -> spiking: the rate ``offset + G * y`` (Hz) drives a spike-source population.

    The target is a spike source that takes a rate as its drive (e.g.
    ``ns.neurons.PoissonSource(n, rate=0.0)``, which fires at ``max(rate + drive, 0)``): each
    of its neurons fires as a Poisson process whose rate follows its region's node; connect
    the source to spiking populations with ``connect``.

    Args:
        G: Hz per unit of the node's signal ``y``.
        offset: constant rate (Hz).
        variable: node state variable or observable used as ``y`` (default: its ``output``;
            e.g. ``"r_e"``, a Wong–Wang node's excitatory rate in Hz).

    Example:
        >>> import neurosim as ns
        >>> cpl = ns.network.RateDrive(G=1.0, variable="r_e")
    """

    def describe(self) -> str:
        return f"Poisson rate {self.variable or 'output'}"
