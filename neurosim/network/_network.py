"""The assembled network, its explicit state and its one-step update (a pure function)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..neurons import AbstractSpikeSource
from ..ops import any_nonfinite, event_matvec
from ._delays import deliver_delayed, ring_length
from ._dynamics import ProjectionDrive
from ._gap import Electrical, gap_drives
from ._structure import Input, Population, Projection

__all__ = ["Network", "NetworkState", "Plan", "network_step"]


class Plan(NamedTuple):
    """Static (shape-deciding) facts derived from a network and a concrete ``dt``."""

    delay_steps: tuple[int, ...]  # per projection
    ring_len: tuple[int, ...]  # per population; 0 = no spike history kept
    future_len: tuple[int, ...] = ()  # per projection: ring of future input; 0 = none


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
    """

    step: jax.Array
    neurons: tuple[dict, ...]
    receptors: tuple[tuple[dict, ...], ...]
    inputs: tuple[dict, ...]
    projections: tuple[dict, ...]
    history: tuple[jax.Array | None, ...]
    fault_step: jax.Array
    delay_rings: tuple[jax.Array | None, ...] = ()


class Network(eqx.Module):
    """An immutable network pytree: populations, projections, inputs and gap junctions.

    Build one with :class:`neurosim.NetworkBuilder` (or a built-in model from
    :mod:`neurosim.models`). Parameters are array leaves (changing them never recompiles);
    names, sizes and delays are static.
    """

    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    inputs: tuple[Input, ...]
    gap_junctions: tuple[Electrical, ...] = ()

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

    def plan(self, dt: float) -> Plan:
        """Delay lengths in steps and ring sizes for a concrete ``dt`` (ms)."""
        dt = float(dt)
        delay_steps = tuple(int(round(pr.delay / dt)) for pr in self.projections)
        ring = [0] * len(self.populations)
        for pr, d in zip(self.projections, delay_steps, strict=True):
            if d > 0:
                ring[pr.pre] = max(ring[pr.pre], d + 1)
        future = tuple(
            0
            if pr.synapse_delays is None
            else ring_length(pr.max_delay, pr.synapse_delays.dtype, dt, pr.conn.n_post, pr.name)
            for pr in self.projections
        )
        return Plan(delay_steps, tuple(ring), future)

    # -- state ----------------------------------------------------------------------------
    def init_state(self, key, dt: float = 0.1) -> NetworkState:
        """Initial state: neuron states sampled with ``key``, synapses at rest, no spike history.

        ``dt`` (ms) sizes the spike-history rings of delayed projections.
        """
        plan = self.plan(dt)
        k_neu, k_inp, k_rec, k_prj = jax.random.split(key, 4)
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
        history = tuple(
            jnp.zeros((L, p.n), dtype) if L > 0 else None
            for p, L in zip(self.populations, plan.ring_len, strict=True)
        )
        delay_rings = tuple(
            jnp.zeros((D, pr.conn.n_post), dtype) if D > 0 else None
            for pr, D in zip(self.projections, plan.future_len, strict=True)
        )
        return NetworkState(
            step=jnp.asarray(0, jnp.int32),
            neurons=neurons,
            receptors=receptors,
            inputs=inputs,
            projections=projections,
            history=history,
            fault_step=jnp.full((len(self.populations),), -1, jnp.int32),
            delay_rings=delay_rings,
        )

    def init(self, key, dt: float = 0.1) -> NetworkState:
        """Alias of :meth:`init_state` (the component protocol's name)."""
        return self.init_state(key, dt)

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

    def summary(self) -> str:
        """A short human-readable description."""
        lines = [f"Network: {self.n} neurons, {len(self.projections)} projections"]
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
        return "\n".join(lines)


def _slice(x, sl: tuple[int, int], n: int):
    return x if sl == (0, n) else x[sl[0] : sl[1]]


def _add_slice(base, sl: tuple[int, int], val):
    if sl == (0, base.shape[0]):
        return base + val
    return base.at[sl[0] : sl[1]].add(val)


def _nonfinite(tree) -> jax.Array:
    """True if any floating leaf of ``tree`` holds NaN or inf (compiled check on CPU)."""
    return any_nonfinite(tree)


