"""BOLD signal forward models (haemodynamics driven by neural activity).

:class:`BalloonWindkessel` is a per-region component (``init(key, dt)`` /
``step(state, drive, i, dt, key) -> (state, bold)``) for use inside a simulation loop;
:class:`BOLDReadout` is the same model as an in-loop readout of a network (added with
``NetworkBuilder.add_readout``, sampled every TR); :func:`run_bold` drives it with a recorded
signal and samples every TR; :func:`steady_state` is its closed-form fixed point under
constant drive.

Example:
    >>> import jax.numpy as jnp, neurosim as ns
    >>> bw = ns.bold.BalloonWindkessel(2)
    >>> _, y = ns.bold.run_bold(bw, jnp.full((2000, 2), 0.1), 1.0, 1000.0)
    >>> y.shape
    (2, 2)
"""

from ._balloon import BalloonState, BalloonWindkessel, steady_state
from ._readout import BOLDReadout
from ._run import run_bold, steps_per

__all__ = [
    "BalloonWindkessel",
    "BalloonState",
    "BOLDReadout",
    "steady_state",
    "run_bold",
    "steps_per",
]
