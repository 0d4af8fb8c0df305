"""Current inputs (pA) injected into populations (spike sources: ``neurons.PoissonSource``)."""

from .network._inputs import AbstractCurrent, ArrayCurrent, ConstantCurrent, StepCurrent

__all__ = ["AbstractCurrent", "ConstantCurrent", "StepCurrent", "ArrayCurrent"]
