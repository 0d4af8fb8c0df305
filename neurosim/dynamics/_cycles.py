"""Trajectories with the differentiable integrators, and limit cycles by shooting."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import RK4, AbstractIntegrator
from ._linalg import newton_scan
from ._system import System

__all__ = ["trajectories", "LimitCycle", "limit_cycle"]


@eqx.filter_jit
def _integrate(system, q, starts, dt, n_steps, integrator):
    fun = system.bind(q)

    def one(x0):
        def body(x, _):
            x = integrator.step(fun, x, dt)
            return x, x

        _, xs = jax.lax.scan(body, x0, None, length=n_steps)
        return jnp.concatenate([x0[None], xs])

    return jax.vmap(one)(starts)


def trajectories(
    system: System,
    starts,
    p: dict | None = None,
    *,
    t_max: float,
    dt: float,
    integrator: AbstractIntegrator | None = None,
):
    """Integrate the flow from each start: ``(m, round(t_max/dt) + 1, dim)`` states.

    Uses a neurosim integrator (default :class:`~neurosim.integrators.RK4`), differentiable
    in the starts and the parameters. Time in ms.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1), i_ext=0.5)
        >>> xs = ns.dynamics.trajectories(fhn, [[0.0, 0.0]], t_max=10.0, dt=0.1)
        >>> xs.shape
        (1, 101, 2)
    """
    if not dt > 0 or not t_max > 0:
        raise ValueError(f"t_max and dt must be > 0 ms, got t_max={t_max}, dt={dt}")
    x0 = jnp.asarray(np.atleast_2d(np.asarray(starts, float)), jnp.result_type(float))
    if x0.shape[1] != system.dim:
        raise ValueError(f"starts must have shape (m, {system.dim}), got {x0.shape}")
    n = int(round(t_max / dt))
    integ = RK4() if integrator is None else integrator
    return _integrate(system, system.params(p), x0, jnp.asarray(dt, x0.dtype), n, integ)


@dataclasses.dataclass(frozen=True)
class LimitCycle:
    """A periodic orbit found by shooting.

    Attributes:
        period: period (ms). orbit: ``(n_points + 1, dim)`` states over one period.
        amplitude: peak-to-peak range of each variable on the orbit.
        multipliers: Floquet multipliers (one is ~1); ``stable`` if the others are inside the
            unit circle. converged: Newton converged. residual: ``|phi_T(x) - x|_inf``.
        status: what happened, e.g. ``"converged"`` or ``"no oscillation"``.
    """

    period: float
    orbit: np.ndarray
    amplitude: np.ndarray
    multipliers: np.ndarray
    stable: bool
    converged: bool
    residual: float
    status: str


@eqx.filter_jit
def _shoot(system, q, x0, T0, n_points, n_iter, tol):
    fun = system.bind(q)
    rk4 = RK4()
    d = x0.shape[0]
    f_ref = fun(x0)

    def flow(x, T):
        h = T / n_points

        def body(y, _):
            y = rk4.step(fun, y, h)
            return y, y

        _, ys = jax.lax.scan(body, x, None, length=n_points)
        return ys

    def R(u):
        x, T = u[:d], u[d]
        return jnp.concatenate([flow(x, T)[-1] - x, jnp.dot(f_ref, x - x0)[None]])

    u, done = newton_scan(R, jnp.concatenate([x0, T0[None]]), n_iter, tol)
    x, T = u[:d], u[d]
    orbit = jnp.concatenate([x[None], flow(x, T)])
    monodromy = jax.jacfwd(lambda y: flow(y, T)[-1])(x)
    return T, orbit, monodromy, done, jnp.max(jnp.abs(orbit[-1] - x))


def limit_cycle(
    system: System,
    x0,
    p: dict | None = None,
    *,
    t_transient: float = 500.0,
    dt: float = 0.05,
    n_points: int = 1000,
    component: int = 0,
    n_iter: int = 20,
    tol: float | None = None,
) -> LimitCycle:
    """A limit cycle by shooting: Newton on ``(x, T)`` for ``phi_T(x) = x``.

    The flow ``phi_T`` is ``n_points`` RK4 steps of ``T / n_points`` (differentiable in ``x``
    and ``T``); a phase condition ``f(x_0) . (x - x_0) = 0`` fixes the point on the orbit.
    The start and the period guess come from a transient run from ``x0`` (RK4, ``dt``): the
    last two upward crossings of ``component`` through its mean over the second half.

    Args:
        system: a :class:`System`. x0: where to start the transient. p: parameters.
        t_transient: transient length (ms). dt: its step (ms).
        n_points: RK4 steps per period in the shooting (static).
        component: variable used to detect the oscillation.
        n_iter: Newton iterations. tol: convergence of the Newton step relative to
            ``1 + |u|`` (default ``1000 eps``).

    Returns:
        A :class:`LimitCycle`; ``status == "no oscillation"`` (and NaN period) if the
        transient settles instead of oscillating.

    Example:
        >>> import neurosim as ns
        >>> sl = ns.dynamics.system(ns.rates.StuartLandau(1, a=0.04, omega=0.1))
        >>> lc = ns.dynamics.limit_cycle(sl, [0.1, 0.0], t_transient=300.0)
        >>> round(lc.period, 2)  # 2 pi / omega
        62.83
    """
    xs = np.asarray(trajectories(system, [x0], p, t_max=t_transient, dt=dt)[0], float)
    half = xs[xs.shape[0] // 2 :, component]
    level = half.mean()
    up = np.flatnonzero((half[:-1] < level) & (half[1:] >= level))
    d = system.dim
    span = np.ptp(half)
    if up.size < 3 or not np.isfinite(span) or span <= 1e-6 * (1 + np.abs(half).max()):
        nan = np.full(d, np.nan)
        return LimitCycle(np.nan, xs[-1:], nan, nan, False, False, np.nan, "no oscillation")
    T0 = float(np.mean(np.diff(up[-3:]))) * dt
    start = xs[xs.shape[0] // 2 + up[-1]]
    dtype = jnp.result_type(float)
    tol = 1000 * float(jnp.finfo(dtype).eps) if tol is None else float(tol)
    T, orbit, mono, done, res = _shoot(
        system, system.params(p), jnp.asarray(start, dtype), jnp.asarray(T0, dtype),
        int(n_points), int(n_iter), tol,
    )  # fmt: skip
    orbit, mono = np.asarray(orbit), np.asarray(mono, float)
    if not (np.all(np.isfinite(mono)) and np.all(np.isfinite(orbit)) and np.isfinite(float(T))):
        nan = np.full(d, np.nan)
        return LimitCycle(np.nan, orbit, nan, nan, False, False, np.nan,
                          "shooting diverged (non-finite orbit or monodromy)")  # fmt: skip
    mu = np.linalg.eigvals(mono)
    mu = mu[np.argsort(-np.abs(mu))]
    trivial = np.argmin(np.abs(mu - 1.0))
    others = np.delete(mu, trivial)
    stable = bool(np.all(np.abs(others) < 1.0))
    ok = bool(done)
    return LimitCycle(
        float(T), orbit, np.ptp(orbit, axis=0), mu, stable, ok, float(res),
        "converged" if ok else "shooting did not converge",
    )  # fmt: skip
