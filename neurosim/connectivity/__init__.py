"""Connectivity generators (seeded, vectorised) producing :mod:`neurosim.ops` operators."""

from ._generators import (
    AbstractGenerator,
    AllToAll,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    from_dense,
    from_edges,
)
from ._streams import bernoulli_row, bernoulli_row_capacity

__all__ = [
    "AbstractGenerator",
    "FixedProbability",
    "FixedInDegree",
    "FixedOutDegree",
    "AllToAll",
    "from_dense",
    "from_edges",
    "bernoulli_row",
    "bernoulli_row_capacity",
]
