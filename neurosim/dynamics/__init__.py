"""Dynamical-systems analysis of neurosim models by automatic differentiation.

* :func:`system`: the continuous-time vector field of a neuron, rate node or coupled rate
  network, derived from the model's own ``vector_field``, with frozen variables and traced
  parameters; :func:`from_function` for any ``f(x, p)``; :func:`step_map` for discrete steps.
* :func:`fixed_points` (batched damped Newton from a grid, de-duplicated, classified by the
  Jacobian's eigenvalues, :func:`classify`), :func:`fixed_points_sweep` (one compiled call
  over a parameter grid), :func:`newton`.
* :func:`phase_plane` / :func:`nullclines` / :func:`trajectories` for 2-D systems
  (``ns.viz.phase_plane``).
* :func:`continuation` (pseudo-arclength, folds and Hopf points), :func:`two_parameter`
  (fold / Hopf curves), :func:`limit_cycle` (shooting) (``ns.viz.bifurcation``).
* :func:`slow_points` (Sussillo & Barak 2013), e.g. of a trained ``ns.train.RateRNN``
  (``system(rnn)``).

Example:
    >>> import neurosim as ns
    >>> adex = ns.dynamics.system(ns.neurons.AdEx(1))
    >>> fp = ns.dynamics.fixed_points(adex, [(-90, -30), (-200, 600)], {"i_ext": 300.0})
    >>> fp.kind
    ('stable node', 'saddle')
"""

from ._continuation import Branch, Event, continuation, two_parameter
from ._cycles import LimitCycle, limit_cycle, trajectories
from ._fixed_points import (
    KINDS,
    FixedPoints,
    classify,
    fixed_points,
    fixed_points_sweep,
    newton,
)
from ._phase import PhasePlane, nullclines, phase_plane
from ._slow import SlowPoints, slow_points, step_map
from ._system import System, from_function, system

__all__ = [
    "System",
    "system",
    "from_function",
    "step_map",
    "newton",
    "fixed_points",
    "fixed_points_sweep",
    "FixedPoints",
    "classify",
    "KINDS",
    "trajectories",
    "phase_plane",
    "nullclines",
    "PhasePlane",
    "continuation",
    "two_parameter",
    "Branch",
    "Event",
    "limit_cycle",
    "LimitCycle",
    "slow_points",
    "SlowPoints",
]
