"""The assembled network (spiking and rate populations, couplings, readouts) and its state."""

from __future__ import annotations

import functools
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_key
from ..synapses import Delta
from ._conventions import Conventions
from ._delays import delays_dtype, ring_length, warn_delay_rounding
from ._gap import Electrical
from ._multiscale import CrossCoupling, NodeCoupling, RatePopulation, ReadoutSlot
from ._multiscale_init import init_scales
from ._poisson_input import PoissonInputSlot
from ._structure import Input, Population, Projection

__all__ = ["Network", "NetworkState", "Plan"]


class Plan(NamedTuple):
    """Static (shape-deciding) facts derived from a network and a concrete ``dt``."""

    delay_steps: tuple[int, ...]  # per projection
    ring_len: tuple[int, ...]  # per population; 0 = no spike history kept
    future_len: tuple[int, ...] = ()  # per projection: ring of future input; 0 = none
    node_ring: tuple[int, ...] = ()  # per rate population: ring of past outputs; 0 = none
    cross_delay: tuple[int, ...] = ()  # per cross-scale coupling: delay in steps


class NetworkState(eqx.Module):
    """All dynamic state of a network; every per-neuron array has the neuron axis first.

    Attributes:
        step: integer step counter (time is ``step * dt``).
        neurons: per population, the neuron model's state dict.
        receptors: per population, per receptor, the kinetics' state dict.
        inputs: per input, its state dict (noise processes).
        projections: per projection, the state dict of its dynamics (STP, plasticity) or {}.
        history: per population, a ring ``(L, n)`` of past spikes for delayed delivery, or None.
        fault_step: per population, the first step whose state was not finite (-1: none).
        delay_rings: per projection with per-synapse delays, its ring ``(D, n_post)`` of
            future input (``[(step + d) % D]`` arrives ``d`` steps later), else None.
        nodes: per rate population, the model's state dict (node axis first).
        node_input: per rate population, its coupling input ``c`` held over the next step.
        node_history: per rate population, a ring ``(D, n, ...)`` of past outputs (slot
            ``s % D`` holds step ``s``) for delayed rate couplings, or None.
        node_fault: per rate population, ``(n,)`` first step whose node state was not finite
            (-1: none).
        cross: per cross-scale coupling, ``{"part": its component state (e.g. the filtered
            population rate), "ring": (d + 1, n_regions) signal history}`` (no ring without a
            delay).
        readouts: per readout, its state.
        readout_values: per readout, its value after the last step ``(n_out,)``.

    Networks without rate populations, cross-scale couplings or readouts have ``()`` there.
    """

    step: jax.Array
    neurons: tuple[dict, ...]
    receptors: tuple[tuple[dict, ...], ...]
    inputs: tuple[dict, ...]
    projections: tuple[dict, ...]
    history: tuple[jax.Array | None, ...]
    fault_step: jax.Array
    delay_rings: tuple[jax.Array | None, ...] = ()
    nodes: tuple[dict, ...] = ()
    node_input: tuple[jax.Array, ...] = ()
    node_history: tuple[jax.Array | None, ...] = ()
    node_fault: tuple[jax.Array, ...] = ()
    cross: tuple[dict, ...] = ()
    readouts: tuple = ()
    readout_values: tuple[jax.Array, ...] = ()


@functools.partial(jax.jit, static_argnums=(0, 1))
def _zeros(shapes: tuple, dtype) -> tuple:
    """Zero arrays of ``shapes`` from one compiled call: eager ``jnp.zeros`` compiles once per
    shape (the microcircuit's 55 delay rings: ~2 s of ``init_state``)."""
    return tuple(jnp.zeros(s, dtype) for s in shapes)


