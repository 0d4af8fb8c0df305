"""Builder methods for what acts on neurons besides projections: gap junctions, injected
currents and per-neuron Poisson input."""

from __future__ import annotations

import jax

from ..neurons import AbstractSpikeSource
from ..synapses import (
    AbstractKinetics,
    AbstractOutput,
    GapJunctions,
    SynapseModel,
    check_receptor,
    resolve_synapse,
)
from ._gap import Electrical
from ._inputs import AbstractCurrent
from ._poisson_input import PoissonInput, PoissonInputSlot
from ._structure import Input

__all__ = ["InputsMixin"]


class InputsMixin:
    """:meth:`neurosim.NetworkBuilder.gap_junctions`, :meth:`~neurosim.NetworkBuilder.add_input`
    and :meth:`~neurosim.NetworkBuilder.add_poisson_input` (they use the builder's
    ``_resolve``, ``_new_name`` and ``_receptor``)."""

    # -- gap junctions ---------------------------------------------------------------------
    def gap_junctions(
        self, target: str, connectivity, *, weight=None, key=None, name: str | None = None
    ) -> str:
        """Couple the neurons of ``target`` (population or group) by gap junctions.

        ``I_i = sum_j g_ij (v_j - v_i)`` with symmetric ``g`` (nS), computed from the membrane
        potentials at the start of each step (see :class:`neurosim.synapses.GapJunctions`).

        Args:
            target: population or group name (its neurons need a ``"v"`` state variable).
            connectivity: a generator (its sample's upper triangle is mirrored: each pair is
                coupled with the generator's statistics), a symmetric ``ns.ops.CSR`` or a
                symmetric dense array.
            weight: conductance per junction (nS), number or initializer; generators only.
            key: sampling key (default: derived from the builder's key).
            name: default ``"gap:target"``.

        Returns:
            The name.
        """
        i, sl = self._resolve(target, "target")
        neuron = self._pops[i]["neuron"]
        if "v" not in jax.eval_shape(neuron.init, jax.random.key(0), 0.1):
            raise ValueError(
                f"gap junctions need a membrane potential 'v', which {type(neuron).__name__} "
                f"(population {self._pops[i]['name']!r}) does not have"
            )
        name = name if name is not None else f"gap:{target}"
        self._new_name(name)
        k = key if key is not None else jax.random.fold_in(self._key, 1_000_003 + len(self._gaps))
        junctions = GapJunctions.from_connectivity(
            connectivity, n=sl[1] - sl[0], weight=weight, key=k
        )
        self._gaps.append(Electrical(name=name, pop=i, pop_slice=sl, junctions=junctions))
        return name

    # -- inputs ---------------------------------------------------------------------------
    def add_input(self, target: str, current: AbstractCurrent, *, name: str | None = None) -> str:
        """Inject ``current`` (an :mod:`neurosim.inputs` object, pA) into ``target``."""
        i, sl = self._resolve(target, "target")
        if not isinstance(current, AbstractCurrent):
            raise ValueError(
                f"current must be an input object (ns.inputs.StepCurrent, ...), got {current!r}"
            )
        if isinstance(self._pops[i]["neuron"], AbstractSpikeSource):
            raise ValueError(
                f"target {target!r} is a spike source; it has no membrane to inject into"
            )
        name = name if name is not None else f"input{len(self._inputs)}->{target}"
        self._new_name(name)
        current = current.bind(sl[1] - sl[0])
        self._inputs.append(Input(name=name, target=i, target_slice=sl, current=current))
        return name

    def add_poisson_input(
        self,
        target: str,
        *,
        rate_hz,
        weight,
        synapse: AbstractKinetics | SynapseModel | None = None,
        output: AbstractOutput | None = None,
        receptor: str | None = None,
        name: str | None = None,
    ) -> str:
        """Independent Poisson input to every neuron of ``target``, at any rate, no synapses.

        Each step, neuron ``j`` receives ``K_j ~ Poisson(rate_hz_j * dt / 1000)`` input spikes
        and its receptor takes ``weight_j * K_j`` (NEST's ``poisson_generator`` connected
        one-to-one, Brian2's ``PoissonInput``); rates far above ``1/dt`` are exact (a
        :class:`~neurosim.neurons.PoissonSource` population saturates at one spike per step).
        The input acts from the next step on, like a spike delivered with the minimal delay.
        See :class:`neurosim.network.PoissonInput` (gradients).

        Args:
            target: population or group name (neurons, not spike sources).
            rate_hz: total input rate per neuron (Hz, >= 0): a number or one per neuron.
            weight: increment per input spike (nS for COBA, pA for CUBA, mV for Delta): a
                number or one per neuron.
            synapse: kinetics (``ns.synapses.Exponential(tau)``) or a receptor preset
                (``ns.synapses.AMPA()``); the receptor is then found or created as in
                :meth:`connect` (equal kinetics and output share it). Omit it to feed an
                existing receptor named ``receptor``.
            output: output rule, as in :meth:`connect` (not with a preset).
            receptor: receptor name (with ``synapse``: as in :meth:`connect`; without: an
                existing receptor of the target population, e.g. one made by ``connect``).
            name: default ``"poisson{k}->target"``.

        Returns:
            The input's name.

        Example:
            >>> import jax, neurosim as ns
            >>> b = ns.NetworkBuilder()
            >>> b.add_population("E", ns.neurons.LIF(10))
            'E'
            >>> b.add_poisson_input("E", rate_hz=16_000.0, weight=87.8,
            ...                     synapse=ns.synapses.Exponential(0.5))
            'poisson0->E'
        """
        i, sl = self._resolve(target, "target")
        pop = self._pops[i]
        if isinstance(pop["neuron"], AbstractSpikeSource):
            raise ValueError(
                f"target {target!r} is a spike source ({type(pop['neuron']).__name__}); it "
                "cannot receive input"
            )
        source = PoissonInput(rate_hz, weight).bind(sl[1] - sl[0])  # validates first
        if synapse is None:
            if output is not None:
                raise ValueError("output= needs synapse= (the kinetics of a new receptor)")
            names = [rec.name for rec in pop["receptors"]]
            if receptor not in names:
                raise ValueError(
                    f"add_poisson_input to {target!r}: give synapse= (kinetics, e.g. "
                    "ns.synapses.Exponential(2.0)) or receptor= naming an existing receptor of "
                    f"population {pop['name']!r}; it has {names}"
                )
            r = names.index(receptor)
        else:
            synapse, output, preset_name = resolve_synapse(synapse, output)
            check_receptor(synapse, output, pop["neuron"])
            r = self._receptor(i, synapse, output, receptor, preset_name)
        name = name if name is not None else f"poisson{len(self._poisson)}->{target}"
        self._new_name(name)
        self._poisson.append(
            PoissonInputSlot(name=name, target=i, target_slice=sl, receptor=r, source=source)
        )
        return name
