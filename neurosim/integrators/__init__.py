"""Fixed-step integrators: Euler, Heun (RK2), RK4, exponential Euler, exact (linear)."""

from ._integrators import RK4, AbstractIntegrator, Euler, Exact, ExpEuler, Heun
from ._propagators import exp_kernel, exp_kernel2

__all__ = [
    "AbstractIntegrator",
    "Euler",
    "Heun",
    "RK4",
    "ExpEuler",
    "Exact",
    "exp_kernel",
    "exp_kernel2",
]
