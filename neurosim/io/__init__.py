"""Results, states and networks on disk (``.npz`` + JSON, never pickle) and NWB export."""

from ._arrays import (
    load_network,
    load_result,
    load_state,
    save_network,
    save_result,
    save_state,
)
from ._nwb import to_nwb, trace_unit

__all__ = [
    "save_result",
    "load_result",
    "save_state",
    "load_state",
    "save_network",
    "load_network",
    "to_nwb",
    "trace_unit",
]
