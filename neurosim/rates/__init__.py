"""Rate and neural-mass models coupled through a connectome with per-edge delays.

Models are vector fields over explicit per-node state (node axis first); couplings compute
each node's input from the others' delayed outputs. A rate network is a
:class:`neurosim.Network` with a rate population (:func:`network`, or
``NetworkBuilder.add_rate_population`` next to spiking populations); :func:`simulate` and
:func:`run` are short wrappers over :func:`neurosim.simulate` and :func:`neurosim.run`.

Example:
    >>> import jax, numpy as np, neurosim as ns
    >>> W = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> m = ns.rates.JansenRit(2)
    >>> cpl = ns.rates.LinearCoupling(W, G=1.0, delays=8.0 * W)
    >>> res = ns.rates.simulate(m, cpl, 500.0, 0.1, key=jax.random.key(0), record=["eeg"])
    >>> res.traces["nodes.eeg"].shape
    (5000, 2)
"""

from ._base import AbstractRateModel
from ._coupling import AbstractCoupling, DifferenceCoupling, KuramotoCoupling, LinearCoupling
from ._jansen_rit import JansenRit
from ._oscillators import Kuramoto, StuartLandau
from ._run import run
from ._simulate import simulate
from ._state import AdditiveNoise, init_state, network
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
    "network",
    "init_state",
    "run",
    "simulate",
]
