"""Connectome and functional-connectivity figures (matplotlib imported lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["connectome", "functional_connectivity"]


def _pyplot(path):
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, plt, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return None
    return fig


def _ticks(ax, labels, max_labels: int):
    n = len(labels)
    if n <= max_labels:
        ax.set_xticks(range(n), labels, rotation=90, fontsize=5)
        ax.set_yticks(range(n), labels, fontsize=5)


def connectome(con, path=None, *, max_labels: int = 40, title: str | None = None):
    """Weights (log scale), tract lengths and, if known, region centres of a connectome.

    Args:
        con: a :class:`neurosim.connectome.Connectome` (rows = targets, columns = sources).
        path: save the figure there and close it; otherwise return it.
        max_labels: label the axes with region names up to this many regions.
        title: figure title (default: the number of regions).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> con = ns.connectome.Connectome(np.ones((3, 3)), centres=np.eye(3) * 30.0)
        >>> fig = ns.viz.connectome(con)
    """
    plt = _pyplot(path)
    from matplotlib.colors import LogNorm

    has_centres = con.centres is not None
    ncol = 3 if has_centres else 2
    fig = plt.figure(figsize=(5.0 * ncol, 4.6))
    ax_w = fig.add_subplot(1, ncol, 1)
    w = np.asarray(con.weights, float)
    pos = w[w > 0]
    if pos.size:
        shown = np.where(w > 0, w, np.nan)
        im = ax_w.imshow(shown, norm=LogNorm(vmin=pos.min(), vmax=pos.max()), cmap="viridis",
                         interpolation="nearest")  # fmt: skip
    else:
        im = ax_w.imshow(w, cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax_w, fraction=0.046, label="weight (log; blank = 0)")
    ax_w.set(title="weights W[i, j] (from j to i)", xlabel="source j", ylabel="target i")
    _ticks(ax_w, con.labels, max_labels)
    ax_l = fig.add_subplot(1, ncol, 2)
    im = ax_l.imshow(con.tract_lengths, cmap="magma", interpolation="nearest")
    fig.colorbar(im, ax=ax_l, fraction=0.046, label="mm")
    ax_l.set(title="tract lengths", xlabel="source j", ylabel="target i")
    _ticks(ax_l, con.labels, max_labels)
    if has_centres:
        ax_c = fig.add_subplot(1, ncol, 3, projection="3d")
        c = con.centres
        strength = w.sum(axis=0) + w.sum(axis=1)
        colour = "C0" if con.hemispheres is None else np.where(con.hemispheres, "C3", "C0")
        size = 10 + 60 * strength / max(strength.max(), 1e-12)
        ax_c.scatter(c[:, 0], c[:, 1], c[:, 2], s=size, c=colour, depthshade=True)
        ax_c.set(title="centres (size: strength; red: right)", xlabel="x (mm)",
                 ylabel="y (mm)", zlabel="z (mm)")  # fmt: skip
    fig.suptitle(title or f"connectome: {con.n} regions")
    return _finish(fig, plt, path)


def functional_connectivity(
    fc, path=None, *, labels=None, reference=None, reference_name: str = "SC",
    title: str | None = None, max_labels: int = 40,
):  # fmt: skip
    """An FC matrix and, optionally, its upper triangle against a reference (e.g. SC weights).

    Args:
        fc: ``(n, n)`` correlation matrix (``ns.analysis.functional_connectivity``).
        path: save the figure there and close it; otherwise return it.
        labels: region names for the axes (used up to ``max_labels`` regions).
        reference: ``(n, n)`` matrix to scatter the FC against (upper triangle, off-diagonal,
            pairs where both are finite); its Pearson correlation is in the panel title.
        reference_name: axis label of the reference.
        title: title of the matrix panel.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> fc = np.corrcoef(np.random.default_rng(0).standard_normal((4, 100)))
        >>> fig = ns.viz.functional_connectivity(fc, reference=np.ones((4, 4)) - np.eye(4))
    """
    plt = _pyplot(path)
    fc = np.asarray(fc, float)
    ncol = 1 if reference is None else 2
    fig, axes = plt.subplots(1, ncol, figsize=(5.0 * ncol, 4.4), squeeze=False)
    ax = axes[0, 0]
    im = ax.imshow(fc, vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, label="Pearson r")
    ax.set(title=title or "functional connectivity", xlabel="region", ylabel="region")
    if labels is not None:
        _ticks(ax, list(labels), max_labels)
    if reference is not None:
        ref = np.asarray(reference, float)
        iu = np.triu_indices(fc.shape[0], k=1)
        x, y = ref[iu], fc[iu]
        ok = np.isfinite(x) & np.isfinite(y)
        r = np.corrcoef(x[ok], y[ok])[0, 1] if ok.sum() > 2 else np.nan
        ax2 = axes[0, 1]
        ax2.scatter(x[ok], y[ok], s=4, alpha=0.5)
        ax2.set(title=f"FC vs {reference_name}: r = {r:.3f}", xlabel=reference_name,
                ylabel="FC (r)")  # fmt: skip
    return _finish(fig, plt, path)
