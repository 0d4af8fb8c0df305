"""ns.viz.raster: legends off the data, labelled subset and bin width, short runs drawn."""

from __future__ import annotations

import types

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import neurosim as ns  # noqa: E402


class _Net:
    def __init__(self, groups):
        self._groups = groups

    def rate_groups(self):
        return self._groups


def _result(times, indices, groups, duration, t_start=0.0):
    """The attributes raster reads, without running a simulation."""
    times, indices = np.asarray(times, float), np.asarray(indices, np.int64)
    n = sum(b - a for a, b in groups.values())
    return types.SimpleNamespace(
        spike_times=times,
        spike_indices=indices,
        network=_Net(groups),
        simulated_ms=duration,
        t_start=t_start,
        n_spikes=int(indices.size),
        rate_hz=indices.size / n / (duration * 1e-3),
    )


def _overlap(a, b):
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


def test_legends_outside_axes_and_labels_name_the_subset_and_bin():
    rng = np.random.default_rng(0)
    groups = {"E": (0, 800), "I": (800, 1000)}
    idx = rng.integers(0, 1000, 5000)
    res = _result(np.sort(rng.uniform(0, 500, 5000)), idx, groups, 500.0)
    fig = ns.viz.raster(res, max_neurons=100, bin_ms=10.0)
    ax_r, ax_p = fig.axes
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in (ax_r, ax_p):
        leg = ax.get_legend().get_window_extent(renderer)
        for other in (ax_r, ax_p):
            assert not _overlap(leg, other.get_window_extent(renderer))
    # 100 of 1000 neurons: 80 of the 800 E (every 10th), 20 of the 200 I.
    assert "100 of 1000" in ax_r.get_ylabel()
    labels = [t.get_text() for t in ax_r.get_legend().get_texts()]
    assert labels == ["E: 80 of 800 (every 10)", "I: 20 of 200 (every 10)"]
    assert "10 ms bins" in ax_p.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_one_ms_run_draws_rates_over_the_run():
    groups = {"P": (0, 10)}
    # 3 spikes of 10 neurons in 1 ms: 300 Hz per neuron.
    res = _result([0.2, 0.5, 0.9], [1, 4, 7], groups, 1.0)
    fig = ns.viz.raster(res, bin_ms=5.0)
    ax_r, ax_p = fig.axes
    assert ax_r.get_xlim() == pytest.approx((0.0, 1.0))
    assert len(ax_r.collections[0].get_offsets()) == 3
    (steps,) = ax_p.patches  # one bin, shortened to the 1 ms run
    values, edges = steps.get_data()[:2]
    assert edges == pytest.approx([0.0, 1.0]) and values == pytest.approx([300.0])
    assert ax_p.get_ylim()[1] > 300.0
    assert "1 ms bins" in ax_p.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_no_spikes_says_so(tmp_path):
    res = _result([], [], {"P": (0, 5)}, 2.0)
    fig = ns.viz.raster(res)
    assert any("no spikes in 2 ms" in t.get_text() for t in fig.axes[0].texts)
    matplotlib.pyplot.close(fig)
    ns.viz.raster(res, tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 0


def test_bad_arguments():
    res = _result([], [], {"P": (0, 5)}, 2.0)
    with pytest.raises(ValueError, match="bin_ms"):
        ns.viz.raster(res, bin_ms=0.0)
    with pytest.raises(ValueError, match="max_neurons"):
        ns.viz.raster(res, max_neurons=0)
