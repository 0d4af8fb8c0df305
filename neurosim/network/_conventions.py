"""Timing conventions of a network: delay latency, refractory length, spike time stamps.

Simulators that agree on the equations still differ by a step in when things happen. The two
sets here are neurosim's default (Brian2's schedule) and NEST's grid conventions; choose one
per network with ``NetworkBuilder(conventions="nest")``. With ``R = round(t_ref / dt)`` and
``D = round(delay / dt)``, a neuron crossing threshold in step ``i`` (from ``i dt`` to
``(i+1) dt``):

=================  ======================================  ======================================
what               ``"default"`` (Brian2's schedule)       ``"nest"`` (NEST 3)
=================  ======================================  ======================================
spike time stamp   ``i dt`` (start of the step)            ``(i + 1) dt`` (end of the step)
delay ``d``        ``D`` steps *beyond* the one-step       total latency ``max(D, 1)`` steps: the
                   minimum: the receptor state jumps at    receptor state (exp/alpha: the current
                   ``(i+1+D) dt`` = stamp + ``d + dt``      or conductance; Delta: ``v``) jumps
                   (Delta: ``v`` one step later)           at stamp + ``max(D, 1) dt``
refractory         held ``R - 1`` steps (integrates        held ``R`` steps (integrates again in
                   again in step ``i + R``: ``t_ref``      step ``i + R + 1``, NEST's
                   between stamps, Brian2)                 ``RefractoryCounts``)
time-given         a spike at ``t`` is emitted in step     emitted in step ``round(t/dt) - 1``:
sources            ``round(t/dt)``, stamped ``t``          stamped ``t``, as a
                                                           ``spike_generator``'s
=================  ======================================  ======================================

NEST delivers a spike stamped ``s`` with delay ``d`` in the step ending at ``s + d``
(``Event::get_rel_delivery_steps``): ``iaf_psc_exp``/``iaf_psc_alpha`` add it to the synaptic
current at the end of that step (the membrane feels it from ``s + d`` on), ``iaf_psc_delta``
adds it to ``V`` within that step. neurosim's receptors take the increments at the end of the
delivery step and a Delta jump enters ``v`` in the step after, so under ``"nest"`` a
projection onto Delta kinetics is delivered one step earlier than onto a time course; both
then match NEST. A delay below one step is an error in NEST and the one-step minimum here.
Per-synapse delays follow the same rules. Time-given sources
(:class:`neurosim.inputs.SpikeTimes`) read the step counter of their stamp (``i + 1`` in step
``i``); rate-given ones (:class:`neurosim.inputs.InhomogeneousPoisson`) read ``i`` in either
convention (their rate is taken over the step ``[i dt, (i+1) dt)`` that the spike is drawn
in, whatever its stamp).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from .._validate import check_literal

__all__ = ["Conventions", "resolve_conventions"]

DelayRule = Literal["extra", "total"]
RefractoryRule = Literal["brian2", "nest"]
SpikeStamp = Literal["start", "end"]


@dataclasses.dataclass(frozen=True)
class Conventions:
    """The timing conventions of a network (see :mod:`neurosim.network._conventions`).

    Args:
        delay: ``"extra"`` (default: a delay ``d`` adds ``round(d/dt)`` steps to the one-step
            minimum) or ``"total"`` (``d`` is the whole latency, at least one step; NEST).
        refractory: ``"brian2"`` (held ``round(t_ref/dt) - 1`` steps after the spike step) or
            ``"nest"`` (held ``round(t_ref/dt)`` steps).
        spike_time: ``"start"`` (a spike in step ``i`` is stamped ``i dt``) or ``"end"``
            (``(i + 1) dt``, NEST's grid stamp).

    Example:
        >>> import neurosim as ns
        >>> b = ns.NetworkBuilder(conventions=ns.network.Conventions.nest())
        >>> ns.network.Conventions.nest().refractory
        'nest'
    """

    delay: DelayRule = "extra"
    refractory: RefractoryRule = "brian2"
    spike_time: SpikeStamp = "start"

    def __post_init__(self):
        check_literal("delay", self.delay, DelayRule)
        check_literal("refractory", self.refractory, RefractoryRule)
        check_literal("spike_time", self.spike_time, SpikeStamp)

    @classmethod
    def default(cls) -> Conventions:
        """neurosim's default (Brian2's schedule)."""
        return cls()

    @classmethod
    def nest(cls) -> Conventions:
        """NEST's grid conventions (total-latency delays, ``R`` refractory steps, end stamps)."""
        return cls(delay="total", refractory="nest", spike_time="end")

    def delay_steps(self, delay_ms: float, dt: float, jump: bool = False) -> int:
        """Ring-buffer steps of a homogeneous delay (``jump``: onto Delta kinetics).

        ``"extra"``: ``round(d/dt)``; ``"total"``: ``max(round(d/dt), 1)``, one less onto
        Delta kinetics (whose jump enters ``v`` a step after the receptor takes it).
        """
        d = int(round(float(delay_ms) / float(dt)))
        if self.delay == "extra":
            return d
        return max(d, 1) - (1 if jump else 0)

    def synapse_delay_rule(self, jump: bool = False) -> tuple[int, int]:
        """``(offset, minimum)``: per-synapse steps are ``max(round(d/dt) - offset, minimum)``."""
        if self.delay == "extra":
            return 0, 0
        return (1, 0) if jump else (0, 1)

    @property
    def stamp_offset(self) -> int:
        """Spike time stamp of step ``i`` is ``(i + stamp_offset) dt``."""
        return 0 if self.spike_time == "start" else 1


def resolve_conventions(conventions) -> Conventions:
    """A :class:`Conventions` from ``None``/``"default"``/``"nest"`` or a ``Conventions``."""
    if conventions is None or conventions == "default":
        return Conventions()
    if conventions == "nest":
        return Conventions.nest()
    if isinstance(conventions, Conventions):
        return conventions
    raise ValueError(
        f"conventions must be 'default', 'nest' or ns.network.Conventions(...), got {conventions!r}"
    )
