"""Where each neuron lives: the 1-D device mesh, the per-population blocks, the exchange interval.

A spiking population of ``n`` neurons is split into ``D`` contiguous blocks of
``b = ceil(n / D)`` places (device ``k`` owns neurons ``[k b, min((k + 1) b, n))``; places past
``n`` are inert padding: copies of the last neuron with zero input whose spikes are masked).
Spike sources (Poisson, spike times) are replicated: every device computes all of them (cheap,
and no spike of theirs is exchanged).
Spikes of sharded populations are exchanged every ``interval`` steps, the minimum delay of
the projections leaving them (NEST's min-delay scheme, in steps of the one-step minimum).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from jax.sharding import Mesh

from ..network import Network
from ..neurons import AbstractSpikeSource
from ..ops import CSR, ELL, ProceduralBernoulli

__all__ = ["AXIS", "Layout", "make_mesh", "layout"]

AXIS = "neurons"
"""Name of the mesh axis neurons are sharded along."""


def make_mesh(n_devices: int | None = None, devices=None) -> Mesh:
    """A 1-D :class:`jax.sharding.Mesh` (axis ``"neurons"``) over ``n_devices`` devices.

    Args:
        n_devices: how many devices (default: all of ``devices``).
        devices: the devices (default ``jax.devices()``, every process's devices when
            several hosts joined with :func:`neurosim.distributed.initialize`).

    Example:
        >>> import neurosim as ns
        >>> ns.distributed.make_mesh(1).shape["neurons"]
        1
    """
    devs = list(jax.devices() if devices is None else devices)
    if n_devices is not None:
        if isinstance(n_devices, bool) or not isinstance(n_devices, (int, np.integer)):
            raise TypeError(f"n_devices must be an integer, got {n_devices!r}")
        if not 1 <= n_devices <= len(devs):
            raise ValueError(
                f"n_devices must be in [1, {len(devs)}] (the devices available), got {n_devices}; "
                "on CPU set XLA_FLAGS=--xla_force_host_platform_device_count=N before importing jax"
            )
        devs = devs[: int(n_devices)]
    return Mesh(np.array(devs), (AXIS,))


@dataclasses.dataclass(frozen=True)
class Layout:
    """Static facts of a sharded run (hashable: part of the compiled function's key).

    Attributes:
        n_devices: devices along the mesh axis ``D``.
        sharded: per population, True if split over devices (neurons), False if replicated
            (spike sources).
        size: per population, its number of neurons ``n``.
        block: per population, neurons per device (``ceil(n / D)``; ``n`` when replicated).
            When ``D`` does not divide ``n`` the blocks cover ``D * block > n`` places; those
            past ``n`` hold inert copies of the last neuron whose spikes are masked (see
            :meth:`rows`).
        exchanged: per population, True if its spikes are exchanged (sharded and the source
            of some projection).
        interval: steps between spike exchanges (the minimum delay in steps, >= 1).
        delay_steps: per projection, its homogeneous delay in steps (``round(delay / dt)``).
        ring_len: per population, length of its spike-history ring (0: none).
        future_len: per projection with per-synapse delays, its ring of future input (0: none).
        node_ring: per rate population, its ring of past outputs (0: none); replicated.
        cross_delay: per cross-scale coupling, its delay in steps; replicated.
    """

    n_devices: int
    sharded: tuple[bool, ...]
    size: tuple[int, ...]
    block: tuple[int, ...]
    exchanged: tuple[bool, ...]
    interval: int
    delay_steps: tuple[int, ...]
    ring_len: tuple[int, ...]
    future_len: tuple[int, ...]
    node_ring: tuple[int, ...] = ()
    cross_delay: tuple[int, ...] = ()

    def padded(self, i: int) -> bool:
        """True if population ``i`` is sharded with padding (``D`` does not divide ``n``)."""
        return self.sharded[i] and self.block[i] * self.n_devices != self.size[i]

    def rows(self, i: int, k: int) -> np.ndarray:
        """Global neuron index of each place of device ``k``'s block of population ``i``,
        clipped to the last neuron for padding places (whose values are copies)."""
        b = self.block[i]
        return np.minimum(k * b + np.arange(b), self.size[i] - 1)

    def bytes_per_exchange(self) -> int:
        """Bytes each device contributes per exchange: ``interval`` bit-packed spike vectors."""
        return self.interval * sum(
            (b + 7) // 8 for b, x in zip(self.block, self.exchanged, strict=True) if x
        )

    def bytes_received_per_step(self) -> float:
        """Bytes every device receives per step from the others, averaged over an interval."""
        return (self.n_devices - 1) * self.bytes_per_exchange() / self.interval


def _unsupported(net: Network) -> str:
    parts = [("gap junctions", net.gap_junctions)]
    have = [name for name, x in parts if x]
    have += [f"projection {pr.name!r} with dynamics" for pr in net.projections if pr.dynamics]
    return ", ".join(have)


def synapse_delay_steps_min(pr, dt: float, rule=(0, 0)) -> int | None:
    """Smallest per-synapse delay of ``pr`` in steps, None if no synapse.

    The kernel's rounding and the network's convention ``rule = (offset, minimum)``
    (:meth:`neurosim.network.Conventions.synapse_delay_rule`): ``max(round(d/dt) - offset,
    minimum)``, monotone in ``d``, so the smallest delay gives the smallest step count.
    """
    delays = pr.synapse_delays
    dtype = np.dtype(delays.dtype)
    d = np.asarray(delays, dtype)
    if isinstance(pr.conn, CSR):
        d = d[: pr.conn.nnz]
    else:
        d = d[np.asarray(pr.conn.targets) < pr.conn.n_post]
    if d.size == 0:
        return None
    steps = int(np.round(d / np.asarray(dt, dtype)).astype(np.int64).min())
    return max(steps - int(rule[0]), int(rule[1]))


def layout(net: Network, n_devices: int, dt: float, min_delay: float | None = None) -> Layout:
    """Check that ``net`` can be sharded over ``n_devices`` and return its :class:`Layout`.

    Raises ``ValueError`` naming the problem and its fix for: parts not supported by sharded
    runs, a population smaller than the number of devices, connectivity other than CSR, ELL
    or procedural (procedural: homogeneous delay only), and a ``min_delay`` below one step,
    not a multiple of ``dt`` or above the network's minimum delay.
    """
    bad = _unsupported(net)
    if bad:
        raise ValueError(
            "sharded runs support spiking populations, static projections (homogeneous or "
            "per-synapse delays), inputs, per-neuron Poisson inputs, rate populations, "
            "couplings and readouts (replicated), and either timing convention; this network "
            f"also has {bad}: run it on one device (ns.simulate without mesh=)"
        )
    plan = net.plan(dt)
    sharded, block = [], []
    for p in net.populations:
        rep = isinstance(p.neuron, AbstractSpikeSource)
        sharded.append(not rep)
        if rep:
            block.append(p.n)
            continue
        if p.n < n_devices:
            raise ValueError(
                f"population {p.name!r} has {p.n} neurons, fewer than the {n_devices} devices of "
                "the mesh; use a mesh with at most as many devices as neurons "
                f"(ns.distributed.make_mesh({p.n}) or fewer)"
            )
        block.append(-(-p.n // n_devices))  # ceil: the last blocks end in inert padding
    exchanged = [False] * len(net.populations)
    d_min = None
    for j, pr in enumerate(net.projections):
        if isinstance(pr.conn, ProceduralBernoulli) and pr.synapse_delays is not None:
            raise ValueError(
                f"projection {pr.name!r} is procedural with per-synapse delays; sharded runs "
                "regenerate procedural rows only with a homogeneous delay: use stored "
                "connectivity (connectivity='stored') or one delay for the projection"
            )
        if not isinstance(pr.conn, (CSR, ELL, ProceduralBernoulli)):
            raise ValueError(
                f"projection {pr.name!r} uses {type(pr.conn).__name__}; sharded runs need "
                "ns.ops.CSR, ns.ops.ELL or ns.ops.ProceduralBernoulli, e.g. "
                "connectivity='stored'"
            )
        if not sharded[pr.pre]:
            continue
        exchanged[pr.pre] = True
        if pr.synapse_delays is None:
            d = plan.delay_steps[j]
        else:
            rule = net.conventions.synapse_delay_rule(net.onto_jump(pr))
            d = synapse_delay_steps_min(pr, dt, rule)
            if d is None:
                continue
        d_min = d if d_min is None else min(d_min, d)
    interval = 1 if d_min is None else d_min + 1
    if min_delay is not None:
        steps = float(min_delay) / dt
        if not np.isfinite(steps) or steps < 1 - 1e-9:
            raise ValueError(
                f"min_delay must be at least one step (dt={dt} ms), got {min_delay!r} ms: a spike "
                "cannot reach another neuron within the step that emitted it"
            )
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"min_delay must be a multiple of dt={dt} ms, got {min_delay} ms")
        if round(steps) > interval:
            raise ValueError(
                f"min_delay={min_delay} ms is longer than the network's minimum delay "
                f"({interval * dt:g} ms = one step + the shortest delay of a projection leaving "
                "a sharded population): spikes would arrive late; use a value <= that, or None"
            )
        interval = int(round(steps))
    return Layout(
        n_devices=int(n_devices),
        sharded=tuple(sharded),
        size=tuple(p.n for p in net.populations),
        block=tuple(block),
        exchanged=tuple(exchanged),
        interval=int(interval),
        delay_steps=plan.delay_steps,
        ring_len=plan.ring_len,
        future_len=plan.future_len,
        node_ring=plan.node_ring,
        cross_delay=plan.cross_delay,
    )