class Network(eqx.Module):
    """An immutable network pytree: spiking populations, projections, inputs, gap junctions,
    rate (neural-mass) populations, their couplings, cross-scale couplings, readouts,
    per-neuron Poisson inputs, and its timing :class:`Conventions`.

    Build one with :class:`neurosim.NetworkBuilder` (or a built-in model from
    :mod:`neurosim.models`). Parameters are array leaves (changing them never recompiles);
    names, sizes and delays are static.
    """

    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    inputs: tuple[Input, ...]
    gap_junctions: tuple[Electrical, ...] = ()
    rate_populations: tuple[RatePopulation, ...] = ()
    node_couplings: tuple[NodeCoupling, ...] = ()
    cross: tuple[CrossCoupling, ...] = ()
    readouts: tuple[ReadoutSlot, ...] = ()
    poisson_inputs: tuple[PoissonInputSlot, ...] = ()
    conventions: Conventions = eqx.field(static=True, default=Conventions())

    # -- structure ------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Total number of neurons (spike sources included)."""
        return sum(p.n for p in self.populations)

    def offsets(self) -> dict[str, int]:
        """Global index of each population's first neuron (populations concatenated in order)."""
        out, off = {}, 0
        for p in self.populations:
            out[p.name] = off
            off += p.n
        return out

    def index_ranges(self) -> dict[str, tuple[int, int]]:
        """Global ``(start, stop)`` of every population and group, by name."""
        out = {}
        for p, off in zip(self.populations, self.offsets().values(), strict=True):
            out[p.name] = (off, off + p.n)
            for g, a, b in p.groups:
                out[g] = (off + a, off + b)
        return out

    def resolve(self, name: str) -> tuple[int, tuple[int, int]]:
        """``(population index, (start, stop))`` of a population or group name."""
        for i, p in enumerate(self.populations):
            if p.name == name:
                return i, (0, p.n)
            for g, a, b in p.groups:
                if g == name:
                    return i, (a, b)
        known = [p.name for p in self.populations] + [
            g for p in self.populations for g, *_ in p.groups
        ]
        raise ValueError(f"unknown population or group {name!r}; known: {known}")

    def rate_groups(self) -> dict[str, tuple[int, int]]:
        """Ranges used for per-group rate summaries: groups where defined, else populations."""
        out = {}
        offs = self.offsets()
        for p in self.populations:
            o = offs[p.name]
            if p.groups:
                for g, a, b in p.groups:
                    out[g] = (o + a, o + b)
            else:
                out[p.name] = (o, o + p.n)
        return out

    def onto_jump(self, pr: Projection) -> bool:
        """True if projection ``pr`` feeds Delta kinetics (voltage jumps)."""
        return isinstance(self.populations[pr.post].receptors[pr.receptor].kinetics, Delta)

    def plan(self, dt: float) -> Plan:
        """Delay lengths in steps and ring sizes for a concrete ``dt`` (ms)."""
        dt = float(dt)
        conv = self.conventions
        jumps = [self.onto_jump(pr) for pr in self.projections]
        delay_steps = tuple(  # per-synapse delays live in their own ring: no spike history
            0 if pr.synapse_delays is not None else conv.delay_steps(pr.delay, dt, jump)
            for pr, jump in zip(self.projections, jumps, strict=True)
        )
        ring = [0] * len(self.populations)
        for pr, d in zip(self.projections, delay_steps, strict=True):
            if d > 0:
                ring[pr.pre] = max(ring[pr.pre], d + 1)
        future = tuple(
            0
            if pr.synapse_delays is None
            else max(
                ring_length(
                    pr.max_delay, delays_dtype(pr.synapse_delays), dt, pr.conn.n_post, pr.name
                ),
                conv.synapse_delay_rule(jump)[1] + 1,
            )
            for pr, jump in zip(self.projections, jumps, strict=True)
        )
        node_ring = [0] * len(self.rate_populations)
        for nc in self.node_couplings:
            if nc.coupling.delays is not None:
                node_ring[nc.pop] = max(node_ring[nc.pop], nc.coupling.max_delay_steps(dt) + 1)
        cross_delay = tuple(int(round(cc.delay / dt)) for cc in self.cross)
        return Plan(delay_steps, tuple(ring), future, tuple(node_ring), cross_delay)

    # -- state ----------------------------------------------------------------------------
    def init_state(self, key, dt: float = 0.1, *, nodes: dict | None = None) -> NetworkState:
        """Initial state: neuron states sampled with ``key``, synapses at rest, no spike history.

        ``dt`` (ms) sizes the spike-history rings of delayed projections. Rate nodes are
        sampled from their models' initializers (or given: ``nodes`` maps a rate population's
        name to its state dict, each variable a number or ``(n,)`` array), with a constant
        past (every delay ring holds the initial value) and the node inputs of step 0.
        """
        plan = self.plan(dt)
        warn_delay_rounding(self, dt)
        k_neu, k_inp, k_rec, k_prj = jax.random.split(check_key(key), 4)
        neurons = tuple(
            p.neuron.init(jax.random.fold_in(k_neu, i), dt) for i, p in enumerate(self.populations)
        )
        receptors = tuple(
            tuple(
                r.kinetics.bind(p.n).init(jax.random.fold_in(jax.random.fold_in(k_rec, i), j), dt)
                for j, r in enumerate(p.receptors)
            )
            for i, p in enumerate(self.populations)
        )
        inputs = tuple(
            inp.current.bind(inp.target_slice[1] - inp.target_slice[0]).init(
                jax.random.fold_in(k_inp, i), dt
            )
            for i, inp in enumerate(self.inputs)
        )
        # Parts are (re-)bound to the sizes and operators of this network, so that parts
        # replaced with eqx.tree_at need no binding and the initial (plastic) weights are
        # those of ``pr.conn`` (gradients reach them, replaced weights are used).
        projections = tuple(
            pr.dynamics.bind(pr.conn).init(jax.random.fold_in(k_prj, j), dt)
            if pr.dynamics is not None
            else {}
            for j, pr in enumerate(self.projections)
        )
        dtype = jnp.result_type(float)
        h_shapes = tuple((L, p.n) for p, L in zip(self.populations, plan.ring_len, strict=True))
        d_shapes = tuple(
            (D, pr.conn.n_post) for pr, D in zip(self.projections, plan.future_len, strict=True)
        )
        rings = iter(_zeros(tuple(s for s in h_shapes + d_shapes if s[0] > 0), dtype))
        history = tuple(next(rings) if s[0] > 0 else None for s in h_shapes)
        delay_rings = tuple(next(rings) if s[0] > 0 else None for s in d_shapes)
        state = NetworkState(
            step=jnp.asarray(0, jnp.int32),
            neurons=neurons,
            receptors=receptors,
            inputs=inputs,
            projections=projections,
            history=history,
            fault_step=jnp.full((len(self.populations),), -1, jnp.int32),
            delay_rings=delay_rings,
        )
        if self.rate_populations or self.readouts:
            state = init_scales(self, state, jax.random.fold_in(key, 0x5CA1E), dt, plan, nodes)
        elif nodes:
            raise ValueError("nodes= was given but the network has no rate populations")
        return state

    def init(self, key, dt: float = 0.1, *, nodes: dict | None = None) -> NetworkState:
        """Alias of :meth:`init_state` (the component protocol's name)."""
        return self.init_state(key, dt, nodes=nodes)

    def check_state(self, state: NetworkState, dt: float) -> None:
        """Raise ``ValueError`` if ``state`` does not fit this network at this ``dt``."""
        plan = self.plan(dt)
        for p, h, L in zip(self.populations, state.history, plan.ring_len, strict=True):
            have = 0 if h is None else h.shape[0]
            if have != L:
                raise ValueError(
                    f"state was made for another dt: population {p.name!r} keeps {have} steps of "
                    f"spike history but dt={dt} ms needs {L}; use net.init_state(key, dt={dt})"
                )
        rings = state.delay_rings or (None,) * len(self.projections)
        for pr, r, D in zip(self.projections, rings, plan.future_len, strict=True):
            have = 0 if r is None else r.shape[0]
            if have != D:
                raise ValueError(
                    f"state was made for another dt: projection {pr.name!r} keeps {have} steps "
                    f"of delayed input but dt={dt} ms needs {D}; use net.init_state(key, dt={dt})"
                )
        if len(state.nodes) != len(self.rate_populations):
            raise ValueError(
                f"state has {len(state.nodes)} rate populations, the network "
                f"{len(self.rate_populations)}; use net.init_state(key, dt={dt})"
            )
        for rp, x, h, D in zip(
            self.rate_populations, state.nodes, state.node_history, plan.node_ring, strict=True
        ):
            if sorted(x) != sorted(rp.model.state_names):
                raise ValueError(
                    f"rate population {rp.name!r}: state has variables {sorted(x)}, the model "
                    f"{sorted(rp.model.state_names)}"
                )
            have = 0 if h is None else h.shape[0]
            if have != D:
                raise ValueError(
                    f"state was made for another dt: rate population {rp.name!r} keeps {have} "
                    f"steps of history but its delays at dt={dt} ms need {D}; use "
                    f"net.init_state(key, dt={dt})"
                )
        for cc, st, d in zip(self.cross, state.cross, plan.cross_delay, strict=True):
            have = st["ring"].shape[0] - 1 if "ring" in st else 0
            if have != d:
                raise ValueError(
                    f"state was made for another dt: coupling {cc.name!r} keeps {have} steps of "
                    f"delay but dt={dt} ms needs {d}; use net.init_state(key, dt={dt})"
                )

    def summary(self) -> str:
        """A short human-readable description."""
        lines = [f"Network: {self.n} neurons, {len(self.projections)} projections"]
        if self.rate_populations:
            lines[0] += f", {sum(rp.n for rp in self.rate_populations)} rate nodes"
        for p in self.populations:
            g = ", ".join(f"{n}[{a}:{b}]" for n, a, b in p.groups)
            rec = ", ".join(r.name for r in p.receptors)
            lines.append(
                f"  {p.name}: {type(p.neuron).__name__} x {p.n}"
                + (f" groups({g})" if g else "")
                + (f" receptors({rec})" if rec else "")
            )
        for pr in self.projections:
            delay = f"{pr.delay} ms" if pr.synapse_delays is None else f"<= {pr.max_delay:g} ms"
            lines.append(
                f"  {pr.name}: {type(pr.conn).__name__} {pr.conn.nnz} synapses, delay {delay}"
            )
        for el in self.gap_junctions:
            lines.append(f"  {el.name}: {el.junctions.n_pairs} gap-junction pairs")
        for rp in self.rate_populations:
            lines.append(f"  {rp.name}: {type(rp.model).__name__} x {rp.n} nodes")
        for nc in self.node_couplings:
            lines.append(f"  {nc.name}: {type(nc.coupling).__name__}")
        for cc in self.cross:
            lines.append(
                f"  {cc.name}: {cc.coupling.describe()}, {cc.regions.n_regions} regions, "
                f"delay {cc.delay:g} ms"
            )
        for ro in self.readouts:
            lines.append(f"  {ro.name}: {type(ro.readout).__name__} ({ro.n_out} values)")
        return "\n".join(lines)


def nonfinite_variables(net: Network, state: NetworkState) -> dict[str, list[str]]:
    """Names of state variables holding NaN/inf, per population (host-side diagnosis)."""
    out = {}
    for rp, x in zip(net.rate_populations, state.nodes, strict=True):
        bad = [k for k, v in x.items() if not np.all(np.isfinite(np.asarray(v)))]
        if bad:
            out[rp.name] = bad
    for i, p in enumerate(net.populations):
        bad = [k for k, v in state.neurons[i].items() if not np.all(np.isfinite(np.asarray(v)))]
        for r, rec in enumerate(p.receptors):
            bad += [
                f"{rec.name}.{k}"
                for k, v in state.receptors[i][r].items()
                if not np.all(np.isfinite(np.asarray(v)))
            ]
        if bad:
            out[p.name] = bad
    return out
