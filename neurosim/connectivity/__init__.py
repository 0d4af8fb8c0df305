"""Connectivity generators (seeded, vectorised) producing :mod:`neurosim.ops` operators."""

from ._generators import (
    AbstractGenerator,
    AllToAll,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    count_rows,
    from_dense,
    from_edges,
)
from ._streams import STREAM_VERSION, bernoulli_row, bernoulli_row_capacity, stream_key

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
    "count_rows",
    "stream_key",
    "STREAM_VERSION",
]
