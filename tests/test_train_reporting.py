"""Epoch log line and learning-curve figure used by the training examples."""

import matplotlib
import pytest

import neurosim as ns

matplotlib.use("Agg")

HISTORY = [
    {"epoch": 1, "loss": 1.5, "time_s": 2.25, "test_accuracy": 0.5},
    {"epoch": 2, "loss": 0.75, "time_s": 1.0, "test_accuracy": 0.875},
]


def test_print_epoch_shows_every_metric(capsys):
    ns.train.print_epoch({**HISTORY[1], "hidden_rate_hz": 12.5})
    line = capsys.readouterr().out.strip()
    assert line == "epoch   2  loss 0.7500  test_accuracy 0.8750  hidden_rate_hz 12.5000  (1.0 s)"


def test_training_curves_plots_each_metric(tmp_path):
    fig = ns.viz.training_curves(HISTORY, title="task")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["task: loss", "task: test accuracy"]
    for ax, key in zip(axes, ("loss", "test_accuracy"), strict=True):
        x, y = ax.lines[0].get_data()
        assert list(x) == [1, 2] and list(y) == [r[key] for r in HISTORY]
    path = tmp_path / "curves.png"
    assert ns.viz.training_curves(HISTORY, path) is None
    assert path.stat().st_size > 0


def test_training_curves_rejects_missing_metric():
    with pytest.raises(ValueError, match="missing \\['accuracy'\\]"):
        ns.viz.training_curves(HISTORY, metrics=("loss", "accuracy"))
    with pytest.raises(ValueError, match="non-empty"):
        ns.viz.training_curves([])
