"""Several hosts: ``jax.distributed.initialize`` from arguments or environment variables."""

from __future__ import annotations

import os

import jax

__all__ = ["initialize", "ENV"]

ENV = {
    "coordinator": "NEUROSIM_COORDINATOR",
    "num_processes": "NEUROSIM_NUM_PROCESSES",
    "process_id": "NEUROSIM_PROCESS_ID",
}
"""Environment variables read by :func:`initialize` when an argument is not given."""


def _int(name: str, value) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    return out


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids=None,
    cpu_collectives: str = "gloo",
) -> None:
    """Join this process to a multi-process (multi-host) JAX job; call before any JAX work.

    Every process runs the same script; afterwards ``jax.devices()`` lists the devices of
    all processes, so :func:`neurosim.distributed.make_mesh` spans them and
    :func:`neurosim.distributed.simulate` runs one network over all hosts (every process
    gets the whole result).

    Args:
        coordinator: ``"host:port"`` of process 0 (env ``NEUROSIM_COORDINATOR``).
        num_processes: number of processes (env ``NEUROSIM_NUM_PROCESSES``), >= 1.
        process_id: this process's rank in ``[0, num_processes)`` (env
            ``NEUROSIM_PROCESS_ID``).
        local_device_ids: devices of this host to use (default all).
        cpu_collectives: collectives implementation for CPU devices (``"gloo"``; ``"mpi"``
            needs an MPI build of jaxlib).

    Example:
        >>> import neurosim as ns
        >>> # on each of 2 hosts (process_id 0 and 1):
        >>> # ns.distributed.initialize("10.0.0.1:1234", num_processes=2, process_id=0)
    """
    coordinator = coordinator or os.environ.get(ENV["coordinator"])
    num_processes = num_processes if num_processes is not None else os.environ.get(
        ENV["num_processes"])  # fmt: skip
    process_id = process_id if process_id is not None else os.environ.get(ENV["process_id"])
    missing = [
        f"{k} (or ${ENV[k]})"
        for k, v in (("coordinator", coordinator), ("num_processes", num_processes),
                     ("process_id", process_id)) if v is None
    ]  # fmt: skip
    if missing:
        raise ValueError(f"initialize needs {', '.join(missing)}")
    num_processes = _int("num_processes", num_processes)
    process_id = _int("process_id", process_id)
    if num_processes < 1:
        raise ValueError(f"num_processes must be >= 1, got {num_processes}")
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must lie in [0, {num_processes}), got {process_id}")
    if ":" not in coordinator:
        raise ValueError(f"coordinator must be 'host:port', got {coordinator!r}")
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        local_device_ids=local_device_ids,
    )
