"""``neurosim run``: results streamed to disk segment by segment, and ``--resume``.

A run is simulated in segments (``--segment-steps``, default the engine's chunk: at most 2000
steps). After each segment the CLI writes, each file atomically (a private temporary file,
flushed, then renamed):

1. ``DIR/stream/seg-NNNNNN.npz``: that segment's spikes (``times_ms``, ``indices``, sorted by
   time) and recorded traces, with ``first_step`` and ``n_steps``;
2. ``DIR/stream/state-NNNNNN.npz``: the network state after it (:func:`neurosim.io.save_state`);
3. ``DIR/stream/progress.json``: the commit point, naming the settings, the number of
   finished segments and steps, and the state file.

A killed run (SIGKILL, power loss after the files reached the disk) therefore keeps every
finished segment. ``neurosim run ... --resume DIR`` (the same settings, checked by
:mod:`neurosim._cli_resume`) reads ``progress.json``, reloads the state and continues; the
per-step random keys are ``fold_in(key, step)`` of the run's key and the state holds the step
counter, so the final spikes are bitwise those of the uninterrupted run. A config run's traces
(``[run] record``) are streamed the same way: its segments are a multiple of every trace's
``every`` (their least common multiple), so each segment holds whole decimation blocks and
the joined traces are bitwise the uninterrupted run's, sample times included. A write that
fails (a full disk, ``ENOSPC``) stops the run with ``"status": "failed"`` in ``summary.json``
(exit 4); the segments before it stay intact, and ``--resume`` continues once there is space.

When the run finishes (``status`` ``ok``), ``spikes.npz`` holds all spikes and ``DIR/stream``
is removed; otherwise it stays for ``--resume``.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import shutil
import signal
import sys
import threading

import numpy as np

__all__ = ["Stream", "StreamError", "EXIT_FAILED", "atomic_write", "write_json", "write_spikes"]

EXIT_FAILED = 4  # an output could not be written (e.g. a full disk)
FORMAT = "neurosim-stream-1"
STREAM_DIR = "stream"


class StreamError(Exception):
    """Writing a stream file failed (``OSError`` from the file system)."""


def atomic_write(path: str, write) -> None:
    """``write(tmp_path)`` then flush and rename onto ``path`` (never a partial ``path``)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _npz_writer(arrays: dict):
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    return write


def _json_writer(obj: dict):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)

    return write


def write_json(path: str, obj: dict) -> None:
    """Atomically write ``obj`` as JSON to ``path``."""
    atomic_write(path, _json_writer(obj))


def write_spikes(path: str, times, indices) -> None:
    """Atomically write ``spikes.npz`` (``times_ms`` float64, ``indices`` int64)."""
    arrays = {"times_ms": np.asarray(times, np.float64), "indices": np.asarray(indices, np.int64)}
    atomic_write(path, _npz_writer(arrays))


def _describe(e: OSError, path: str) -> str:
    why = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        why = "no space left on device (ENOSPC)"
    return f"writing {path} failed: {why}"


