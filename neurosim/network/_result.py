"""The result of :func:`neurosim.simulate`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..neurons import AbstractSpikeSource
from ._network import Network, NetworkState

__all__ = ["SimulationResult", "SimulationError"]


@dataclass
class SimulationResult:
    """Spikes, traces, final state, timings and status of a simulation.

    Attributes:
        spike_times: spike times (ms, float64), sorted.
        spike_indices: global neuron indices (populations concatenated in network order).
        traces: per trace name, array ``(n_samples, n_indices)``.
        trace_times: per trace name, sample times (ms).
        final_state: the network state after the last completed step (on device).
        network: the simulated network (for index ranges).
        t_start: time of the first step (ms); duration/dt/n_steps as run.
        compile_s: trace + compile time of the simulation loop (0 when reused from cache).
        run_s: wall time of the simulation loop, host transfers included.
        status: ``"ok"`` or ``"fault"`` (non-finite state; see ``message``).
    """

    spike_times: np.ndarray
    spike_indices: np.ndarray
    traces: dict
    trace_times: dict
    final_state: NetworkState
    network: Network
    t_start: float
    duration: float
    dt: float
    n_steps: int
    compile_s: float
    run_s: float
    status: str = "ok"
    message: str = ""
    devices: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def n_spikes(self) -> int:
        return int(self.spike_indices.size)

    def spikes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(times_ms, local_indices)`` of the spikes of a population or group."""
        ranges = self.network.index_ranges()
        if name not in ranges:
            raise ValueError(f"unknown population or group {name!r}; known: {list(ranges)}")
        a, b = ranges[name]
        m = (self.spike_indices >= a) & (self.spike_indices < b)
        return self.spike_times[m], self.spike_indices[m] - a

    @property
    def simulated_ms(self) -> float:
        return self.n_steps * self.dt

    def rates_hz(self) -> dict[str, float]:
        """Mean firing rate (Hz) per group (or population when it has no groups)."""
        t = self.simulated_ms
        out = {}
        for name, (a, b) in self.network.rate_groups().items():
            cnt = np.count_nonzero((self.spike_indices >= a) & (self.spike_indices < b))
            out[name] = float(cnt / (b - a) / (t * 1e-3)) if t > 0 else 0.0
        return out

    @property
    def rate_hz(self) -> float:
        """Mean firing rate over all neurons (spike sources excluded)."""
        t = self.simulated_ms
        n, cnt, off = 0, 0, 0
        for p in self.network.populations:
            if not isinstance(p.neuron, AbstractSpikeSource):
                n += p.n
                cnt += np.count_nonzero(
                    (self.spike_indices >= off) & (self.spike_indices < off + p.n)
                )
            off += p.n
        return float(cnt / n / (t * 1e-3)) if n and t > 0 else 0.0


class SimulationError(RuntimeError):
    """A runtime fault (non-finite state). ``err.result`` holds everything computed before it."""

    def __init__(self, message: str, result: SimulationResult):
        super().__init__(message)
        self.result = result
