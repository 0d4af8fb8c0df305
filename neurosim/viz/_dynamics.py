"""Phase-plane and bifurcation figures for :mod:`neurosim.dynamics` (matplotlib, lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["phase_plane", "bifurcation"]

_STYLE = {
    "stable node": ("o", "k", "k"),
    "stable focus": ("o", "tab:blue", "tab:blue"),
    "unstable node": ("o", "w", "k"),
    "unstable focus": ("o", "w", "tab:blue"),
    "saddle": ("X", "tab:red", "tab:red"),
    "centre": ("D", "w", "tab:green"),
    "degenerate": ("s", "tab:orange", "tab:orange"),
}


def _axes(ax, path, figsize):
    import matplotlib

    if path is not None and ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _finish(fig, path):
    if path is None:
        return fig
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def phase_plane(pp, path=None, *, ax=None, title: str | None = None, arrows: bool = True):
    """Plot a :class:`neurosim.dynamics.PhasePlane`: nullclines, arrows, trajectories and
    fixed points by class (filled: stable, open: unstable, cross: saddle).

    Args:
        pp: from :func:`neurosim.dynamics.phase_plane`.
        path: save there (PNG, ...) and close; else return the figure.
        ax: draw into these axes. title: axes title. arrows: draw the vector field.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> pp = ns.dynamics.phase_plane(fhn, [(-2.5, 2.5), (-1, 2)], {"i_ext": 0.5})
        >>> fig = ns.viz.phase_plane(pp)
    """
    fig, ax = _axes(ax, path, (5.5, 4.5))
    (X, Y), (U, V) = pp.grid, pp.field
    if arrows:
        speed = np.hypot(U / np.ptp(pp.box[0]), V / np.ptp(pp.box[1]))
        with np.errstate(invalid="ignore", divide="ignore"):
            su, sv = U / np.ptp(pp.box[0]) / speed, V / np.ptp(pp.box[1]) / speed
        ax.quiver(X, Y, su * np.ptp(pp.box[0]), sv * np.ptp(pp.box[1]), np.log10(speed + 1e-30),
                  cmap="Greys", alpha=0.5, angles="xy", pivot="mid", width=0.003)  # fmt: skip
    colors = ("tab:orange", "tab:purple")
    for k, name in enumerate(pp.names):
        for i, seg in enumerate(pp.nullclines[name]):
            lab = f"d{name}/dt = 0" if i == 0 else None
            ax.plot(seg[:, 0], seg[:, 1], color=colors[k % 2], lw=1.8, label=lab)
    if pp.trajectories is not None:
        for tr in pp.trajectories:
            ax.plot(tr[:, 0], tr[:, 1], color="tab:gray", lw=0.9)
            ax.plot(tr[0, 0], tr[0, 1], ".", color="tab:gray")
    fp = pp.fixed_points
    seen = set()
    for x, kind in zip(fp.x, fp.kind, strict=True):
        m, face, edge = _STYLE[kind]
        ax.plot(x[0], x[1], m, mfc=face, mec=edge, ms=9, mew=1.8, ls="none",
                label=None if kind in seen else kind, zorder=5)  # fmt: skip
        seen.add(kind)
    ax.set_xlim(*pp.box[0])
    ax.set_ylim(*pp.box[1])
    ax.set_xlabel(pp.names[0])
    ax.set_ylabel(pp.names[1])
    ax.legend(fontsize=7, loc="best")
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def bifurcation(
    branch,
    path=None,
    *,
    var=0,
    ax=None,
    cycles=None,
    title: str | None = None,
    label_events: bool = True,
):
    """Plot a :class:`neurosim.dynamics.Branch`: a state variable against the parameter
    (solid: stable, dashed: unstable), folds (LP) and Hopf points (H); for a two-parameter
    curve, the second parameter against the first.

    Args:
        branch: from :func:`neurosim.dynamics.continuation` or
            :func:`~neurosim.dynamics.two_parameter`.
        path: save there and close; else return the figure.
        var: index or name of the plotted state variable (one-parameter branches).
        ax: draw into these axes.
        cycles: optional ``(values, LimitCycle list)``: the orbits' min and max of ``var``.
        title: axes title. label_events: annotate LP / H.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> br = ns.dynamics.continuation(fhn, "i_ext", [-1.2, -0.6], ds=0.05, n_steps=60)
        >>> fig = ns.viz.bifurcation(br)
    """
    fig, ax = _axes(ax, path, (5.5, 4.0))
    k = branch.names.index(var) if isinstance(var, str) else int(var)
    if len(branch.params) == 2:
        ax.plot(branch.values[:, 0], branch.values[:, 1], color="k", lw=1.5)
        ax.set_xlabel(branch.params[0])
        ax.set_ylabel(branch.params[1])
    else:
        lam, y, st = list(branch.values[:, 0]), list(branch.x[:, k]), list(branch.stable)
        both = [False] * len(lam)
        for ev in sorted(branch.events, key=lambda e: -e.index):  # events join the line
            i = ev.index + 1
            lam.insert(i, ev.params[branch.params[0]])
            y.insert(i, ev.x[k])
            st.insert(i, st[i - 1])
            both.insert(i, True)
        # each segment takes the stability of its end that is not an event point
        style = [st[i + 1] if both[i] else st[i] for i in range(len(lam) - 1)]
        labelled = set()
        i = 0
        while i < len(style):
            j = i
            while j + 1 < len(style) and style[j + 1] == style[i]:
                j += 1
            flag = bool(style[i])
            lab = None if flag in labelled else ("stable" if flag else "unstable")
            labelled.add(flag)
            ax.plot(lam[i : j + 2], y[i : j + 2], "-" if flag else "--", color="k", lw=1.6,
                    label=lab)  # fmt: skip
            i = j + 1
        for ev in branch.events:
            mark = {"fold": ("s", "tab:red", "LP"), "hopf": ("o", "tab:blue", "H")}.get(
                ev.kind, ("^", "tab:gray", "BP")
            )
            xv = ev.params[branch.params[0]]
            ax.plot(xv, ev.x[k], mark[0], color=mark[1], ms=7, zorder=5)
            if label_events:
                ax.annotate(mark[2], (xv, ev.x[k]), textcoords="offset points", xytext=(4, 4))
        if cycles is not None:
            vals, lcs = cycles
            lo = [np.nanmin(c.orbit[:, k]) if c.converged else np.nan for c in lcs]
            hi = [np.nanmax(c.orbit[:, k]) if c.converged else np.nan for c in lcs]
            ax.plot(vals, hi, "o", color="tab:green", ms=3, label="limit cycle max/min")
            ax.plot(vals, lo, "o", color="tab:green", ms=3)
        ax.set_xlabel(branch.params[0])
        ax.set_ylabel(branch.names[k])
        ax.legend(fontsize=7, loc="best")
    if title:
        ax.set_title(title)
    return _finish(fig, path)
