"""``simulate``: host driver for rate networks (chunks of one compiled loop, streamed)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._driver import check_on_fault, compile_cached, finish, progress_bar
from .._validate import check_positive
from ._state import (
    RateState,
    check_setup,
    check_state,
    init_state,
    rate_step,
    read_record,
    resolve_record,
)

__all__ = ["simulate", "RateResult"]

_MAX_CHUNK_STEPS = 10000
_TRACE_BYTES = 64 << 20  # per chunk, all recorded traces together
_COMPILED: dict = {}
_TRACE_COUNT = [0]  # incremented each time the chunk function is traced (tests use it)


@dataclass
class RateResult:
    """Recorded traces, final state, timings and status of a rate simulation.

    Attributes:
        traces: per recorded name, array ``(n_samples, n_nodes)`` (NumPy).
        times: sample times (ms), shape ``(n_samples,)``.
        final_state: the :class:`RateState` after the last completed step (on device).
        t_start: time of the first step (ms); duration/dt/n_steps as run.
        compile_s: trace + compile time of the loop (0 when reused from cache).
        run_s: wall time of the loop, host transfers included.
        status: ``"ok"`` or ``"fault"`` (non-finite state; see ``message``).
    """

    traces: dict
    times: np.ndarray
    final_state: RateState
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


class _Static:
    """Hashable wrapper of the non-array part of (model, coupling, noise, integrator).

    Models may hold dicts (unhashable inside an equinox module), so equality and hashing go
    through the flattened tree: its structure and its (hashable) non-array leaves.
    """

    def __init__(self, tree):
        self.tree = tree
        leaves, treedef = jax.tree.flatten(tree)
        self._key = (treedef, tuple(leaves))

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, _Static) and self._key == other._key


def _chunk_fn(dyn, static, names, every, capacity, state, key, dt, n_active):
    _TRACE_COUNT[0] += 1
    model, coupling, noise, integrator = eqx.combine(dyn, static.tree)
    sample = read_record(model, state, names)
    bufs = tuple(jnp.zeros((capacity // every, *x.shape), x.dtype) for x in sample)

    def cond(c):
        return c[0] < n_active

    def body(c):
        i, st, tb = c
        st = rate_step(model, coupling, st, key, dt, noise, integrator)
        vals = read_record(model, st, names)
        tb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, v, i // every, 0)
            for b, v in zip(tb, vals, strict=True)
        )
        return i + 1, st, tb

    _, state, bufs = jax.lax.while_loop(cond, body, (jnp.asarray(0, jnp.int32), state, bufs))
    return state, bufs


def simulate(
    model,
    coupling,
    duration: float,
    dt: float = 0.1,
    *,
    key,
    noise=None,
    integrator=None,
    state: RateState | None = None,
    record=None,
    every: int = 1,
    chunk_steps: int | None = None,
    progress: bool | None = None,
    on_fault: str = "raise",
) -> RateResult:
    """Simulate a rate network for ``duration`` ms with time step ``dt`` ms.

    The loop is one compiled ``while_loop`` per chunk; chunks are calls of the same
    executable (parameters, coupling strength and delays are array arguments: changing them
    does not recompile), with traces streamed to host memory. Splitting a run into chunks does
    not change it (per-step keys are ``fold_in(key, step)``). A NaN/inf state stops the run
    and is reported with its step, time and node.

    Args:
        model: a rate model (:class:`WilsonCowan`, :class:`JansenRit`,
            :class:`ReducedWongWang`, :class:`ReducedWongWangEI`, :class:`StuartLandau`,
            :class:`Kuramoto`).
        coupling: a coupling over the nodes, or None for isolated nodes.
        duration: biological time (ms), > 0.
        dt: time step (ms), > 0.
        key: random key: initial state (when ``state`` is None) and noise.
        noise: :class:`AdditiveNoise` or None (deterministic).
        integrator: drift integrator (default ``ns.integrators.Heun()``).
        state: initial state (default :func:`init_state`); pass ``result.final_state`` to
            continue a run.
        record: state variables or observables to record (default: all state variables).
        every: record one sample every ``every`` steps (decimation), at ``every*dt, ...``.
        chunk_steps: steps per chunk (default: up to 10000, traces under ~64 MB per chunk).
        progress: show a progress bar (default: automatically for runs > 2 s).
        on_fault: ``"raise"`` a :class:`neurosim.SimulationError` (carrying the partial
            result) or ``"return"`` the partial result with ``status="fault"``.

    Returns:
        A :class:`RateResult`.

    Example:
        >>> import jax, numpy as np, neurosim as ns
        >>> W = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> m = ns.rates.ReducedWongWangEI(2)
        >>> cpl = ns.rates.LinearCoupling(W, G=0.5, delays=10.0 * W)
        >>> res = ns.rates.simulate(m, cpl, 1000.0, 0.1, key=jax.random.key(0), every=10)
        >>> res.traces["S_e"].shape
        (1000, 2)
    """
    check_setup(model, coupling, noise, integrator)
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    check_on_fault(on_fault)
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    every = int(every)
    dt = float(dt)
    n_steps = int(round(float(duration) / dt))
    if n_steps < 1:
        raise ValueError(f"duration ({duration} ms) is shorter than one step (dt={dt} ms)")
    names = resolve_record(model, record)
    k_init, k_run = jax.random.split(key)
    if state is None:
        state = init_state(model, coupling, k_init, dt)
    else:
        check_state(model, coupling, state, dt)
    start_step = int(state.step)

    if chunk_steps is not None:
        if isinstance(chunk_steps, bool) or not isinstance(chunk_steps, (int, np.integer)):
            raise ValueError(f"chunk_steps must be an integer >= 1, got {chunk_steps!r}")
        if chunk_steps < 1:
            raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
        capacity = int(chunk_steps)
    else:
        bytes_per_step = max(1, len(names) * model.n * 8 // every)
        capacity = max(1, min(_MAX_CHUNK_STEPS, _TRACE_BYTES // bytes_per_step, n_steps))
    capacity = max(every, (capacity // every) * every)

    parts = (model, coupling, noise, integrator)
    dyn, static = eqx.partition(parts, eqx.is_array)
    static = _Static(static)
    dt_arr = jnp.asarray(dt, jnp.result_type(float))
    exe, compile_s = compile_cached(
        _COMPILED,
        _chunk_fn,
        4,
        (static, names, every, capacity),
        (dyn, state, k_run, dt_arr, jnp.asarray(capacity, jnp.int32)),
    )

    chunks = {n: [] for n in names}
    done, status, message = 0, "ok", ""
    bar = progress_bar(n_steps, dt, progress)
    t0 = time.perf_counter()
    try:
        while done < n_steps:
            n_active = min(capacity, n_steps - done)
            state, bufs = exe(dyn, state, k_run, dt_arr, jnp.asarray(n_active, jnp.int32))
            k = n_active // every
            for n, b in zip(names, bufs, strict=True):
                chunks[n].append(np.asarray(b[:k]))
            done += n_active
            if bar is not None:
                bar.update(n_active)
            fault = np.asarray(state.fault_step)
            if np.any(fault >= 0):
                status = "fault"
                break
        jax.block_until_ready(state)
    finally:
        if bar is not None:
            bar.close()
    run_s = time.perf_counter() - t0

    traces = {n: np.concatenate(chunks[n]) for n in names}
    n_samples = next(iter(traces.values())).shape[0]
    times = (start_step + np.arange(1, n_samples + 1) * every) * dt
    completed = done
    if status == "fault":
        bad = np.flatnonzero(fault >= 0)
        node = int(bad[np.argmin(fault[bad])])
        first = int(fault[node])
        variables = [k for k, v in state.nodes.items() if not np.isfinite(np.asarray(v)[node])]
        completed = first - start_step
        message = (
            f"node {node} ({type(model).__name__}) produced a non-finite state at step {first} "
            f"(t = {first * dt:g} ms)"
            + (f" in {', '.join(variables)}" if variables else "")
            + f"; {int(bad.size)} node(s) affected; results before that step are kept "
            f"(dt={dt} ms may be too large, or a parameter is out of range)"
        )
        keep = times <= (start_step + completed) * dt + 1e-9
        traces = {n: v[keep] for n, v in traces.items()}
        times = times[keep]

    result = RateResult(
        traces=traces,
        times=times,
        final_state=state,
        t_start=start_step * dt,
        duration=n_steps * dt,
        dt=dt,
        n_steps=completed,
        compile_s=compile_s,
        run_s=run_s,
        status=status,
        message=message,
        devices=[str(d) for d in jax.devices()],
    )
    return finish(result, on_fault)
