"""Raster plot with a population-rate panel (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np

from ..analysis import population_rate

__all__ = ["raster"]


def raster(
    result, path=None, *, max_neurons: int = 500, bin_ms: float = 5.0, title: str | None = None
):
    """Plot spikes of (up to) ``max_neurons`` neurons and the population rate.

    Args:
        result: a :class:`neurosim.SimulationResult`.
        path: save the figure there (PNG, ...) and close it; otherwise return it.
        max_neurons: neurons shown, spread evenly over each rate group.
        bin_ms: bin width of the rate panel (ms).
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    groups = result.network.rate_groups()
    n_total = sum(b - a for a, b in groups.values())
    fig, (ax_r, ax_p) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True, height_ratios=[3, 1])
    shown = 0
    for k, (name, (a, b)) in enumerate(groups.items()):
        share = max(1, int(round(max_neurons * (b - a) / max(n_total, 1))))
        pick = np.unique(np.linspace(a, b - 1, min(share, b - a)).astype(np.int64))
        m = np.isin(result.spike_indices, pick)
        rank = np.searchsorted(pick, result.spike_indices[m])
        ax_r.scatter(
            result.spike_times[m],
            shown + rank,
            s=1.0,
            marker="|",
            lw=0.5,
            color=f"C{k}",
            label=name,
        )
        t, r = population_rate(
            result.spike_times[(result.spike_indices >= a) & (result.spike_indices < b)],
            b - a,
            result.simulated_ms,
            bin_ms,
            t_start=result.t_start,
        )
        ax_p.plot(t, r, color=f"C{k}", lw=1.0, label=f"{name} ({r.mean():.1f} Hz)")
        shown += pick.size
    ax_r.set_ylabel("neuron (subset)")
    ax_r.set_ylim(-0.5, max(shown, 1) - 0.5)
    ax_r.legend(loc="upper right", markerscale=8, fontsize=8)
    ax_p.set_xlabel("time (ms)")
    ax_p.set_ylabel("rate (Hz)")
    ax_p.legend(loc="upper right", fontsize=8)
    ax_r.set_title(title or f"{result.n_spikes} spikes, mean rate {result.rate_hz:.2f} Hz")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return None
    return fig
