"""Ensemble Kalman data assimilation (pure JAX): filters, parameter transforms, the loop.

:func:`enkf_update` (stochastic, perturbed observations; optional localisation) and
:func:`etkf_update` (deterministic square root) are single analysis steps on an ensemble
array, with multiplicative inflation and relaxation to prior spread per component
(:func:`relax_to_prior_spread`); :class:`Bounded` / :class:`Positive` put parameters in
unconstrained coordinates for state augmentation, :func:`random_walk` moves them,
:func:`gamma_heterogeneity` draws the Digital Twin Brain's per-neuron factors;
:func:`run_filter` is the window-by-window loop.
:func:`twin_experiment` runs the whole-brain twin (reduced Wong–Wang + BOLD on tvb-data's
connectome, :class:`RWWTwin`) end to end; ``neurosim assimilate`` is its command line.
:func:`spiking_twin_experiment` is twin (b): Digital-Twin-Brain-style conductance LIF regions
with four receptors (:class:`SpikingTwin`), per-region hyperparameters recovered from BOLD.

Example:
    >>> import jax, jax.numpy as jnp, neurosim as ns
    >>> X = jax.random.normal(jax.random.key(0), (32, 2))
    >>> Xa, diag = ns.assimilate.etkf_update(X, X[:, :1], jnp.array([1.0]), 0.1)
"""

from ._experiment import TwinConfig, TwinResult, plot_twin, tvb_connectome, twin_experiment
from ._experiment_b import SpikingTwinConfig, plot_spiking_twin, spiking_twin_experiment
from ._filters import (
    Diagnostics,
    check_ensemble,
    enkf_update,
    etkf_update,
    relax_to_prior_spread,
)
from ._loop import FilterResult, run_filter
from ._params import Bounded, Positive, gamma_heterogeneity, random_walk
from ._spiking_twin import RECEPTORS, SpikingTwin
from ._twin import RWWTwin, fc_vector, free_bold, oracle_forecast

__all__ = [
    "enkf_update",
    "etkf_update",
    "relax_to_prior_spread",
    "Diagnostics",
    "check_ensemble",
    "Bounded",
    "Positive",
    "random_walk",
    "gamma_heterogeneity",
    "run_filter",
    "FilterResult",
    "RWWTwin",
    "free_bold",
    "oracle_forecast",
    "fc_vector",
    "TwinConfig",
    "TwinResult",
    "twin_experiment",
    "plot_twin",
    "tvb_connectome",
    "SpikingTwin",
    "RECEPTORS",
    "SpikingTwinConfig",
    "spiking_twin_experiment",
    "plot_spiking_twin",
]
