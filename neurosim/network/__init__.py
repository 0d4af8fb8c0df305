"""Network assembly (populations, projections, inputs), state, and the simulation loops."""

from ._builder import NetworkBuilder
from ._dynamics import AbstractProjectionDynamics, ProjectionDrive, Transmission
from ._inputs import AbstractCurrent, ArrayCurrent, ConstantCurrent, StepCurrent
from ._network import Network, NetworkState, Plan, network_step
from ._record import Trace
from ._result import SimulationError, SimulationResult
from ._run import RunOutput, run
from ._simulate import decode_packed_spikes, simulate
from ._structure import Input, Population, Projection, Receptor

__all__ = [
    "NetworkBuilder",
    "AbstractProjectionDynamics",
    "ProjectionDrive",
    "Transmission",
    "Network",
    "NetworkState",
    "Plan",
    "network_step",
    "Population",
    "Projection",
    "Receptor",
    "Input",
    "AbstractCurrent",
    "ConstantCurrent",
    "StepCurrent",
    "ArrayCurrent",
    "Trace",
    "run",
    "RunOutput",
    "simulate",
    "SimulationResult",
    "SimulationError",
    "decode_packed_spikes",
]