def _default_segment(net, n_steps: int) -> int:
    """The engine's default chunk (<= 2000 steps, <= 32 MB of bit-packed spikes), so every
    segment reuses one compiled chunk."""
    bytes_per_step = max(1, sum((p.n + 7) // 8 for p in net.populations))
    return max(1, min(2000, (32 << 20) // bytes_per_step, n_steps))


class Stream:
    """Writes the segments of one run and resumes from them (see the module docstring)."""

    def __init__(self, root: str, settings: dict, segment_steps, progress):
        self.root, self.settings, self.progress = root, settings, progress
        self.segment_steps = segment_steps
        self.resumed_from_ms = None
        self.record_spikes = None  # populations whose spikes are recorded (None: not sources)

    # -- files ------------------------------------------------------------------------------
    def _path(self, kind: str, k: int) -> str:
        return os.path.join(self.root, f"{kind}-{k:06d}.npz")

    def _write_segment(self, k: int, res, first_step: int, n_steps: int, segment_steps: int):
        from .io import save_state

        arrays = {
            "times_ms": np.asarray(res.spike_times, np.float64),
            "indices": np.asarray(res.spike_indices, np.int64),
            "first_step": np.asarray(first_step, np.int64),
            "n_steps": np.asarray(res.n_steps, np.int64),
        }
        for name, values in res.traces.items():
            arrays[f"trace/{name}"] = np.asarray(values)
            arrays[f"trace_times/{name}"] = np.asarray(res.trace_times[name])
        seg, state = self._path("seg", k), self._path("state", k)
        for path, write in (
            (seg, _npz_writer(arrays)),
            (state, lambda tmp: save_state(res.final_state, tmp, dt=res.dt)),
        ):
            try:
                atomic_write(path, write)
            except OSError as e:
                for done in (seg, state):  # uncommitted: free the space they hold
                    if os.path.exists(done):
                        os.remove(done)
                raise StreamError(_describe(e, path)) from e
        progress = {
            "format": FORMAT,
            "settings": self.settings,
            "segment_steps": segment_steps,
            "n_steps": n_steps,
            "segments": k + 1,
            "steps_done": first_step + res.n_steps,
            "state": os.path.basename(state),
        }
        path = os.path.join(self.root, "progress.json")
        try:
            write_json(path, progress)
        except OSError as e:
            raise StreamError(_describe(e, path)) from e
        if k > 0:  # the previous state is no longer the commit point
            try:
                os.remove(self._path("state", k - 1))
            except FileNotFoundError:
                pass
        self.progress = progress

    def _load(self, net):
        """The finished segments' results and the state after them (``--resume``)."""
        from .io import load_state
        from .network import SimulationResult

        p = self.progress
        blank = _blank(net, p["settings"]["dt_ms"], SimulationResult)
        parts = []
        for k in range(p["segments"]):
            with np.load(self._path("seg", k), allow_pickle=False) as z:
                names = [f[len("trace/") :] for f in z.files if f.startswith("trace/")]
                parts.append(
                    dataclasses.replace(
                        blank,
                        spike_times=z["times_ms"],
                        spike_indices=z["indices"],
                        n_steps=int(z["n_steps"]),
                        traces={n: z[f"trace/{n}"] for n in names},
                        trace_times={n: z[f"trace_times/{n}"] for n in names},
                    )
                )
        state = load_state(os.path.join(self.root, p["state"]), like=net)
        return parts, state, int(p["steps_done"])

    def remove(self) -> None:
        """Delete ``DIR/stream`` (the run finished and its outputs are written)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # -- the run ----------------------------------------------------------------------------
    def run(self, net, n_steps: int, dt: float, key, record=None):
        """Simulate in segments, streaming each; on Ctrl-C keep the finished segments.

        ``(result, status, message, exit code)``. With ``record`` (the traces of a config
        run) the segments are whole multiples of the traces' ``every`` (see the module
        docstring), streamed with the spikes. The first SIGINT stops after the current
        segment; a second one stops at once (that segment is lost). A failed write stops
        with ``"failed"`` (exit 4); a non-finite state with ``"fault"`` (exit 3).

        Raises:
            ValueError: ``--segment-steps`` is not a multiple of the traces' ``every``.
        """
        from ._driver import progress_bar
        from .network import SimulationError, simulate

        seg = _segment_steps(net, n_steps, self.segment_steps, record)
        if self.progress is None:
            shutil.rmtree(self.root, ignore_errors=True)  # a previous run's segments
            os.makedirs(self.root, exist_ok=True)
            parts, state, done = [], None, 0
        else:
            parts, state, done = self._load(net)
            self.resumed_from_ms = done * dt
        k0 = len(parts)
        stop = []

        def on_sigint(signum, frame):
            if stop:
                raise KeyboardInterrupt
            stop.append(signum)
            print(
                "neurosim: interrupted: writing what has finished (Ctrl-C again to stop at once)",
                file=sys.stderr,
            )

        compile_s = run_s = 0.0
        status, message, code = "ok", "", 0
        bar = progress_bar(n_steps - done, dt, None)
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
        try:
            while done < n_steps and not stop:
                k = min(seg, n_steps - done)
                try:
                    r = simulate(
                        net,
                        k * dt,
                        dt,
                        key=key,
                        state=state,
                        chunk_steps=seg,
                        progress=False,
                        record=record,
                        record_spikes=self.record_spikes,
                    )
                except SimulationError as e:
                    r, status, message, code = e.result, "fault", str(e), 3
                parts.append(r)
                compile_s, run_s = compile_s + r.compile_s, run_s + r.run_s
                if not code:
                    try:
                        self._write_segment(len(parts) - 1, r, done, n_steps, seg)
                    except StreamError as e:
                        status, code = "failed", EXIT_FAILED
                        message = (
                            f"{e}; the {len(parts) - 1} finished segment(s) "
                            f"({done * dt:g} ms) are intact in {self.root}: free space and "
                            "continue with --resume"
                        )
                        parts.pop()  # not on disk: report what was kept
                        break
                state, done = r.final_state, done + r.n_steps
                if bar is not None:
                    bar.update(r.n_steps)
                if code:
                    break
        except KeyboardInterrupt:
            stop.append(signal.SIGINT)
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)
            if bar is not None:
                bar.close()
        if stop and not code:
            status, code = "interrupted", 130
            message = (
                f"interrupted (SIGINT) after {done * dt:g} of {n_steps * dt:g} ms; continue "
                "with --resume"
            )
        res = _combine(net, parts, n_steps, dt, done, compile_s, run_s, status, message, k0)
        return res, status, message, code


def _segment_steps(net, n_steps: int, given, record) -> int:
    """Steps per segment: ``given`` (``--segment-steps``) or the engine's chunk; with traces
    a multiple of the least common multiple of their ``every``."""
    every = math.lcm(*(getattr(t, "every", 1) for t in record or ()))
    if given is not None:
        if given % every:
            lo = max(every, given // every * every)
            raise ValueError(
                f"--segment-steps {given} must be a multiple of {every} (the least common "
                "multiple of the [run] record entries' every), so that each segment holds "
                f"whole trace samples; use --segment-steps {lo} or {lo + every}"
            )
        return given
    return max(every, _default_segment(net, n_steps) // every * every)


def _blank(net, dt, SimulationResult):
    return SimulationResult(
        np.zeros(0), np.zeros(0, np.int64), {}, {}, None, net, 0.0, 0.0, dt, 0, 0.0, 0.0
    )


def _combine(net, parts, n_steps, dt, done, compile_s, run_s, status, message, k0):
    """One result for the whole run (segments loaded from disk and simulated now)."""
    from .network import SimulationResult

    last = parts[-1] if len(parts) > k0 else _blank(net, dt, SimulationResult)
    names = parts[-1].traces if parts else {}
    return dataclasses.replace(
        last,
        spike_times=np.concatenate([p.spike_times for p in parts] or [np.zeros(0)]),
        spike_indices=np.concatenate([p.spike_indices for p in parts] or [np.zeros(0, np.int64)]),
        traces={n: np.concatenate([p.traces[n] for p in parts]) for n in names},
        trace_times={n: np.concatenate([p.trace_times[n] for p in parts]) for n in names},
        t_start=0.0,
        duration=n_steps * dt,
        n_steps=done,
        compile_s=compile_s,
        run_s=run_s,
        status=status,
        message=message,
    )
