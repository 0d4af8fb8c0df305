"""External Poisson drive of the NEST validation networks, and NEST's delay convention.

NEST drives each neuron with its own Poisson train (``poisson_generator`` connected
all-to-all: one independent train per target). Here: a pool of independent
:class:`~neurosim.neurons.PoissonSource` at the per-source rate, each neuron drawing a fixed
in-degree from it (a single Bernoulli source per neuron would saturate at one spike per
step). The pool holds ``POOL_FACTOR`` times the largest in-degree, so two neurons share about
``1 / POOL_FACTOR`` of their inputs.
"""

from __future__ import annotations

from .. import connectivity, init, neurons

__all__ = ["add_poisson_pool", "connect_pool", "nest_delay", "POOL_FACTOR"]

POOL_FACTOR = 20  # pool size / largest in-degree: two neurons share ~5 % of their inputs
POOL_NAME = "bg"


def add_poisson_pool(b, max_in_degree: int, rate_hz: float) -> str:
    """Add the pool population (``POOL_FACTOR * max_in_degree`` sources of ``rate_hz``)."""
    n = max(1, POOL_FACTOR * int(max_in_degree))
    return b.add_population(POOL_NAME, neurons.PoissonSource(n, rate=float(rate_hz)))


def connect_pool(b, target: str, in_degree: int, weight, synapse, output, delay, key=None):
    """``in_degree`` pool sources onto each neuron of ``target`` (multapses allowed, as NEST)."""
    return b.connect(
        POOL_NAME,
        target,
        connectivity.FixedInDegree(int(in_degree), allow_multapses=True),
        weight=weight,
        synapse=synapse,
        output=output,
        delay=delay,
        key=key,
        name=f"{POOL_NAME}->{target}",
    )


def nest_delay(mean: float, std: float | None, dt: float):
    """The ``delay`` argument of ``connect`` that gives NEST's total latency (ms).

    NEST delivers a spike ``round(d / dt)`` steps after it is emitted (at least one step);
    ``connect`` delivers it ``round(delay / dt) + 1`` steps after, so ``delay = d - dt``. A
    normal delay that NEST redraws below ``dt / 2`` (``redraw(normal(mean, std), min=dt/2)``,
    the microcircuit) becomes the same truncated normal shifted by ``-dt`` and clipped at 0:
    values in ``[-dt/2, 0)`` round to 0 steps exactly as their unshifted values round to one,
    so the distribution of delay steps is NEST's.
    """
    if std is None or std == 0:
        return max(float(mean) - dt, 0.0)
    shifted = init.TruncatedNormal(float(mean) - dt, float(std), low=0.5 * dt - dt)
    return init.Clipped(shifted, low=0.0)
