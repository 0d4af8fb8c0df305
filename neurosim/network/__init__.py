"""Network assembly (spiking and rate populations, projections, couplings, inputs, readouts),
state, and the simulation loops."""

from ._builder import NetworkBuilder
from ._conventions import Conventions
from ._couplings import (
    AbstractCrossCoupling,
    CurrentDrive,
    PopulationActivity,
    RateDrive,
    SynapticActivity,
)
from ._delays import DelayRoundingWarning, deliver_delayed
from ._dynamics import AbstractProjectionDynamics, ProjectionDrive, Transmission
from ._fused import fused_populations
from ._inputs import AbstractCurrent, ArrayCurrent, ConstantCurrent, StepCurrent
from ._inputs_stochastic import OUCurrent, WhiteNoiseCurrent
from ._inputs_waveforms import RampCurrent, SinusoidalCurrent
from ._multiscale import (
    CrossCoupling,
    NodeCoupling,
    RatePopulation,
    ReadoutSlot,
    cross_rings,
    node_drives,
    node_history,
    node_inputs,
    nonfinite_nodes,
    rate_nodes,
    readout_drive,
    receptor_currents,
)
from ._multiscale_builder import check_rate_parts
from ._network import Network, NetworkState, Plan
from ._poisson_input import PoissonInput, PoissonInputSlot
from ._readouts import AbstractReadout, PopulationRate, SynapticLFP
from ._record import Trace, resolve_record_spikes, spike_buffers
from ._regions import region_mean, region_sum
from ._result import SimulationError, SimulationResult, simulation_result
from ._run import RunOutput, run
from ._simulate import decode_packed_spikes, simulate
from ._spike_sources import InhomogeneousPoisson, SpikeTimes
from ._step import external_inputs as step_inputs
from ._step import network_step
from ._step import neurons as step_neurons
from ._step import receptors as step_receptors
from ._structure import Input, Population, Projection, Receptor

__all__ = [
    "NetworkBuilder",
    "Conventions",
    "PoissonInput",
    "PoissonInputSlot",
    "AbstractProjectionDynamics",
    "ProjectionDrive",
    "Transmission",
    "Network",
    "NetworkState",
    "Plan",
    "network_step",
    "fused_populations",
    "deliver_delayed",
    "step_inputs",
    "step_neurons",
    "step_receptors",
    # phases of the multi-scale step, composed again by ns.distributed's sharded step
    "rate_nodes",
    "node_inputs",
    "node_drives",
    "node_history",
    "nonfinite_nodes",
    "cross_rings",
    "readout_drive",
    "receptor_currents",
    "region_mean",
    "region_sum",
    "Population",
    "Projection",
    "Receptor",
    "Input",
    "AbstractCurrent",
    "ConstantCurrent",
    "StepCurrent",
    "ArrayCurrent",
    "OUCurrent",
    "WhiteNoiseCurrent",
    "RampCurrent",
    "SinusoidalCurrent",
    "InhomogeneousPoisson",
    "SpikeTimes",
    "Trace",
    "run",
    "RunOutput",
    "simulate",
    "SimulationResult",
    "SimulationError",
    "simulation_result",
    "resolve_record_spikes",
    "spike_buffers",
    "decode_packed_spikes",
    "RatePopulation",
    "NodeCoupling",
    "CrossCoupling",
    "ReadoutSlot",
    "AbstractCrossCoupling",
    "PopulationActivity",
    "SynapticActivity",
    "CurrentDrive",
    "RateDrive",
    "AbstractReadout",
    "PopulationRate",
    "SynapticLFP",
    "check_rate_parts",
    "DelayRoundingWarning",
]
