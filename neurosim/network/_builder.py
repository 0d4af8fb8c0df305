"""Eager, validating construction of a :class:`Network`."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._init import AbstractInit
from .._validate import check_key, check_number, not_a_string
from ..connectivity import AbstractGenerator
from ..neurons import AbstractNeuron, AbstractSpikeSource
from ..ops import AbstractConnectivity, check_backend
from ..synapses import (
    AbstractKinetics,
    AbstractOutput,
    SynapseModel,
    check_receptor,
    resolve_synapse,
)
from ._builder_checks import check_conn_weights, per_synapse_delays
from ._conventions import resolve_conventions
from ._dynamics import AbstractProjectionDynamics
from ._gap import Electrical
from ._input_builder import InputsMixin
from ._multiscale_builder import MultiscaleMixin
from ._network import Network
from ._poisson_input import PoissonInputSlot
from ._readout_builder import ReadoutMixin
from ._structure import Input, Population, Projection, Receptor

__all__ = ["NetworkBuilder"]


def _same_params(a, b) -> bool:
    return type(a) is type(b) and bool(eqx.tree_equal(a, b))


class NetworkBuilder(InputsMixin, MultiscaleMixin, ReadoutMixin):
    """Assembles populations, projections and inputs into an immutable :class:`Network`.

    Spiking populations (:meth:`add_population`, :meth:`connect`) and rate (neural-mass)
    populations (:meth:`add_rate_population`) live side by side, coupled with :meth:`couple`
    (rate -> rate, spiking -> rate, rate -> spiking); :meth:`add_readout` adds in-loop
    readouts (population rate, LFP proxy, BOLD).

    Connectivity is sampled when :meth:`connect` is called (seeded by the builder's key and
    the projection's position, or by an explicit ``key``); everything is validated there, so
    :meth:`build` cannot fail.

    Args:
        key: key that seeds connectivity sampling (default ``jax.random.key(0)``).
        conventions: timing conventions of the network: ``"default"`` (Brian2's schedule),
            ``"nest"`` (NEST's: delay = total latency, ``round(t_ref/dt)`` refractory steps,
            spikes stamped at the end of their step) or a
            :class:`neurosim.network.Conventions`; see :mod:`neurosim.network._conventions`.

    Example:
        >>> import jax, neurosim as ns
        >>> b = ns.NetworkBuilder(key=jax.random.key(0))
        >>> b.add_population("P", ns.neurons.LIF(100, i_e=200.0), groups={"E": 80, "I": 20})
        'P'
        >>> b.connect("E", "P", ns.connectivity.FixedProbability(0.1), weight=0.5,
        ...           synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))
        'E->P'
        >>> net = b.build()
    """

    def __init__(self, key=None, *, conventions=None):
        self._key = check_key(key) if key is not None else jax.random.key(0)
        self._conventions = resolve_conventions(conventions)
        self._poisson: list[PoissonInputSlot] = []
        self._pops: list[dict] = []
        self._projections: list[Projection] = []
        self._inputs: list[Input] = []
        self._gaps: list[Electrical] = []
        self._names: set[str] = set()
        self._rate_pops: list = []
        self._node_couplings: list = []
        self._cross: list = []
        self._readouts: list = []

    # -- populations ----------------------------------------------------------------------
    def add_population(
        self,
        name: str,
        neuron: AbstractNeuron | AbstractSpikeSource,
        *,
        groups: dict | None = None,
    ) -> str:
        """Add a population (neurons or spike sources); ``groups`` maps names to sizes of
        consecutive index ranges."""
        self._new_name(name)
        if not isinstance(neuron, (AbstractNeuron, AbstractSpikeSource)):
            raise ValueError(
                f"neuron must be a neuron model (ns.neurons.LIF, ...) or a spike source "
                f"(ns.neurons.PoissonSource, ...), got {type(neuron).__name__}"
            )
        grp = []
        if groups:
            start = 0
            for g, size in groups.items():
                self._new_name(g)
                if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                    raise ValueError(f"group {g!r} size must be an integer >= 1, got {size!r}")
                grp.append((g, start, start + int(size)))
                start += int(size)
            if start != neuron.n:
                raise ValueError(
                    f"group sizes of population {name!r} sum to {start}, "
                    f"but it has n={neuron.n} neurons"
                )
        self._pops.append({"name": name, "neuron": neuron, "receptors": [], "groups": tuple(grp)})
        return name

    def _new_name(self, name: str) -> None:
        if not isinstance(name, str) or not name or any(c in name for c in ". /"):
            raise ValueError(
                f"names must be non-empty strings without '.', '/' or spaces, got {name!r}"
            )
        if name in self._names:
            raise ValueError(f"name {name!r} is already used by a population, group or projection")
        self._names.add(name)

    def _resolve(self, name: str, role: str) -> tuple[int, tuple[int, int]]:
        for i, p in enumerate(self._pops):
            if p["name"] == name:
                return i, (0, p["neuron"].n)
            for g, a, b in p["groups"]:
                if g == name:
                    return i, (a, b)
        known = [p["name"] for p in self._pops] + [g for p in self._pops for g, *_ in p["groups"]]
        raise ValueError(f"{role} {name!r} is not a population or group; known: {known}")

    # -- projections ----------------------------------------------------------------------
    def connect(
        self,
        pre: str,
        post: str,
        connectivity: AbstractGenerator | AbstractConnectivity,
        *,
        weight=None,
        synapse: AbstractKinetics | SynapseModel,
        output: AbstractOutput | None = None,
        receptor: str | None = None,
        delay=0.0,
        backend: str = "auto",
        dynamics: AbstractProjectionDynamics | None = None,
        key=None,
        name: str | None = None,
    ) -> str:
        """Connect ``pre`` to ``post`` (population or group names).

        Args:
            connectivity: a generator (``ns.connectivity.FixedProbability(p)``, ...) that is
                sampled now with ``weight``, or a ready operator (``ns.connectivity.from_dense``).
            weight: synaptic weight (nS for COBA, pA for CUBA): a number or an initializer;
                required with a generator. Must be finite, and >= 0 onto a conductance
                output (``COBA``, ``MgBlock``: use an inhibitory ``e_rev`` for inhibition).
            synapse: kinetics of the receptor (``ns.synapses.Exponential(tau)``), or a receptor
                preset with its own output rule (``ns.synapses.AMPA()``, ``NMDA()``, ...).
            output: ``ns.synapses.COBA(e_rev)``, ``CUBA()`` (default), ``MgBlock()``;
                ``VoltageJump()`` (the default) for ``Delta`` kinetics. Not with a preset.
            receptor: receptor name; projections with equal kinetics and output onto the same
                population share one receptor state (merged automatically if not named; a
                new receptor from a preset is named after it, e.g. ``"NMDA"``, if free).
            delay: delay (ms) beyond the minimal one step, >= 0: a number (homogeneous, one
                ring of past spikes per population), or per synapse: an initializer
                (``ns.init.Uniform(1.0, 5.0)``, sampled once per synapse) or an array with one
                value per synapse in the CSR's order (ELL: the ``(n_pre, k)`` table or CSR
                order). With procedural connectivity the delays are regenerated from the row
                streams and must be ``ns.init.Uniform`` or ``ns.init.Constant``. Rounded to
                ``round(delay / dt)`` steps when the state is made (see
                :mod:`neurosim.network._delays`): off-grid delays give a
                :class:`~neurosim.network.DelayRoundingWarning` with the largest error, a
                positive homogeneous delay below ``dt / 2`` is refused. A string is refused
                (``TypeError``); with
                ``dynamics`` they are dendritic delays (STP at emission, STDP pairs
                ``t_post + d - t_pre``: :mod:`neurosim.plasticity._delayed`).
            backend: event-delivery backend (see :func:`neurosim.ops.event_matvec`).
            dynamics: per-projection state (short-term plasticity, learning rule, or both:
                ``ns.plasticity.Stack(TsodyksMarkram(...), PairSTDP(...))``), see
                :class:`neurosim.network.AbstractProjectionDynamics`.
            key: sampling key (default: derived from the builder's key and the projection's index).
            name: projection name (default ``"pre->post"``).

        Returns:
            The projection's name.
        """
        i_pre, sl_pre = self._resolve(pre, "pre")
        i_post, sl_post = self._resolve(post, "post")
        post_neuron = self._pops[i_post]["neuron"]
        if isinstance(post_neuron, AbstractSpikeSource):
            raise ValueError(
                f"post {post!r} is a spike source ({type(post_neuron).__name__}); "
                "it cannot receive synapses"
            )
        synapse, output, preset_name = resolve_synapse(synapse, output)
        check_receptor(synapse, output, post_neuron)
        check_backend(backend)
        not_a_string("delay", delay, "ms")
        per_synapse = isinstance(delay, AbstractInit) or np.ndim(delay) > 0
        if not per_synapse:
            delay = check_number("delay", delay, "ms")
            if delay < 0:
                raise ValueError(f"delay must be >= 0 ms, got {delay}")
        if key is not None:
            check_key(key)
        if name is None:
            name, k = f"{pre}->{post}", 1
            while name in self._names:
                k += 1
                name = f"{pre}->{post}#{k}"
        self._new_name(name)
        n_pre, n_post = sl_pre[1] - sl_pre[0], sl_post[1] - sl_post[0]
        if isinstance(connectivity, AbstractConnectivity):
            conn = connectivity
            if (conn.n_pre, conn.n_post) != (n_pre, n_post):
                raise ValueError(
                    f"connectivity of {name!r} has shape ({conn.n_pre}, {conn.n_post}) but "
                    f"{pre!r} -> {post!r} needs ({n_pre}, {n_post})"
                )
            if weight is not None:
                raise ValueError(
                    "weight is given by the ready-made connectivity; do not pass weight="
                )
        elif isinstance(connectivity, AbstractGenerator):
            if weight is None:
                raise ValueError(f"weight is required to sample connectivity for {name!r}")
            k = key if key is not None else jax.random.fold_in(self._key, len(self._projections))
            same = i_pre == i_post and sl_pre == sl_post
            conn = connectivity.build(k, n_pre, n_post, weight, same_population=same)
        else:
            raise ValueError(
                f"connectivity must be a generator (ns.connectivity.FixedProbability, ...) or an "
                f"operator (ns.ops.CSR), got {type(connectivity).__name__}"
            )
        check_conn_weights(name, conn, output)
        if dynamics is not None and not isinstance(dynamics, AbstractProjectionDynamics):
            raise ValueError(f"dynamics must be an AbstractProjectionDynamics, got {dynamics!r}")
        if dynamics is not None:
            dynamics = dynamics.bind(conn)
        synapse_delays, max_delay = None, 0.0
        if per_synapse:
            k_d = jax.random.fold_in(
                key if key is not None else jax.random.fold_in(self._key, len(self._projections)),
                0xDE1A7,
            )
            synapse_delays, max_delay = per_synapse_delays(delay, conn, name, k_d)
            delay = 0.0
            if dynamics is not None:  # plasticity across per-synapse (dendritic) delays
                from ..plasticity import with_synapse_delays

                dynamics = with_synapse_delays(dynamics, conn, synapse_delays, max_delay, name)
        r = self._receptor(i_post, synapse, output, receptor, preset_name)
        self._projections.append(
            Projection(
                name=name,
                pre=i_pre,
                pre_slice=sl_pre,
                post=i_post,
                post_slice=sl_post,
                receptor=r,
                conn=conn,
                delay=delay,
                backend=backend,
                dynamics=dynamics,
                synapse_delays=synapse_delays,
                max_delay=max_delay,
            )
        )
        return name

    def _receptor(
        self, i_post: int, synapse, output, name: str | None, default: str | None = None
    ) -> int:
        recs = self._pops[i_post]["receptors"]
        synapse = synapse.bind(self._pops[i_post]["neuron"].n)
        for idx, rec in enumerate(recs):
            same = _same_params(rec.kinetics, synapse) and _same_params(rec.output, output)
            if name is not None and rec.name == name:
                if not same:
                    raise ValueError(
                        f"receptor {name!r} of population {self._pops[i_post]['name']!r} already "
                        "exists with other kinetics/output; choose another receptor name"
                    )
                return idx
            if name is None and same:
                return idx
        if name is None:
            taken = {rec.name for rec in recs}
            name = default if default and default not in taken else f"syn{len(recs)}"
        recs.append(Receptor(name=name, kinetics=synapse, output=output))
        return len(recs) - 1

    # -- result ---------------------------------------------------------------------------
    def build(self) -> Network:
        """The immutable network."""
        if not self._pops and not self._rate_pops:
            raise ValueError(
                "the network has no populations; call add_population or add_rate_population"
            )
        pops = tuple(
            Population(
                name=p["name"],
                neuron=p["neuron"],
                receptors=tuple(p["receptors"]),
                groups=p["groups"],
            )
            for p in self._pops
        )
        return Network(
            populations=pops,
            projections=tuple(self._projections),
            inputs=tuple(self._inputs),
            gap_junctions=tuple(self._gaps),
            rate_populations=tuple(self._rate_pops),
            node_couplings=tuple(self._node_couplings),
            cross=tuple(self._cross),
            readouts=tuple(self._readouts),
            poisson_inputs=tuple(self._poisson),
            conventions=self._conventions,
        )
