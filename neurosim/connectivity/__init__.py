"""Connectivity generators (seeded, vectorised) producing :mod:`neurosim.ops` operators.

The counter-based row streams that define Bernoulli connectivity live in
:mod:`neurosim._streams`, below both this package and :mod:`neurosim.ops` (which regenerates
rows from them), so neither imports the other's internals; their public names are re-exported
here.
"""

from .._streams import (
    STREAM_VERSION,
    bernoulli_row,
    bernoulli_row_capacity,
    count_rows,
    stream_key,
)
from ._generators import (
    AbstractGenerator,
    AllToAll,
    FixedInDegree,
    FixedOutDegree,
    FixedProbability,
    from_dense,
    from_edges,
)
from ._total import FixedTotalNumber

__all__ = [
    "AbstractGenerator",
    "FixedProbability",
    "FixedInDegree",
    "FixedOutDegree",
    "FixedTotalNumber",
    "AllToAll",
    "from_dense",
    "from_edges",
    "bernoulli_row",
    "bernoulli_row_capacity",
    "count_rows",
    "stream_key",
    "STREAM_VERSION",
]
