"""Fitting models to recordings: stimuli, teacher-forced segments, losses, transforms, loop.

The building blocks of the fitting examples (``examples/fit_lif_trace.py``,
``fit_adex_trace.py``, ``fit_network_rates.py``): an Ornstein–Uhlenbeck stimulus, a
:class:`Recording` split at its spikes into segments simulated side by side with ``ns.run``
(teacher forcing; hidden adaptation currents are reconstructed from the potential), free
runs of many candidate parameter sets at once, trace and spike-train losses, parameter
transforms, a compiled optax loop and a derivative-free global search (CMA-ES) for
spike-train losses with plateaus.
"""

from ._cmaes import CMAESResult, cmaes
from ._free_run import run_free
from ._hidden import adaptation_current
from ._optimize import minimize, relative_errors
from ._ou import ou_current
from ._recording import record_neuron
from ._segments import Recording, Segments, first_crossing, run_segments, split_at_spikes
from ._trace_losses import (
    coincidence_factor,
    exponential_filter,
    smoothed_coincidence_loss,
    trace_mse,
    van_rossum_distance,
)
from ._transforms import (
    AbstractTransform,
    Affine,
    Bounded,
    ExpPositive,
    ParameterSpace,
    Positive,
    SoftplusPositive,
)

__all__ = [
    "ou_current",
    "Recording",
    "record_neuron",
    "Segments",
    "split_at_spikes",
    "run_segments",
    "first_crossing",
    "run_free",
    "adaptation_current",
    "trace_mse",
    "exponential_filter",
    "van_rossum_distance",
    "coincidence_factor",
    "smoothed_coincidence_loss",
    "AbstractTransform",
    "Positive",
    "ExpPositive",
    "SoftplusPositive",
    "Affine",
    "Bounded",
    "ParameterSpace",
    "minimize",
    "cmaes",
    "CMAESResult",
    "relative_errors",
]
