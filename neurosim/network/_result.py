"""The result of :func:`neurosim.simulate` and :func:`neurosim.distributed.simulate`, and
the one function that makes it from the spikes and the final state of a run."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._driver import OnFault, finish
from ..neurons import AbstractSpikeSource
from ._faults import fault_report, has_fault
from ._network import Network, NetworkState

__all__ = ["SimulationResult", "SimulationError", "simulation_result"]


@dataclass
class SimulationResult:
    """Spikes, traces, final state, timings and status of a simulation.

    One result for spiking, rate and mixed networks: spikes of the spiking populations, and
    every recorded :class:`neurosim.Trace` (neuron, receptor, projection and rate-node
    variables, observables, readouts) under its target name, with its sample times under the
    same name in ``trace_times``.

    Attributes:
        spike_times: spike times (ms, float64), sorted: a spike of step ``i`` is stamped
            ``i dt`` (default) or ``(i + 1) dt`` (NEST conventions,
            :class:`neurosim.network.Conventions`).
        spike_indices: global neuron indices (populations concatenated in network order).
        traces: per trace name, array ``(n_samples, n_indices)``.
        trace_times: per trace name, sample times (ms): ``t_start + every * dt * (1, 2, ...)``
            (the time after the sample's step).
        final_state: the network state after the last completed step (on device).
        network: the simulated network (for index ranges).
        t_start: time of the first step (ms); duration/dt/n_steps as run.
        compile_s: trace + compile time of the simulation loop (0 when reused from cache).
        run_s: wall time of the simulation loop, host transfers included.
        status: ``"ok"`` or ``"fault"`` (non-finite state; see ``message``).
        spikes_recorded: names of the populations whose spikes were recorded
            (``simulate(record_spikes=...)``; default all but spike sources); ``None``: all.
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
    spikes_recorded: tuple | None = None

    def _recorded(self, pop_name: str) -> bool:
        return self.spikes_recorded is None or pop_name in self.spikes_recorded

    def _population_of(self, name: str) -> str:
        for p in self.network.populations:
            if p.name == name or any(g == name for g, *_ in p.groups):
                return p.name
        return name

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
        pop = self._population_of(name)
        if not self._recorded(pop):
            raise ValueError(
                f"the spikes of population {pop!r} were not recorded (recorded: "
                f"{list(self.spikes_recorded)}); simulate with record_spikes=[..., {pop!r}] "
                "or record_spikes='all'"
            )
        a, b = ranges[name]
        m = (self.spike_indices >= a) & (self.spike_indices < b)
        return self.spike_times[m], self.spike_indices[m] - a

    def to_nwb(self, path, **kwargs) -> None:
        """Write this result to an NWB file (see :func:`neurosim.io.to_nwb`)."""
        from ..io import to_nwb

        to_nwb(self, path, **kwargs)

    def save(self, path, **kwargs) -> None:
        """Write this result to ``.npz`` + JSON (see :func:`neurosim.io.save_result`)."""
        from ..io import save_result

        save_result(self, path, **kwargs)

    @property
    def simulated_ms(self) -> float:
        return self.n_steps * self.dt

    @property
    def recorded_groups(self) -> dict[str, tuple[int, int]]:
        """Global ``(start, stop)`` of each group (or group-less population) whose spikes were
        recorded, as used by :attr:`group_rates_hz` and the raster plot."""
        return {
            name: r
            for name, r in self.network.rate_groups().items()
            if self._recorded(self._population_of(name))
        }

    @property
    def group_rates_hz(self) -> dict[str, float]:
        """Mean firing rate (Hz) per group (or population when it has no groups), for the
        populations whose spikes were recorded.

        (:attr:`rate_hz` is the mean over all recorded neurons with dynamics.)
        """
        t = self.simulated_ms
        out = {}
        for name, (a, b) in self.recorded_groups.items():
            cnt = np.count_nonzero((self.spike_indices >= a) & (self.spike_indices < b))
            out[name] = float(cnt / (b - a) / (t * 1e-3)) if t > 0 else 0.0
        return out

    @property
    def rate_hz(self) -> float:
        """Mean firing rate over all recorded neurons (spike sources excluded)."""
        t = self.simulated_ms
        n, cnt, off = 0, 0, 0
        for p in self.network.populations:
            if not isinstance(p.neuron, AbstractSpikeSource) and self._recorded(p.name):
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


def simulation_result(
    network: Network,
    *,
    steps: np.ndarray,
    indices: np.ndarray,
    recorded: tuple[int, ...],
    final_state: NetworkState,
    start_step: int,
    n_steps: int,
    done: int,
    dt: float,
    compile_s: float,
    run_s: float,
    devices: list,
    status: str = "ok",
    message: str = "",
    traces: dict | None = None,
    trace_times: dict | None = None,
    on_fault: OnFault = "raise",
) -> SimulationResult:
    """The :class:`SimulationResult` of a run (one device or sharded), finished per ``on_fault``.

    Both drivers (:func:`neurosim.simulate`, :func:`neurosim.distributed.simulate`) end here,
    so their results agree field by field: spikes sorted by (step, index), stamped with the
    network's conventions (``(step + stamp_offset) * dt``), ``spikes_recorded`` naming the
    populations ``recorded`` (:func:`resolve_record_spikes`), and a neuron or rate-node fault
    of ``final_state`` reported by name with the spikes from its step on dropped.

    Args:
        network: the simulated (global) network.
        steps, indices: absolute step numbers and global neuron indices of the recorded
            spikes, as blocks each sorted by (step, index): blocks in time order, and blocks
            covering the same steps in increasing index order (so a stable sort by step
            gives (step, index) order).
        recorded: indices of the populations whose spikes were recorded.
        final_state: the global state after the last step run.
        start_step: step counter of the initial state; n_steps: steps asked for;
            done: steps run (fewer after a fault).
        dt: time step (ms); compile_s, run_s: timings; devices: the devices used.
        status, message: ``"fault"`` and its message for a fault found by the driver
            (projection state); a neuron or node fault is found here.
        traces, trace_times: recorded traces (default none); after a fault only the samples
            up to the last completed step are kept.
        on_fault: ``"raise"`` (:class:`SimulationError`) or ``"return"``.
    """
    steps, indices = np.asarray(steps), np.asarray(indices)
    completed = done
    if has_fault(final_state):
        first_bad, message = fault_report(network, final_state, start_step, dt)
        status, completed = "fault", first_bad - start_step
        keep = steps < first_bad
        steps, indices = steps[keep], indices[keep]
    traces = {} if traces is None else dict(traces)
    trace_times = {} if trace_times is None else dict(trace_times)
    if status == "fault":  # keep the samples up to the last completed step
        for name, t in trace_times.items():
            keep = t <= (start_step + completed) * dt + 1e-9
            traces[name], trace_times[name] = traces[name][keep], t[keep]
    if steps.size > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, indices = steps[order], indices[order]
    result = SimulationResult(
        spike_times=(steps + network.conventions.stamp_offset) * dt,
        spike_indices=indices,
        traces=traces,
        trace_times=trace_times,
        final_state=final_state,
        network=network,
        t_start=start_step * dt,
        duration=n_steps * dt,
        dt=dt,
        n_steps=completed,
        compile_s=compile_s,
        run_s=run_s,
        status=status,
        message=message,
        devices=list(devices),
        spikes_recorded=tuple(network.populations[j].name for j in recorded),
    )
    return finish(result, on_fault)
