"""Gradient-based training of spiking networks.

* Layers built on the neuron models' own step functions: :class:`SpikingLayer`
  (``Linear`` -> current synapse -> ``LIF``/``ALIF``, optionally recurrent),
  :class:`LeakyReadout`, :class:`SNN`, :func:`make_snn`.
* Through time: :func:`scan` (plain, per-step or nested checkpointing, memory O(sqrt T)),
  :func:`truncated_bptt`, and the online rule e-prop (:func:`eprop_grad`, memory
  independent of T).
* Losses, regularisers and encoders; parameter subsets (:func:`trainable`) and range
  transforms (:class:`Positive`, :class:`Bounded`); a compiled optax train step
  (:func:`make_train_step`) and epoch loop (:func:`fit`).
* A continuous-time leaky tanh rate RNN (:class:`RateRNN`, :func:`make_rate_rnn`) whose
  ``vector_field`` ``ns.dynamics`` analyses (slow points after training).
* Tasks (:func:`randman`, :func:`yinyang`, :func:`digits`, :func:`store_recall`,
  :func:`flip_flop`) and readers for SHD and N-MNIST files.

Surrogate spike functions live with the neurons (``ns.neurons.FastSigmoid``, ...).
"""

from ._encoders import delta, latency, rate_bernoulli, rate_poisson
from ._eprop import cosine_similarity, eprop_grad, make_eprop_grad_fn, random_feedback
from ._layers import Linear, SpikingLayer, default_neuron, psp_peak
from ._loaders import events_to_frames, load_nmnist, load_shd, read_nmnist
from ._losses import (
    accuracy,
    cross_entropy,
    exp_filter,
    first_spike_loss,
    first_spike_times,
    l1_activity,
    max_membrane_cross_entropy,
    membrane_cross_entropy,
    rate_bounds,
    rate_cross_entropy,
    rate_loss,
    summary_loss,
    summary_statistics,
    van_rossum_distance,
    voltage_mse,
)
from ._params import (
    AbstractConstrained,
    Bounded,
    Positive,
    SoftplusPositive,
    constrain,
    trainable,
    unwrap,
)
from ._rate_rnn import RateRNN, make_rate_rnn
from ._scan import scan, truncated_bptt
from ._snn import SNN, LeakyReadout, SNNOutput, make_snn
from ._tasks import digits, flip_flop, randman, store_recall, yinyang
from ._trainer import fit, init_opt_state, make_train_step, predict_batched, print_epoch

__all__ = [
    # layers
    "Linear",
    "SpikingLayer",
    "LeakyReadout",
    "SNN",
    "SNNOutput",
    "make_snn",
    "default_neuron",
    "psp_peak",
    # continuous-time rate network
    "RateRNN",
    "make_rate_rnn",
    # through time
    "scan",
    "truncated_bptt",
    "eprop_grad",
    "make_eprop_grad_fn",
    "random_feedback",
    "cosine_similarity",
    # losses and regularisers
    "cross_entropy",
    "accuracy",
    "rate_cross_entropy",
    "max_membrane_cross_entropy",
    "membrane_cross_entropy",
    "first_spike_times",
    "first_spike_loss",
    "exp_filter",
    "van_rossum_distance",
    "voltage_mse",
    "rate_loss",
    "summary_statistics",
    "summary_loss",
    "rate_bounds",
    "l1_activity",
    # encoders
    "rate_bernoulli",
    "rate_poisson",
    "latency",
    "delta",
    # parameters
    "AbstractConstrained",
    "Positive",
    "Bounded",
    "SoftplusPositive",
    "constrain",
    "unwrap",
    "trainable",
    # training loop
    "make_train_step",
    "init_opt_state",
    "fit",
    "predict_batched",
    "print_epoch",
    # tasks and loaders
    "randman",
    "yinyang",
    "digits",
    "store_recall",
    "flip_flop",
    "load_shd",
    "read_nmnist",
    "events_to_frames",
    "load_nmnist",
]
