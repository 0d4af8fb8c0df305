"""Rate and neural-mass models coupled through a connectome with per-edge delays.

Models are vector fields over explicit per-node state (node axis first); couplings compute
each node's input from the others' delayed outputs; :func:`simulate` (host driver) and
:func:`run` (pure, differentiable) advance them with an integrator object and optional noise.

Example:
    >>> import jax, numpy as np, neurosim as ns
    >>> W = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> m = ns.rates.JansenRit(2)
    >>> cpl = ns.rates.LinearCoupling(W, G=1.0, delays=8.0 * W)
    >>> res = ns.rates.simulate(m, cpl, 500.0, 0.1, key=jax.random.key(0), record=["eeg"])
"""

from ._base import AbstractRateModel
from ._coupling import AbstractCoupling, DifferenceCoupling, KuramotoCoupling, LinearCoupling
from ._jansen_rit import JansenRit
from ._oscillators import Kuramoto, StuartLandau
from ._run import run
from ._simulate import RateResult, simulate
from ._state import AdditiveNoise, RateState, init_state, rate_step
from ._wilson_cowan import WilsonCowan
from ._wong_wang import ReducedWongWang, ReducedWongWangEI

__all__ = [
    "AbstractRateModel",
    "WilsonCowan",
    "JansenRit",
    "ReducedWongWang",
    "ReducedWongWangEI",
    "StuartLandau",
    "Kuramoto",
    "AbstractCoupling",
    "LinearCoupling",
    "DifferenceCoupling",
    "KuramotoCoupling",
    "AdditiveNoise",
    "RateState",
    "init_state",
    "rate_step",
    "run",
    "simulate",
    "RateResult",
]
