"""How many CPU threads XLA runs a simulation on (``neurosim run --threads``).

XLA's CPU client sizes its thread pools once, when the backend starts, to the number of
cores the process may run on (its affinity mask), and then splits large array operations
over them. A simulation step is many small operations; on a 2-core machine splitting them
costs more in synchronisation than it gains, and ``taskset -c 0`` (one core) ran COBA 40k
faster than the default (issue 15). :func:`set_cpu_threads` sizes the pools to ``n`` threads
without pinning: it narrows the affinity mask to ``n`` cores while the backend starts and
then gives every thread of the process its original mask back, so the ``n`` pool threads
(and the kernels' own threads) still run on whichever cores are free.

Linux only (``os.sched_setaffinity``); elsewhere it falls back to
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false`` for ``n == 1`` and says so.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["auto_cpu_threads", "set_cpu_threads", "cpu_threads_available"]


def cpu_threads_available() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # pragma: no cover - other JAX versions
        return False


def set_cpu_threads(n: int) -> int:
    """Size XLA's CPU thread pools to ``n`` threads; call before the first JAX computation.

    Args:
        n: threads (>= 1); at most the cores available (larger values are capped).

    Returns:
        The number of threads the pools were sized to.

    Raises:
        ValueError: ``n`` is not a positive integer.
        RuntimeError: JAX's backends have already started (the pools exist): set the
            threads first, e.g. at the top of the script.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive integer, got {n!r}")
    if _backends_started():
        raise RuntimeError(
            "set_cpu_threads must run before the first JAX computation: JAX's CPU backend "
            "has already started and sized its thread pools"
        )
    import jax

    try:
        original = os.sched_getaffinity(0)
    except AttributeError:  # not Linux: no affinity; one thread is the only choice we have
        if n == 1:
            flags = os.environ.get("XLA_FLAGS", "")
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
        warnings.warn("CPU thread count is only approximated on this OS", stacklevel=2)
        jax.devices("cpu")
        return n
    n = min(n, len(original))
    os.sched_setaffinity(0, set(sorted(original)[:n]))
    try:
        jax.devices("cpu")  # starts the CPU backend: its pools get n threads
    finally:
        for tid in os.listdir("/proc/self/task"):  # every thread, pool threads included
            try:
                os.sched_setaffinity(int(tid), original)
            except OSError:  # a thread that has just exited
                pass
    return n


def auto_cpu_threads() -> int:
    """The CLI's ``--threads auto``: one thread (measured in benchmarks/RESULTS.md, issue 15:
    XLA's intra-op splitting of a simulation step's small operations costs more than it
    gains at the benchmark sizes; ``--threads N`` asks for more)."""
    return 1
