"""neurosim: a JAX-based, differentiable brain-simulation engine.

Example:
    >>> import jax, neurosim as ns
    >>> net = ns.models.coba(n=4000, key=jax.random.key(0))
    >>> res = ns.simulate(net, duration=1000.0, dt=0.1, key=jax.random.key(1))
"""

from . import (
    analysis,
    assimilate,
    bold,
    config,
    connectivity,
    connectome,
    fit,
    init,
    inputs,
    integrators,
    io,
    models,
    neurons,
    ops,
    plasticity,
    rates,
    synapses,
    theory,
    viz,
)
from ._component import AbstractComponent
from ._threads import set_cpu_threads
from .network import (
    Network,
    NetworkBuilder,
    NetworkState,
    RunOutput,
    SimulationError,
    SimulationResult,
    Trace,
    run,
    simulate,
)

from . import train  # isort: skip  (gradient training; after the core it builds on)
from . import dynamics  # isort: skip  (analysis of the models above)
from . import distributed  # isort: skip  (sharding over devices; builds on network)
from . import nir  # isort: skip  (NIR exchange of train networks; the `nir` package is optional)

__version__ = "0.1.0"

__all__ = [
    "AbstractComponent",
    "analysis",
    "assimilate",
    "bold",
    "config",
    "connectivity",
    "connectome",
    "distributed",
    "dynamics",
    "fit",
    "init",
    "inputs",
    "integrators",
    "io",
    "models",
    "neurons",
    "nir",
    "ops",
    "rates",
    "synapses",
    "train",
    "viz",
    "plasticity",
    "theory",
    "Network",
    "NetworkBuilder",
    "NetworkState",
    "RunOutput",
    "SimulationError",
    "SimulationResult",
    "Trace",
    "run",
    "set_cpu_threads",
    "simulate",
]
