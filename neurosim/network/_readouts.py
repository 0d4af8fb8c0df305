"""In-loop readouts with state: population rate, LFP proxy, and the slot BOLD plugs into.

A readout is a component (``init(key, dt)`` / ``step(state, drive, i, dt, key)``) stepped
inside the simulation loop after the neurons, receptors and rate nodes, and recorded like any
variable (``ns.Trace("name")`` for its value, ``ns.Trace("name.var")`` for a state variable,
with ``every=`` decimation). Add one with :meth:`neurosim.NetworkBuilder.add_readout`; what it
receives as ``drive`` is fixed by its ``signal``:

* ``"spikes"``: per region of a spiking population, the fraction of its neurons that spiked
  in this step, ``(n_regions,)``;
* ``"currents"``: per region, the sum over its neurons of ``|I_r|`` (pA) of the named
  receptors, at the end of the step;
* ``"value"``: a rate population's node output (or a state variable / observable), or the
  value of an earlier readout, ``(n,)`` — so a hemodynamic (BOLD) model chains after a
  population-rate readout or a node's activity.

Any component with ``init(key, dt)`` and ``step(state, drive, i, dt, key) -> (state, out)``
can be added with a ``"value"`` source (e.g. a Balloon–Windkessel model from
``neurosim.bold``); the builder calls its ``bind(n)`` first when it has one (size-generic
components), and ``out`` must have shape ``(n,)``.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import AbstractComponent, replace_static
from .._validate import check_positive
from ._couplings import filtered_rate

__all__ = ["AbstractReadout", "PopulationRate", "SynapticLFP"]

SIGNALS = ("spikes", "currents", "value")


class AbstractReadout(AbstractComponent):
    """A stateful in-loop readout (see module docs); ``signal`` says what it receives.

    Size-generic: ``bind(n)`` (called by the builder) returns a copy for ``n`` outputs;
    ``init`` on an unbound readout raises ``ValueError``.
    """

    n: eqx.AbstractVar[int | None]
    signal: ClassVar[str]

    @abc.abstractmethod
    def init(self, key, dt) -> dict:
        """Initial state (arrays with the output axis first)."""

    @abc.abstractmethod
    def step(self, state, drive, i, dt, key):
        """Advance one step under ``drive``; returns ``(state, value)`` (value ``(n,)``)."""

    def bind(self, n: int):
        """A copy sized for ``n`` outputs."""
        return replace_static(self, n=int(n))

    def _size(self) -> int:
        if self.n is None:
            raise ValueError(
                f"{type(self).__name__} is not bound to a size; add it with "
                "NetworkBuilder.add_readout (or call .bind(n) first)"
            )
        return self.n


class PopulationRate(AbstractReadout):
    r"""Population rate per region (Hz), exponentially filtered.

    :math:`r \leftarrow a r + (1 - a) f / (dt\,10^{-3})`, ``a = exp(-dt/tau)``, with ``f``
    the fraction of the region's neurons that spiked this step: for Poisson spiking at
    :math:`\nu` Hz the mean of ``r`` is :math:`\nu` and its variance
    :math:`\approx \nu / (2 \tau N)` (N neurons in the region).

    Args:
        tau: filter time constant (ms), > 0.

    Example:
        >>> import jax, neurosim as ns
        >>> b = ns.NetworkBuilder()
        >>> b.add_population("P", ns.neurons.PoissonSource(100, rate=20.0))
        'P'
        >>> b.add_readout("rate", ns.network.PopulationRate(tau=20.0), source="P")
        'rate'
    """

    tau: jax.Array
    n: int | None = eqx.field(static=True, default=None)
    signal: ClassVar[str] = "spikes"

    def __init__(self, tau=10.0, n: int | None = None):
        check_positive("tau", tau, "ms")
        self.tau = jnp.asarray(tau, jnp.result_type(float))
        self.n = n

    def init(self, key, dt) -> dict:
        return {"r": jnp.zeros((self._size(),), jnp.result_type(float))}

    def step(self, state, drive, i, dt, key):
        r = filtered_rate(state["r"], drive, dt, self.tau)
        return {"r": r}, r


class SynapticLFP(AbstractReadout):
    r"""LFP proxy: the sum of the absolute synaptic currents of a population, per region.

    :math:`\mathrm{LFP}_k = \sum_{i \in k} \sum_r |I_{r,i}|` (pA) over the named receptors
    (e.g. ``("AMPA", "GABA")``) of the neurons of region ``k``, the proxy of Mazzoni et al.
    (2008, *PLoS Comput. Biol.* 4:e1000239) for the LFP of a network of excitatory and
    inhibitory neurons (they sum over the pyramidal cells). Optionally low-pass filtered with
    time constant ``tau`` (ms): :math:`L \leftarrow a L + (1-a) I`, ``a = exp(-dt/tau)``.

    Args:
        receptors: receptor names of the source population whose currents are summed.
        tau: optional filter time constant (ms), > 0; None: the instantaneous sum.

    Example:
        >>> import neurosim as ns
        >>> lfp = ns.network.SynapticLFP(("exc", "inh"))
    """

    receptors: tuple[str, ...] = eqx.field(static=True)
    tau: jax.Array | None
    n: int | None = eqx.field(static=True, default=None)
    signal: ClassVar[str] = "currents"

    def __init__(self, receptors, tau=None, n: int | None = None):
        if isinstance(receptors, str):
            receptors = (receptors,)
        receptors = tuple(receptors)
        if not receptors or not all(isinstance(r, str) for r in receptors):
            raise ValueError(
                f"receptors must be a non-empty sequence of receptor names, got {receptors!r}"
            )
        self.receptors = receptors
        if tau is not None:
            check_positive("tau", tau, "ms")
            tau = jnp.asarray(tau, jnp.result_type(float))
        self.tau = tau
        self.n = n

    def init(self, key, dt) -> dict:
        if self.tau is None:
            self._size()
            return {}
        return {"lfp": jnp.zeros((self._size(),), jnp.result_type(float))}

    def step(self, state, drive, i, dt, key):
        if self.tau is None:
            return state, drive
        a = jnp.exp(-dt / self.tau)
        lfp = a * state["lfp"] + (1.0 - a) * drive
        return {"lfp": lfp}, lfp
