"""Event-driven sparse operators: one public op, several connectivity formats and backends.

``event_matvec(conn, spikes)`` / ``event_matmat`` deliver spikes through a connectivity
operator (:class:`CSR`, :class:`ELL`); see :mod:`neurosim.ops._base` for the backends. The
compiled CPU kernels are built on first use (``ffi_status()`` tells whether they are
available and why not); ``any_nonfinite`` is the fault check used once per simulation step;
``stdp_update_ffi`` and ``stp_deliver_ffi`` are the compiled plasticity steps used by
:mod:`neurosim.plasticity`, ``csr_delay_ffi`` the compiled per-synapse-delay delivery used by
:mod:`neurosim.network`, ``lif_step_ffi`` the fused step of an LIF population with exponential
conductances (float dtypes in ``FFI_DTYPES``).
"""

from ._base import BACKENDS, AbstractConnectivity, Backend, check_backend, default_capacity
from ._build import ffi_available, ffi_status
from ._compact import compact_ranks
from ._csr import CSR
from ._ell import ELL
from ._event import event_matmat, event_matvec
from ._ffi import FFI_DTYPES, csr_delay_ffi, stdp_update_ffi, stp_deliver_ffi
from ._fused import LIF_MAX_RECEPTORS, lif_step_ffi
from ._host import unpack_spike_bits
from ._procedural import ProceduralBernoulli
from ._reduce import any_nonfinite

__all__ = [
    "AbstractConnectivity",
    "CSR",
    "ELL",
    "ProceduralBernoulli",
    "event_matvec",
    "event_matmat",
    "BACKENDS",
    "Backend",
    "check_backend",
    "default_capacity",
    "ffi_available",
    "ffi_status",
    "FFI_DTYPES",
    "stdp_update_ffi",
    "stp_deliver_ffi",
    "csr_delay_ffi",
    "lif_step_ffi",
    "LIF_MAX_RECEPTORS",
    "any_nonfinite",
    "compact_ranks",
    "unpack_spike_bits",
]