def network_step(net: Network, plan: Plan, state: NetworkState, key, dt):
    """Advance the whole network by one step of ``dt`` (ms). Pure; returns ``(state, spikes)``.

    Order within step ``i`` (``t = i dt``), as in Brian2's default schedule:

    1. every population integrates its neurons from ``t`` to ``t + dt`` with the synaptic
       drive of its receptors and gap junctions at ``t`` (voltage-dependent outputs and gap
       junctions see the membrane potentials at ``t``) and external currents at ``t``;
       threshold and reset;
    2. receptors decay exactly over ``dt``;
    3. spikes (of this step, or of step ``i - d`` for delay ``d``) are delivered into the
       receptors through the event-driven operators, so they act from step ``i + 1`` on.

    ``spikes`` is a tuple with one float array of shape ``(n,)`` per population.
    """
    step = state.step
    k_step = jax.random.fold_in(key, step)
    k_neu, k_inp = jax.random.split(k_step)
    dtype = jnp.result_type(float)

    # External currents.
    i_ext = [jnp.zeros((p.n,), dtype) for p in net.populations]
    new_inputs = []
    for j, inp in enumerate(net.inputs):
        st, cur = inp.current.step(state.inputs[j], None, step, dt, jax.random.fold_in(k_inp, j))
        n_t = inp.target_slice[1] - inp.target_slice[0]
        i_ext[inp.target] = _add_slice(
            i_ext[inp.target], inp.target_slice, jnp.broadcast_to(cur, (n_t,)).astype(dtype)
        )
        new_inputs.append(st)

    # Neurons.
    new_neurons, spikes = [], []
    gap = gap_drives(net.gap_junctions, net.populations, state.neurons)
    for i, p in enumerate(net.populations):
        k = jax.random.fold_in(k_neu, i)
        if isinstance(p.neuron, AbstractSpikeSource):
            st, s = p.neuron.step(state.neurons[i], None, step, dt, k)
            new_neurons.append(st)
            spikes.append(s)
            continue
        drive = p.drive(state.receptors[i], state.neurons[i].get("v"))
        if gap[i] is not None:
            drive = drive + gap[i]
        st, s = p.neuron.step(state.neurons[i], drive.with_current(i_ext[i]), step, dt, k)
        new_neurons.append(st)
        spikes.append(s)

    # Synaptic decay, then event-driven delivery.
    increments = [[None] * len(p.receptors) for p in net.populations]
    new_projections = []
    rings = list(state.delay_rings or (None,) * len(net.projections))
    for j, (pr, d) in enumerate(zip(net.projections, plan.delay_steps, strict=True)):
        pre_pop, post_pop = net.populations[pr.pre], net.populations[pr.post]
        if d == 0:
            src = spikes[pr.pre]
        else:
            ring = state.history[pr.pre]
            src = jax.lax.dynamic_index_in_dim(ring, (step - d) % ring.shape[0], keepdims=False)
        src = _slice(src, pr.pre_slice, pre_pop.n)
        conn, values, pst = pr.conn, src, state.projections[j]
        if pr.dynamics is not None:
            post_spikes = _slice(spikes[pr.post], pr.post_slice, post_pop.n)
            pst, (values, conn) = pr.dynamics.step(
                pst, ProjectionDrive(conn, src, post_spikes), step, dt, None
            )
        if pr.synapse_delays is not None:  # per-synapse delays: ring of future input
            rings[j], out = deliver_delayed(
                conn, pr.synapse_delays, values, rings[j], step, dt, pr.backend
            )
        else:
            out = event_matvec(conn, values, backend=pr.backend)
        new_projections.append(pst)
        if pr.post_slice != (0, post_pop.n):
            out = _add_slice(jnp.zeros((post_pop.n,), out.dtype), pr.post_slice, out)
        cur = increments[pr.post][pr.receptor]
        increments[pr.post][pr.receptor] = out if cur is None else cur + out

    new_receptors = []
    for i, p in enumerate(net.populations):
        recs = []
        for r, rec in enumerate(p.receptors):
            st, _ = rec.kinetics.step(state.receptors[i][r], increments[i][r], step, dt, None)
            recs.append(st)
        new_receptors.append(tuple(recs))

    # Spike history for delayed projections.
    history = []
    for i, h in enumerate(state.history):
        if h is None:
            history.append(None)
        else:
            history.append(
                jax.lax.dynamic_update_index_in_dim(
                    h, spikes[i].astype(h.dtype), step % h.shape[0], 0
                )
            )

    # Fault detection: first step at which a population's state stops being finite.
    bad = jnp.stack(
        [_nonfinite((new_neurons[i], new_receptors[i])) for i in range(len(net.populations))]
    )
    fault = jnp.where((state.fault_step < 0) & bad, step, state.fault_step)

    new_state = NetworkState(
        step=step + 1,
        neurons=tuple(new_neurons),
        receptors=tuple(new_receptors),
        inputs=tuple(new_inputs),
        projections=tuple(new_projections),
        history=tuple(history),
        fault_step=fault,
        delay_rings=tuple(rings) if state.delay_rings else state.delay_rings,
    )
    return new_state, tuple(spikes)


def nonfinite_variables(net: Network, state: NetworkState) -> dict[str, list[str]]:
    """Names of state variables holding NaN/inf, per population (host-side diagnosis)."""
    out = {}
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
