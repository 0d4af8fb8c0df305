"""Balloon–Windkessel haemodynamics: neural drive -> BOLD per region (one published set)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check_positive, check_size

__all__ = ["BalloonWindkessel", "BalloonState", "steady_state"]

_FLOOR = 1e-5  # f, v, q are kept >= this after every step (they are positive physically)


class BalloonState(eqx.Module):
    """Haemodynamic state per region (each ``(n,)``); rest is ``s = 0, f = v = q = 1``.

    Attributes:
        s: vasodilatory signal (1/s).
        f: normalised blood inflow (dimensionless).
        v: normalised venous volume.
        q: normalised deoxyhaemoglobin content.
    """

    s: jax.Array
    f: jax.Array
    v: jax.Array
    q: jax.Array


class BalloonWindkessel(eqx.Module):
    r"""Balloon–Windkessel model of the BOLD signal, one instance per region.

    .. math::
        \dot s &= \varepsilon z - \kappa s - \gamma (f - 1), \qquad \dot f = s \\
        \tau \dot v &= f - v^{1/\alpha}, \qquad
        \tau \dot q = f\,\frac{1 - (1 - E_0)^{1/f}}{E_0} - v^{1/\alpha}\,\frac{q}{v} \\
        y &= V_0\,[k_1 (1 - q) + k_2 (1 - q/v) + k_3 (1 - v)]

    with time in seconds inside the equations (``dt`` is given in ms, as everywhere in
    neurosim, and divided by 1000). ``z`` is the neural drive per region (dimensionless, e.g.
    a Wong–Wang gating ``S``, a rate in Hz, or the fraction of a region's neurons spiking;
    scale it with ``efficacy``).

    Parameter set (the only default): the haemodynamic priors of SPM12 (``spm_fx_fmri.m``:
    kappa = 0.64 1/s, gamma = 0.32 1/s, tau = 2 s, alpha = 0.32, E0 = 0.4) with the revised
    output equation of Stephan et al. (2007, *NeuroImage* 38:387; SPM12 ``spm_gx_fmri.m``):
    k1 = 4.3 nu0 E0 TE, k2 = eps_r r0 E0 TE, k3 = 1 - eps_r with nu0 = 40.3 1/s (1.5 T),
    r0 = 25 1/s, TE = 0.04 s, eps_r = 1, and V0 = 4, so ``y`` is in percent signal change.
    Its impulse response peaks ~4.5 s after a brief input and undershoots at ~12.6 s. Other
    libraries' constants (Friston 2000/2003, TVB, vbjax) differ; pass them explicitly.

    Integration: classical Runge–Kutta (RK4) over each step with the drive held; ``f, v, q``
    are floored at 1e-5 after every step (only extreme drives reach it). The equations are
    slow (rates ~1/s), so the same component works at the neural ``dt`` (e.g. 0.1 ms) or on a
    decimated clock: step it every ``k`` neural steps with ``dt = k * dt_neural`` and the
    drive averaged over those ``k`` steps (``run_bold(..., decimate=k)`` does this); RK4 is
    accurate to < 1e-4 relative for ``dt`` up to 50 ms at ordinary drives. In float32 prefer
    the decimated clock (1–10 ms): 2e5 steps of 0.1 ms accumulate ~0.3 % round-off.

    Component protocol: ``init(key, dt) -> BalloonState`` (rest), ``step(state, drive, i, dt,
    key) -> (state, bold)`` with ``drive`` the neural signal ``(n,)`` and ``bold`` ``(n,)``.

    Args:
        n: number of regions.
        kappa: signal decay rate (1/s), > 0.
        gamma: flow-dependent elimination rate (1/s), > 0.
        tau: haemodynamic transit time (s), > 0.
        alpha: Grubb's exponent, > 0.
        E0: resting oxygen extraction fraction, in (0, 1).
        V0: resting venous blood volume fraction (4 = percent units).
        k1, k2, k3: output coefficients (defaults: Stephan et al. 2007 at 1.5 T, TE = 40 ms).
        efficacy: neural efficacy ``epsilon`` (1/s per unit of drive), > 0.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> bw = ns.bold.BalloonWindkessel(3)
        >>> st = bw.init(None, 1.0)
        >>> st, y = bw.step(st, jnp.full(3, 0.1), 0, 1.0, None)
        >>> y.shape
        (3,)
    """

    n: int = eqx.field(static=True)
    kappa: jax.Array
    gamma: jax.Array
    tau: jax.Array
    alpha: jax.Array
    E0: jax.Array
    V0: jax.Array
    k1: jax.Array
    k2: jax.Array
    k3: jax.Array
    efficacy: jax.Array

    def __init__(
        self,
        n: int,
        *,
        kappa=0.64,
        gamma=0.32,
        tau=2.0,
        alpha=0.32,
        E0=0.4,
        V0=4.0,
        k1=None,
        k2=None,
        k3=None,
        efficacy=1.0,
    ):
        self.n = check_size("n", n)
        check_positive("kappa", kappa, "1/s")
        check_positive("gamma", gamma, "1/s")
        check_positive("tau", tau, "s")
        check_positive("alpha", alpha)
        check_positive("efficacy", efficacy)
        e0 = jnp.asarray(E0, jnp.result_type(float))
        if not bool(jnp.all((e0 > 0) & (e0 < 1))):
            raise ValueError(f"E0 must lie in (0, 1) (an extraction fraction), got {E0!r}")
        te, nu0, r0, eps_r = 0.04, 40.3, 25.0, 1.0  # Stephan et al. (2007), 1.5 T
        k1 = 4.3 * nu0 * e0 * te if k1 is None else k1
        k2 = eps_r * r0 * e0 * te if k2 is None else k2
        k3 = 1.0 - eps_r if k3 is None else k3
        f = jnp.result_type(float)
        self.kappa, self.gamma, self.tau = (jnp.asarray(x, f) for x in (kappa, gamma, tau))
        self.alpha, self.E0, self.V0 = jnp.asarray(alpha, f), e0, jnp.asarray(V0, f)
        self.k1, self.k2, self.k3 = (jnp.asarray(x, f) for x in (k1, k2, k3))
        self.efficacy = jnp.asarray(efficacy, f)

    # -- protocol ---------------------------------------------------------------------------
    def init(self, key, dt) -> BalloonState:
        """The resting state (``key`` and ``dt`` unused; deterministic)."""
        del key, dt
        one = jnp.ones((self.n,), jnp.result_type(float))
        return BalloonState(s=jnp.zeros_like(one), f=one, v=one, q=one)

    def step(self, state: BalloonState, drive, i, dt, key) -> tuple[BalloonState, jax.Array]:
        """Advance by ``dt`` (ms) with ``drive`` ``(n,)`` held; return ``(state, bold)``."""
        del i, key
        h = jnp.asarray(dt, jnp.result_type(float)) * 1e-3  # s
        z = jnp.broadcast_to(jnp.asarray(drive, state.s.dtype), state.s.shape)
        x = (state.s, state.f, state.v, state.q)
        k1 = self._rhs(x, z)
        k2 = self._rhs(_axpy(x, k1, h / 2), z)
        k3 = self._rhs(_axpy(x, k2, h / 2), z)
        k4 = self._rhs(_axpy(x, k3, h), z)
        new = tuple(
            xi + h / 6 * (a + 2 * b + 2 * c + d)
            for xi, a, b, c, d in zip(x, k1, k2, k3, k4, strict=True)
        )
        s, f, v, q = new[0], *(jnp.maximum(u, _FLOOR) for u in new[1:])
        st = BalloonState(s=s, f=f, v=v, q=q)
        return st, self.bold(st)

    # -- equations --------------------------------------------------------------------------
    def vector_field(self, state: BalloonState, drive) -> BalloonState:
        """Time derivatives (per second) at ``state`` under ``drive``."""
        return BalloonState(*self._rhs((state.s, state.f, state.v, state.q), drive))

    def _rhs(self, x, z):
        s, f, v, q = x
        f = jnp.maximum(f, _FLOOR)
        v = jnp.maximum(v, _FLOOR)
        out = v ** (1.0 / self.alpha)
        extraction = 1.0 - (1.0 - self.E0) ** (1.0 / f)
        ds = self.efficacy * z - self.kappa * s - self.gamma * (f - 1.0)
        dv = (f - out) / self.tau
        dq = (f * extraction / self.E0 - out * q / v) / self.tau
        return ds, s, dv, dq

    def bold(self, state: BalloonState) -> jax.Array:
        """BOLD signal ``y`` ``(n,)`` (percent signal change with the default ``V0``)."""
        q, v = state.q, state.v
        return self.V0 * (self.k1 * (1 - q) + self.k2 * (1 - q / v) + self.k3 * (1 - v))


def _axpy(x, k, h):
    return tuple(xi + h * ki for xi, ki in zip(x, k, strict=True))


def steady_state(model: BalloonWindkessel, drive) -> tuple[BalloonState, jax.Array]:
    """Closed-form fixed point under a constant ``drive``: ``s = 0``, ``f = 1 + eps z / gamma``,
    ``v = f^alpha``, ``q = v (1 - (1 - E0)^{1/f}) / E0``; returns ``(state, bold)``.

    Example:
        >>> import neurosim as ns
        >>> st, y = ns.bold.steady_state(ns.bold.BalloonWindkessel(1), 0.0)
        >>> float(y[0])
        0.0
    """
    z = jnp.broadcast_to(jnp.asarray(drive, jnp.result_type(float)), (model.n,))
    f = 1.0 + model.efficacy * z / model.gamma
    v = f**model.alpha
    q = v * (1.0 - (1.0 - model.E0) ** (1.0 / f)) / model.E0
    st = BalloonState(s=jnp.zeros_like(f), f=f, v=v, q=q)
    return st, model.bold(st)
