"""Teacher forcing on recordings: split a trace at its spikes and simulate the pieces at once.

A spiking trace is a poor target for a free-running simulation: a spike that comes one step
early or late, or a missed spike, changes everything after it, so the loss is discontinuous
in the threshold and reset. With the recorded spike times known, each inter-spike segment is
simulated from the state right after the recorded spike (reset, refractory) — the spike times
act as resets — and the segments run side by side as the neurons of one population, in one
``ns.run``. Inside a segment the membrane dynamics are smooth in the parameters.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .._validate import check_positive
from ._free_run import simulate_population

__all__ = ["Recording", "Segments", "split_at_spikes", "run_segments", "first_crossing"]


class Recording(NamedTuple):
    """A current-clamp recording on a grid of ``dt`` ms.

    Attributes:
        dt: sampling interval (ms).
        v: membrane potential (mV) at times ``k dt``, shape ``(N + 1,)`` (``v[0]``: start).
        current: injected current (pA) during step ``k`` (from ``k dt`` to ``(k+1) dt``),
            shape ``(N,)``.
        spike_steps: steps ``k`` in which a spike occurred (``v[k + 1]`` is after the reset).
    """

    dt: float
    v: np.ndarray
    current: np.ndarray
    spike_steps: np.ndarray

    @property
    def n_steps(self) -> int:
        return int(np.asarray(self.current).shape[0])

    @property
    def spike_times(self) -> np.ndarray:
        """Spike times (ms): the end of the step in which each spike occurred."""
        return (np.asarray(self.spike_steps) + 1) * self.dt


class Segments(NamedTuple):
    """Inter-spike segments of a :class:`Recording`, padded to a common length.

    Segment ``s`` starts from data sample ``start[s]``; model step ``j`` of the segment takes
    the neuron from ``v[start + j]`` to ``v[start + j + 1]``. Arrays of shape ``(L, S)`` are
    time-major (``L`` = longest segment), ready for :class:`neurosim.inputs.ArrayCurrent`.

    Attributes:
        start: ``(S,)`` first data sample (the initial state) of each segment.
        n_obs: ``(S,)`` model steps compared with data (up to the sample before the next spike).
        after_spike: ``(S,)`` True where the segment starts right after a recorded spike.
        continues: ``(S,)`` True where the segment continues the previous one (``max_len``).
        ends_in_spike: ``(S,)`` True where the segment ends with a recorded spike at model step
            ``n_obs`` (so the model's potential there is the pre-reset one).
        n_steps: ``(S,)`` steps simulated with recorded current (``n_obs``, + 1 + ``tail``
            after a spike, within the recording).
        current: ``(L, S)`` injected current (pA), zero-padded.
        v: ``(L, S)`` recorded potential after each model step (mV), zero-padded.
        mask: ``(L, S)`` True on compared samples.
    """

    start: np.ndarray
    n_obs: np.ndarray
    after_spike: np.ndarray
    continues: np.ndarray
    ends_in_spike: np.ndarray
    n_steps: np.ndarray
    current: np.ndarray
    v: np.ndarray
    mask: np.ndarray

    @property
    def length(self) -> int:
        return int(self.current.shape[0])

    @property
    def n_segments(self) -> int:
        return int(self.current.shape[1])


def checked_recording(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """``(v, sorted spike steps)`` of ``rec`` after checking their shapes and range."""
    n = rec.n_steps
    v = np.asarray(rec.v, float)
    if n < 1 or v.shape != (n + 1,):
        raise ValueError(
            f"rec.v must have shape (N + 1,) = ({n + 1},) for N = len(rec.current) = {n} >= 1 "
            f"steps, got {v.shape}"
        )
    check_positive("rec.dt", rec.dt, "ms")
    spikes = np.sort(np.asarray(rec.spike_steps, int))
    if spikes.size and (spikes[0] < 0 or spikes[-1] >= n):
        raise ValueError(f"rec.spike_steps must lie in [0, {n}), got [{spikes[0]}, {spikes[-1]}]")
    return v, spikes


def split_at_spikes(rec: Recording, max_len: int | None = None, tail: int = 0) -> Segments:
    """Cut ``rec`` into segments that start at the recording's start and after each spike.

    Each segment is simulated for ``n_obs + 1`` steps when it ends in a spike (the last step
    is the spike step, whose pre-reset potential is not recorded), else ``n_obs``. With
    ``max_len``, longer inter-spike intervals are cut into pieces of at most ``max_len``
    observed steps (``continues`` marks a piece that carries on from the previous one without
    a spike; multiple shooting: the fit links them by continuity of the state). Shorter
    pieces make the scan shorter (the cost of a run is its longest segment). ``tail`` extra
    steps are simulated after each recorded spike step (with the recorded current), so that a
    model spiking up to ``tail`` steps late still shows its crossing to
    :func:`first_crossing`.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> rec = ns.fit.Recording(0.1, np.zeros(101), np.zeros(100), np.array([40]))
        >>> seg = ns.fit.split_at_spikes(rec)  # two segments: samples 0..40 and 41..100
    """
    n = rec.n_steps
    v, spikes = checked_recording(rec)
    cur = np.asarray(rec.current, float)
    tail = int(tail)
    if tail < 0:
        raise ValueError(f"tail must be >= 0 steps, got {tail}")
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"max_len must be >= 1 step, got {max_len}")
    starts, n_obs, after, cont, in_spike = [], [], [], [], []
    seg_starts = np.concatenate([[0], spikes + 1])
    seg_ends = np.concatenate([spikes, [n]])  # the data sample compared last is v[end]
    for k, (a, e) in enumerate(zip(seg_starts, seg_ends, strict=True)):
        if e <= a:  # empty (a spike right at the start, or two in consecutive steps)
            continue
        cuts = [a] if max_len is None else list(range(a, e, int(max_len)))
        for i, c in enumerate(cuts):
            stop = cuts[i + 1] if i + 1 < len(cuts) else e
            starts.append(c)
            n_obs.append(stop - c)
            after.append(k > 0 and i == 0)
            cont.append(i > 0)
            in_spike.append(k < spikes.size and i == len(cuts) - 1)
    starts, n_obs = np.asarray(starts), np.asarray(n_obs)
    in_spike = np.asarray(in_spike, bool)
    lengths = np.minimum(n_obs + in_spike * (1 + tail), n - starts)
    L, S = int(lengths.max()), starts.size
    current = np.zeros((L, S))
    vv = np.zeros((L, S))
    mask = np.zeros((L, S), bool)
    for s in range(S):
        a, k = starts[s], lengths[s]
        current[:k, s] = cur[a : a + k]
        vv[: n_obs[s], s] = v[a + 1 : a + 1 + n_obs[s]]
        mask[: n_obs[s], s] = True
    return Segments(
        starts,
        n_obs,
        np.asarray(after, bool),
        np.asarray(cont, bool),
        in_spike,
        lengths,
        current,
        vv,
        mask,
    )


def run_segments(neuron, segments: Segments, dt: float, initial: dict, *, record=("v",)):
    """Simulate every segment as one neuron of ``neuron`` (``neuron.n == S``) with ``ns.run``.

    Args:
        neuron: a neuron model with one neuron per segment (parameters may be traced).
        segments: from :func:`split_at_spikes`.
        dt: time step (ms), concrete.
        initial: state variables to set per segment (``{"v": (S,), "refractory": (S,)}``, ...);
            the others come from ``neuron.init``.
        record: state variables to return.

    Returns:
        ``(traces, spikes)``: per recorded variable an ``(L, S)`` array (the state after each
        step), and the ``(L, S)`` spike output (with the surrogate derivative).
    """
    if neuron.n != segments.n_segments:
        raise ValueError(f"neuron.n must be the number of segments {segments.n_segments}")
    spikes, traces, _ = simulate_population(
        neuron, jnp.asarray(segments.current), dt, initial, record
    )
    return traces, spikes


def first_crossing(v, v_start, threshold, segments: Segments):
    """Interpolated time of the first upward crossing of ``threshold`` in each segment.

    Args:
        v: ``(L, S)`` potentials after each step (from :func:`run_segments`, run with the
            model's own threshold disabled so the trajectory continues through it).
        v_start: ``(S,)`` potentials at the segments' starts.
        threshold: scalar or ``(S,)`` (mV).
        segments: the segments (crossings are searched over the simulated ``n_steps``).

    Returns:
        ``(crossed, t, v_max)``: whether the potential reached ``threshold``; the crossing time
        in steps since the segment start, linearly interpolated between the samples around it
        (differentiable in the potentials and the threshold, as exact spike-time gradients
        are); and the largest potential over the searched range (for a hinge when not crossed).
    """
    v = jnp.concatenate([jnp.asarray(v_start)[None], v])  # v[i]: before step i
    n_search = jnp.asarray(segments.n_steps)
    valid = jnp.arange(v.shape[0])[:, None] <= n_search[None, :]
    above = (v >= threshold) & valid
    crossed = jnp.any(above, axis=0)
    c = jnp.maximum(jnp.argmax(above, axis=0), 1)
    cols = jnp.arange(v.shape[1])
    v_before, v_after = v[c - 1, cols], v[c, cols]
    frac = jnp.clip((threshold - v_before) / jnp.maximum(v_after - v_before, 1e-6), 0.0, 1.0)
    v_max = jnp.max(jnp.where(valid, v, -jnp.inf), axis=0)
    return crossed, (c - 1) + frac, v_max
