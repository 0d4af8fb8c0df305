"""Raster plot with a population-rate panel (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np

from ..analysis import population_rate

__all__ = ["raster"]


def raster(
    result, path=None, *, max_neurons: int = 500, bin_ms: float = 5.0, title: str | None = None
):
    """Plot spikes of (up to) ``max_neurons`` neurons and the population rate.

    The neurons shown are spread evenly over each rate group (every k-th neuron, the same
    share of each group); the y axis says how many of how many. The rate panel shows the mean
    rate per neuron of each whole group in bins of ``bin_ms`` (shortened to the simulated time
    for shorter runs) as steps, so that even a one-bin run is drawn. Legends sit outside the
    axes, next to the data they name.

    Args:
        result: a :class:`neurosim.SimulationResult`.
        path: save the figure there (PNG, ...) and close it; otherwise return it.
        max_neurons: neurons shown, spread evenly over each rate group.
        bin_ms: bin width of the rate panel (ms), > 0.
        title: figure title (default: spike count and mean rate).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=400, key=jax.random.key(0))
        >>> res = ns.simulate(net, duration=100.0, dt=0.1, key=jax.random.key(1))
        >>> fig = ns.viz.raster(res, bin_ms=10.0)
    """
    if not bin_ms > 0:
        raise ValueError(f"bin_ms must be > 0 ms, got {bin_ms}")
    if int(max_neurons) < 1:
        raise ValueError(f"max_neurons must be >= 1, got {max_neurons}")
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    groups = getattr(result, "recorded_groups", None)  # only populations with recorded spikes
    if groups is None:
        groups = result.network.rate_groups()
    n_total = sum(b - a for a, b in groups.values())
    t0, t_sim = result.t_start, result.simulated_ms
    width = min(float(bin_ms), t_sim) if t_sim > 0 else float(bin_ms)
    picks = {}
    for name, (a, b) in groups.items():
        share = max(1, int(round(max_neurons * (b - a) / max(n_total, 1))))
        picks[name] = np.unique(np.linspace(a, b - 1, min(share, b - a)).astype(np.int64))
    shown_total = sum(p.size for p in picks.values())
    marker_s = float(np.clip(3000.0 / max(shown_total, 1), 2.0, 40.0))

    line_w = 0.6 if result.n_spikes > 2000 else 1.2  # sparse rasters: thicker marks

    fig, (ax_r, ax_p) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, height_ratios=[3, 1])
    shown, r_max = 0, 0.0
    for k, (name, (a, b)) in enumerate(groups.items()):
        pick = picks[name]
        m = np.isin(result.spike_indices, pick)
        rank = np.searchsorted(pick, result.spike_indices[m])
        every = (b - a) / pick.size
        label = f"{name}: {pick.size} of {b - a}" + (f" (every {every:.3g})" if every > 1 else "")
        ax_r.scatter(
            result.spike_times[m],
            shown + rank,
            s=marker_s,
            marker="|",
            lw=line_w,
            color=f"C{k}",
            label=label,
        )
        mine = (result.spike_indices >= a) & (result.spike_indices < b)
        t, r = population_rate(result.spike_times[mine], b - a, t_sim, width, t_start=t0)
        edges = np.append(t - 0.5 * width, t[-1] + 0.5 * width)
        mean_hz = np.count_nonzero(mine) / (b - a) / (t_sim * 1e-3) if t_sim > 0 else 0.0
        ax_p.stairs(r, edges, color=f"C{k}", lw=1.0, label=f"{name}: {mean_hz:.1f} Hz")
        shown += pick.size
        r_max = max(r_max, float(np.max(r)))
    if result.n_spikes == 0:
        ax_r.text(0.5, 0.5, f"no spikes in {t_sim:g} ms", transform=ax_r.transAxes, ha="center")
    ax_r.set_ylabel(f"neuron: {shown} of {n_total} shown\n(evenly spaced in each group)")
    ax_r.set_ylim(-0.5, max(shown, 1) - 0.5)
    ax_r.set_xlim(t0, t0 + max(t_sim, width))
    legend = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax_r.legend(markerscale=max(1.0, 40.0 / marker_s), **legend)
    ax_p.set_xlabel("time (ms)")
    ax_p.set_ylabel(f"rate (Hz)\n{width:g} ms bins")
    ax_p.set_ylim(0.0, 1.15 * r_max if r_max > 0 else 1.0)
    ax_p.legend(title="mean rate", title_fontsize=8, **legend)
    ax_r.set_title(title or f"{result.n_spikes} spikes, mean rate {result.rate_hz:.2f} Hz")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return None
    return fig
