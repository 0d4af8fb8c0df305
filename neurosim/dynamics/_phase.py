"""Phase planes of 2-D systems: vector field, nullclines, trajectories, fixed points."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._cycles import trajectories
from ._fixed_points import FixedPoints, fixed_points
from ._system import System, as_box

__all__ = ["PhasePlane", "phase_plane", "nullclines"]


@dataclasses.dataclass(frozen=True)
class PhasePlane:
    """Everything a phase-plane figure shows (arrays, no figure).

    Attributes:
        names: the two state variables. box: ``((lo, hi), (lo, hi))``.
        grid: ``(X, Y)`` meshgrids of the arrow grid; field: ``(U, V)`` ``dx/dt`` there.
        nullclines: ``{name: [polyline (k, 2), ...]}``: where ``d name / dt = 0``.
        fixed_points: :class:`FixedPoints`. trajectories: ``(m, T, 2)`` or None.
        params: the parameter values used.
    """

    names: tuple
    box: tuple
    grid: tuple
    field: tuple
    nullclines: dict
    fixed_points: FixedPoints
    trajectories: np.ndarray | None
    params: dict


@eqx.filter_jit
def _field_on(system, q, pts):
    return jax.vmap(system.bind(q))(pts)


def _check_2d(system: System):
    if system.dim != 2:
        raise ValueError(
            f"a phase plane needs a 2-D system, this one has {system.dim} variables "
            f"{system.names}; choose two with ns.dynamics.system(model, free=(a, b), "
            "frozen={...})"
        )


def nullclines(system: System, box, p: dict | None = None, *, n: int = 200) -> dict:
    """Nullclines of a 2-D system: ``{name: [polyline (k, 2), ...]}`` (contours of each
    component of ``f`` at 0 on an ``n x n`` grid, traced by ``contourpy``).

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> lines = ns.dynamics.nullclines(fhn, [(-2.5, 2.5), (-1, 2)], n=50)
        >>> sorted(lines)
        ['v', 'w']
    """
    import contourpy

    _check_2d(system)
    lo, hi = as_box(system, box)
    xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    X, Y = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([X.ravel(), Y.ravel()], 1), jnp.result_type(float))
    F = np.asarray(_field_on(system, system.params(p), pts), float)
    out = {}
    for k, name in enumerate(system.names):
        Z = F[:, k].reshape(X.shape)
        Z = np.where(np.isfinite(Z), Z, np.nan)
        gen = contourpy.contour_generator(X, Y, Z, line_type="Separate")
        out[name] = [np.asarray(seg) for seg in gen.lines(0.0) if len(seg) > 1]
    return out


def phase_plane(
    system: System,
    box,
    p: dict | None = None,
    *,
    n_arrows: int = 20,
    n_nullcline: int = 200,
    starts=None,
    t_max: float = 100.0,
    dt: float = 0.1,
    n_grid: int | None = None,
) -> PhasePlane:
    """Phase-plane data of a 2-D system (plot with :func:`neurosim.viz.phase_plane`).

    Args:
        system: a 2-D :class:`System` (else ``ValueError``).
        box: ``[(lo, hi), (lo, hi)]`` in the variables' units.
        p: parameter values.
        n_arrows: arrows per axis. n_nullcline: nullcline grid per axis.
        starts: ``(m, 2)`` initial states of trajectories (RK4, ``dt`` ms, ``t_max`` ms).
        n_grid: Newton starts per axis (:func:`fixed_points`).

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> pp = ns.dynamics.phase_plane(fhn, [(-2.5, 2.5), (-1, 2)], {"i_ext": 0.5},
        ...                              starts=[[0.0, 0.0]], t_max=50.0)
        >>> pp.fixed_points.kind
        ('unstable focus',)
    """
    _check_2d(system)
    lo, hi = as_box(system, box)
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], n_arrows), np.linspace(lo[1], hi[1], n_arrows))
    pts = jnp.asarray(np.stack([X.ravel(), Y.ravel()], 1), jnp.result_type(float))
    F = np.asarray(_field_on(system, system.params(p), pts), float)
    U, V = F[:, 0].reshape(X.shape), F[:, 1].reshape(X.shape)
    lines = nullclines(system, box, p, n=n_nullcline)
    fps = fixed_points(system, box, p, n_grid=n_grid)
    traj = None
    if starts is not None:
        traj = np.asarray(trajectories(system, starts, p, t_max=t_max, dt=dt))
    q = {k: np.asarray(v) for k, v in system.params(p).items()}
    box_t = ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))
    return PhasePlane(tuple(system.names), box_t, (X, Y), (U, V), lines, fps, traj, q)
