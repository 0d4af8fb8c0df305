"""Checks made before a run is built: step size against time constants, memory, run time.

Used by the ``neurosim run`` command (:mod:`neurosim.cli`); each check is a pure function of
the request (and of a tiny copy of the model, for its time constants and per-neuron state
size), so it costs milliseconds where the mistake it catches costs minutes or a crash.

* **Step size.** Explicit one-step integration of a process with time constant ``tau`` is
  accurate only for ``dt << tau``: at ``dt = tau / 10`` an exponential decay per step is off
  by ~0.5 % and errors compound over spikes (at ``dt = 1 ms`` COBA, whose fastest time
  constant is the 5 ms excitatory synapse, fires ~167 Hz instead of ~22 Hz).
  :func:`fastest_time_constant` reads every ``tau*`` field of the model and each membrane
  time constant ``c_m / g_l``, except those integrated exactly (no dt error to bound): the
  membrane of a neuron with an exact linear membrane (an ``LIF`` with the default ``Exact``
  integrator) and its current-based receptors with linear kinetics (``Exponential``,
  ``Alpha``, ``DualExponential``: the Rotter-Diesmann propagators of docs/integration.md).
  ``dt > tau_min / DT_REFUSE_RATIO`` is refused, and ``dt > tau_min / DT_WARN_RATIO`` warns.
* **Memory.** :func:`estimate_memory`: neuron and synapse state (measured per neuron on the
  tiny model, times a working-memory factor), stored synapses, the device spike buffers and
  the host spike arrays at an assumed rate; :func:`available_memory` is what the kernel (and
  a cgroup limit, if any) leaves to this process.
* **Run time.** :func:`estimate_run_seconds` from rough per-neuron-step costs measured on a
  2-core CPU (order of magnitude only; there is no calibrated figure for accelerators).
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

__all__ = [
    "DT_REFUSE_RATIO",
    "DT_WARN_RATIO",
    "MEMORY_FRACTION",
    "ASSUMED_RATE_HZ",
    "SPIKE_TAU_HH_MS",
    "fastest_time_constant",
    "state_bytes_per_neuron",
    "estimate_memory",
    "available_memory",
    "estimate_run_seconds",
    "device_memory",
    "format_bytes",
    "format_seconds",
]

DT_REFUSE_RATIO = 10.0  # refuse dt > tau_min / 10
DT_WARN_RATIO = 20.0  # warn for dt > tau_min / 20
MEMORY_FRACTION = 0.8  # refuse when the estimate exceeds 80 % of the available memory
ASSUMED_RATE_HZ = 50.0  # spike rate assumed for the recording estimate (built-ins: 20-45 Hz)
# Hodgkin-Huxley-type neurons (a sodium conductance g_na) generate the spike in their
# equations, so the step must resolve the action potential itself (~2 ms from upstroke to
# repolarisation), not only the declared time constants. Calibrated on COBAHH (n = 4000,
# 1 s): 39.6 Hz at dt = 0.05, 41.5 at 0.1, 32.5 at 0.25, 24.9 at 0.5, 19.0 at 1 ms, so
# dt = 0.2 ms (1/10 of 2 ms) is the largest step accepted.
SPIKE_TAU_HH_MS = 2.0
STATE_WORK_FACTOR = 4  # state in + state out + step temporaries, per neuron
SPIKE_HOST_BYTES = 32  # per recorded spike: decoded (int64 step, int64 index) + saved copy
SPIKE_BUFFER_BYTES = 32 << 20  # the simulator's spike chunk buffer target (~32 MB)
# Rough CPU costs per neuron-step at in-degree 80 and ~20 Hz (ns), 2-core machine:
# stored COBA 4000 x 10,000 steps in ~0.5 s; procedural 1e8 neurons ~5 s per step.
NS_PER_NEURON_STEP = {"stored": 15.0, "procedural": 50.0}
# The membrane time constant's names: not read for a neuron integrated exactly.
_MEMBRANE = frozenset({"tau_m", "c_m"})


def _concrete(x) -> np.ndarray | None:
    try:
        a = np.asarray(x, dtype=float)
    except Exception:  # tracers, non-numeric leaves
        return None
    return a if a.size else None


def _exact_parts(pop) -> tuple[bool, set]:
    """``(membrane exact, ids of exactly integrated receptors)`` of a population.

    The same rule as :meth:`neurosim.network.Population.drive`: a neuron whose
    ``exact_membrane()`` is not None integrates its membrane exactly for a held input, and
    feeds each current-based receptor (``CUBA`` output) with linear kinetics its exact
    membrane average, so neither the membrane nor those synapses have a dt error. Receptors
    with conductances (held over the step: first order in dt) or other kinetics still count.
    """
    from .neurons import AbstractLinearNeuron
    from .synapses import CUBA, AbstractLinearKinetics

    neuron = pop.neuron
    if not isinstance(neuron, AbstractLinearNeuron) or neuron.exact_membrane() is None:
        return False, set()
    exact = {
        id(r)
        for r in pop.receptors
        if isinstance(r.output, CUBA) and isinstance(r.kinetics, AbstractLinearKinetics)
    }
    return True, exact


def _walk(x, path: str, seen: set, out: list, skip: frozenset = frozenset()) -> None:
    """Collect ``(where, taus)`` of ``x``; ``skip``: field names of ``x`` not to read (the
    membrane time constant of a neuron integrated exactly)."""
    from .network import Population

    if id(x) in seen or isinstance(x, type):
        return
    if isinstance(x, Population):
        exact_membrane, exact_receptors = _exact_parts(x)
        seen.add(id(x))
        _walk(x.neuron, f"{path}.neuron", seen, out, _MEMBRANE if exact_membrane else skip)
        for i, r in enumerate(x.receptors):
            if id(r) not in exact_receptors:  # exact ones: not marked seen, nothing read
                _walk(r, f"{path}.receptors[{i}]", seen, out)
        return
    seen.add(id(x))
    if dataclasses.is_dataclass(x):
        values = {}
        for f in dataclasses.fields(x):
            if f.name in skip:
                continue
            try:
                values[f.name] = getattr(x, f.name)
            except Exception:  # pragma: no cover - abstract or lazy fields
                continue
        for name, v in values.items():
            if name == "tau" or name.startswith("tau_"):
                a = _concrete(v)
                if a is not None:
                    out.append((f"{path}.{name}", a))
            else:
                _walk(v, f"{path}.{name}", seen, out)
        if "g_na" in values and "e_na" in values:  # spike generated by the equations (HH)
            out.append((f"{path}.<action potential>", np.asarray([SPIKE_TAU_HH_MS])))
        if "c_m" in values and "g_l" in values:
            c, g = _concrete(values["c_m"]), _concrete(values["g_l"])
            if c is not None and g is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out.append((f"{path}.c_m/g_l", c / g))
    elif isinstance(x, list | tuple):
        for i, v in enumerate(x):
            _walk(v, f"{path}[{i}]", seen, out)
    elif isinstance(x, dict):
        for k, v in x.items():
            _walk(v, f"{path}[{k!r}]", seen, out)


def fastest_time_constant(model, name: str = "model") -> tuple[float, str] | None:
    """``(tau_min_ms, where)``: the smallest time constant declared by ``model``, or None.

    Every field named ``tau`` or ``tau_*`` (membrane, synaptic, adaptation, ...) of every
    module in the model counts, ``c_m / g_l`` (pF / nS = ms) of a conductance-based neuron,
    and :data:`SPIKE_TAU_HH_MS` for a neuron with a sodium conductance (``g_na``, ``e_na``),
    except what is integrated exactly: the membrane (``tau_m``, ``c_m / g_l``) of a neuron
    whose ``exact_membrane()`` is not None (``LIF`` with the ``Exact`` integrator, its
    default) and that population's ``CUBA`` receptors with linear kinetics (``Exponential``,
    ``Alpha``, ``DualExponential``). The same synapse on an ``Euler`` or ``ExpEuler`` LIF, or
    with a ``COBA`` output, counts. Non-finite and non-positive entries are ignored; None
    when nothing counts.

    Example:
        >>> import jax, neurosim as ns
        >>> from neurosim._preflight import fastest_time_constant
        >>> net = ns.models.coba(n=16, key=jax.random.key(0), connectivity="procedural")
        >>> fastest_time_constant(net, "coba")
        (5.0, 'coba.populations[0].receptors[0].kinetics.tau')
    """
    found: list = []
    _walk(model, name, set(), found)
    best = None
    for where, a in found:
        a = a[np.isfinite(a) & (a > 0)]
        if a.size and (best is None or float(a.min()) < best[0]):
            best = (float(a.min()), where)
    return best


def state_bytes_per_neuron(network, key, dt: float) -> float:
    """Bytes of ``network.init_state`` per neuron (of a small copy of the model)."""
    import jax

    state = network.init_state(key, dt)
    nbytes = sum(int(np.asarray(x).nbytes) for x in jax.tree.leaves(state))
    n = sum(int(p.n) for p in network.populations)
    return nbytes / max(n, 1)


def estimate_memory(
    n: int,
    n_steps: int,
    dt: float,
    *,
    state_per_neuron: float,
    synapse_bytes: int,
    rate_hz: float = ASSUMED_RATE_HZ,
) -> dict:
    """Bytes a run will need, by part (``device`` and ``host`` totals included).

    Args:
        n: neurons. n_steps: steps. dt: step (ms).
        state_per_neuron: bytes of state per neuron (:func:`state_bytes_per_neuron`).
        synapse_bytes: bytes of the stored synapse arrays (0 for procedural connectivity);
            counted twice (the build holds a host and a device copy of small arrays).
        rate_hz: assumed mean rate for the recorded spikes.

    Example:
        >>> from neurosim._preflight import estimate_memory
        >>> m = estimate_memory(4000, 10_000, 0.1, state_per_neuron=24, synapse_bytes=1_280_008)
        >>> m["total"] > m["synapses"] > 0
        True
    """
    state = int(n * state_per_neuron * STATE_WORK_FACTOR)
    synapses = int(2 * synapse_bytes)
    per_step = (n + 7) // 8
    buffer = int(max(per_step, min(SPIKE_BUFFER_BYTES, per_step * n_steps)))
    spikes = int(n * rate_hz * n_steps * dt / 1000.0 * SPIKE_HOST_BYTES)
    device = state + synapses + buffer
    host = buffer + spikes
    return {
        "state": state,
        "synapses": synapses,
        "spike_buffers": buffer,
        "spikes_host": spikes,
        "device": device,
        "host": host,
        "total": device + host,
    }


def _cgroup_headroom() -> int | None:
    """Bytes left under a cgroup v2 memory limit, or None if there is no limit."""
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            current = int(f.read().strip())
        return max(0, int(limit) - current)
    except (OSError, ValueError):
        return None


def available_memory() -> tuple[int, str]:
    """``(bytes, source)`` of host memory available to new allocations.

    ``MemAvailable`` from ``/proc/meminfo`` (free memory plus reclaimable caches), else
    ``os.sysconf`` free pages; capped by the headroom under a cgroup v2 limit (containers).
    """
    avail, source = None, ""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail, source = int(line.split()[1]) * 1024, "MemAvailable"
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "sysconf(SC_AVPHYS_PAGES)"
        except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
            return 8 << 30, "assumed 8 GiB"
    cg = _cgroup_headroom()
    if cg is not None and cg < avail:
        return cg, "cgroup memory.max"
    return int(avail), source


def device_memory(device) -> int | None:
    """Bytes free on an accelerator (``memory_stats``), or None (CPU, or not reported)."""
    if getattr(device, "platform", "cpu") == "cpu":
        return None
    try:
        stats = device.memory_stats() or {}
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    except Exception:
        return None


def estimate_run_seconds(n: int, n_steps: int, connectivity: str, platform: str) -> float | None:
    """A rough run time (s) on CPU from :data:`NS_PER_NEURON_STEP`; None elsewhere."""
    if platform != "cpu" or connectivity not in NS_PER_NEURON_STEP:
        return None
    return n * n_steps * NS_PER_NEURON_STEP[connectivity] * 1e-9


def format_bytes(b: float) -> str:
    """``1.5 GiB``-style text."""
    if b < 1024:
        return f"{int(b)} B"
    e = min(int(math.log(b, 1024)), 5)
    return f"{b / 1024**e:.3g} {'BKMGTP'[e]}{'iB' if e else ''}"


def format_seconds(s: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``."""
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"
