"""Learning curves of a training run (matplotlib imported lazily)."""

from __future__ import annotations

__all__ = ["training_curves"]


def training_curves(history, path=None, *, metrics=("loss", "test_accuracy"), title: str = ""):
    """One panel per metric over epochs, from the history returned by ``ns.train.fit``.

    Args:
        history: list of per-epoch dicts (``epoch`` and the metrics).
        path: save the figure there (PNG, ...) and close it; otherwise return it.
        metrics: record keys to plot, one panel each (e.g. ``"loss"``, ``"test_accuracy"``).
        title: prefix of the panel titles (e.g. the task's name).
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    missing = [m for m in metrics if any(m not in r for r in history)]
    if not history or missing:
        raise ValueError(
            f"history must be a non-empty list of epoch records holding {list(metrics)}; "
            f"missing {missing or list(metrics)}"
        )
    epochs = [r["epoch"] for r in history]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        ax.plot(epochs, [r[m] for r in history])
        label = m.replace("_", " ")
        ax.set(xlabel="epoch", ylabel=label, title=f"{title}: {label}" if title else label)
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
