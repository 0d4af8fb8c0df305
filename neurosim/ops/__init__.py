"""Event-driven sparse operators: one public op, several connectivity formats and backends."""

from ._base import AbstractConnectivity
from ._csr import CSR
from ._event import BACKENDS, event_matmat, event_matvec
from ._procedural import ProceduralBernoulli

__all__ = [
    "AbstractConnectivity",
    "CSR",
    "ProceduralBernoulli",
    "event_matvec",
    "event_matmat",
    "BACKENDS",
]
