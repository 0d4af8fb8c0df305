"""Event-driven sparse operators: one public op, several connectivity formats and backends."""

from ._base import AbstractConnectivity
from ._csr import CSR
from ._event import BACKENDS, event_matmat, event_matvec

__all__ = ["AbstractConnectivity", "CSR", "event_matvec", "event_matmat", "BACKENDS"]
