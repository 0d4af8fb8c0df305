"""Fixed-point branches over one parameter; fold and Hopf points; two-parameter curves."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._arclength import continue_curve, correct, det, hopf_test, locate, make_G, tangent
from ._fixed_points import _eps, classify
from ._system import System

__all__ = ["Branch", "Event", "continuation", "two_parameter"]

_STATUS = {0: "completed", 1: "left the bounds", 2: "corrector failed to converge"}


@dataclasses.dataclass(frozen=True)
class Event:
    """A bifurcation located on a branch.

    Attributes:
        kind: ``"fold"`` (saddle-node), ``"hopf"`` or ``"branch point"`` (det J changes
            sign, the parameter does not turn).
        params: parameter values there (dict).
        x: state there. eigenvalues: Jacobian eigenvalues there. index: the branch segment
            ``[index, index + 1]`` it lies in.
    """

    kind: str
    params: dict
    x: np.ndarray
    eigenvalues: np.ndarray
    index: int


@dataclasses.dataclass(frozen=True)
class Branch:
    """A continued curve of fixed points (or of fold/Hopf points in two parameters).

    Attributes:
        names: state variables. params: the continued parameter names.
        x: ``(k, dim)`` states. values: ``(k, len(params))`` parameter values.
        eigenvalues: ``(k, dim)`` Jacobian eigenvalues. stable: ``(k,)``.
        kind: class of each point (:func:`classify`).
        events: located :class:`Event` s. status: ``"completed"``, ``"left the bounds"`` or
            ``"corrector failed to converge"`` (with the step), so a failure is never silent.
    """

    names: tuple
    params: tuple
    x: np.ndarray
    values: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    kind: tuple
    events: tuple
    status: str

    def __len__(self) -> int:
        return self.x.shape[0]

    def param(self, i: int = 0) -> np.ndarray:
        """Values of the ``i``-th continued parameter along the branch."""
        return self.values[:, i]

    def of(self, kind: str) -> list[Event]:
        """The events of one kind."""
        return [e for e in self.events if e.kind == kind]


def _run(system, q, names, mode, u0, direction, scale, ds, ds_min, ds_max, lo, hi, n_steps, ctol):
    """Correct ``u0`` onto the curve (last parameter fixed), take the tangent, continue."""
    d = system.dim
    G = make_G(system, q, d, names, mode)
    Gs = lambda v: G(v * scale)  # noqa: E731
    v0 = u0 / scale
    e_last = jnp.zeros_like(v0).at[-1].set(1.0)
    v0, ok0 = correct(Gs, v0, e_last, 20, ctol)
    t0 = tangent(Gs, v0, direction * e_last)
    vs, ts, oks, code = continue_curve(
        Gs, v0, t0, ds, ds_min, ds_max, lo / scale, hi / scale, n_steps, 10, ctol
    )
    us = vs * scale

    def tests(u):
        qq = {**q, **{k: u[d + i] for i, k in enumerate(names)}}
        J = jax.jacfwd(system.bind(qq))(u[:d])
        return J, det(J), hopf_test(J)

    J, dets, hopf = jax.vmap(tests)(us)
    return ok0, (us, ts, oks, code, J, dets, hopf)


_run_jit = eqx.filter_jit(_run)


@eqx.filter_jit
def _locate(system, q, names, u_a, u_b, scale, use_det, ctol):
    d = system.dim
    G = make_G(system, q, d, names, "fp")
    Gs = lambda v: G(v * scale)  # noqa: E731

    def test(v):
        u = v * scale
        qq = {**q, **{k: u[d + i] for i, k in enumerate(names)}}
        J = jax.jacfwd(system.bind(qq))(u[:d])
        return jnp.where(use_det, det(J), hopf_test(J))

    v, ok = locate(Gs, test, u_a / scale, u_b / scale, 10, ctol, 60)
    u = v * scale
    qq = {**q, **{k: u[d + i] for i, k in enumerate(names)}}
    return u, ok, jax.jacfwd(system.bind(qq))(u[:d])


def _assemble(system, q, names, us, ts, oks, code, J, dets, hopf, scale, ctol, find_events):
    us, ts, oks = np.asarray(us), np.asarray(ts), np.asarray(oks)
    keep = np.flatnonzero(oks)
    us, ts, J = us[keep], ts[keep], np.asarray(J)[keep]
    dets, hopf = np.asarray(dets)[keep], np.asarray(hopf)[keep]
    d = system.dim
    lam = np.array([np.sort_complex(np.linalg.eigvals(j.astype(float))) for j in J])
    lam = lam.reshape(len(keep), d)
    kinds = tuple(classify(e) for e in lam)
    stable = np.all(lam.real < 0, axis=1)
    events = []
    if find_events:
        sc = np.asarray(scale)
        for k in range(len(us) - 1):
            for which, vals in (("det", dets), ("hopf", hopf)):
                if which == "hopf" and d == 1:
                    continue
                if not np.sign(vals[k]) * np.sign(vals[k + 1]) < 0:
                    continue
                u, ok, Je = _locate(system, q, names, jnp.asarray(us[k]), jnp.asarray(us[k + 1]),
                                    jnp.asarray(sc), jnp.asarray(which == "det"), ctol)  # fmt: skip
                u, ev = np.asarray(u), np.sort_complex(np.linalg.eigvals(np.asarray(Je, float)))
                if not bool(ok):
                    continue
                if which == "det":
                    turn = np.sign(ts[k, -1]) * np.sign(ts[k + 1, -1]) < 0
                    kind = "fold" if turn else "branch point"
                else:
                    re = np.abs(ev.real)
                    pair = np.abs(ev.imag) > 1e-6 * (1 + np.abs(ev).max())
                    if not np.any(pair) or re[pair].min() > 1e-3 * np.abs(ev[pair].imag).max():
                        continue  # a neutral saddle (real l, -l), not a Hopf point
                    kind = "hopf"
                params = {n: float(u[d + i]) for i, n in enumerate(names)}
                events.append(Event(kind, params, u[:d], ev, int(k)))
    last = int(keep[-1]) if keep.size else 0
    status = _STATUS[int(code)] + ("" if int(code) == 0 else f" after step {last}")
    return Branch(
        tuple(system.names), tuple(names), us[:, :d], us[:, d:], lam, stable, kinds,
        tuple(events), status,
    )  # fmt: skip


def _bounds(system, names, box, bounds):
    d, m = system.dim, len(names)
    lo = np.full(d + m, -np.inf)
    hi = np.full(d + m, np.inf)
    if box is not None:
        arr = np.asarray(box, float)
        if arr.shape != (d, 2):
            raise ValueError(f"box must give (lo, hi) for each of {system.names}, got {arr.shape}")
        lo[:d], hi[:d] = arr[:, 0], arr[:, 1]
    bounds = {} if bounds is None else bounds
    if not isinstance(bounds, dict):
        bounds = {names[0]: bounds}
    for k, (a, b) in bounds.items():
        if k not in names:
            raise ValueError(f"bounds given for {k!r}, which is not continued ({list(names)})")
        lo[d + names.index(k)], hi[d + names.index(k)] = float(a), float(b)
    return lo, hi


def continuation(
    system: System,
    param: str,
    x0,
    p: dict | None = None,
    *,
    ds: float = 0.01,
    ds_min: float | None = None,
    ds_max: float | None = None,
    n_steps: int = 200,
    bounds=None,
    box=None,
    scale=None,
    direction: float = 1.0,
    ctol: float | None = None,
) -> Branch:
    """Fixed-point branch over parameter ``param`` by pseudo-arclength continuation.

    Starting from a fixed point near ``x0`` at ``p``, the curve ``f(x, lambda) = 0`` is
    followed through folds (predictor along the tangent, Newton corrector on the hyperplane
    normal to it, step halving on failure, growth on success). Along the branch the
    eigenvalues give the stability; folds (``det J`` and the parameter's direction change
    sign) and Hopf points (the test function ``prod_{i<j} (l_i + l_j)`` changes sign with a
    purely imaginary pair) are located by bisection along the curve, each point corrected
    onto it.

    Args:
        system: a :class:`System`. param: the parameter to vary (any name in
            ``system.defaults`` holding a scalar).
        x0: a guess of the starting fixed point. p: other parameter values (and the start
            value of ``param``).
        ds: initial arclength step in scaled units (``(x, lambda) / scale``).
        ds_min, ds_max: smallest step before giving up (default ``ds / 256``) and largest
            (default ``10 ds``).
        n_steps: continuation steps (static: one compile per value).
        bounds: ``(lo, hi)`` for ``param``: the branch stops when it leaves.
        box: ``[(lo, hi), ...]`` per state variable: stops when the state leaves.
        scale: scale of each unknown ``(x..., lambda)`` (default 1): choose it so that the
            state and the parameter change by comparable amounts in scaled units.
        direction: +1 to start towards increasing ``param``, -1 towards decreasing.
        ctol: corrector tolerance relative to ``1 + |v|`` (default ``1000 eps``).

    Returns:
        A :class:`Branch`, whose ``status`` says whether the run completed, left the bounds
        or stopped because the corrector failed.

    Raises:
        ValueError: unknown parameter, or no fixed point near ``x0`` to start from.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> br = ns.dynamics.continuation(fhn, "i_ext", [-1.2, -0.6], ds=0.05,
        ...                               n_steps=60, bounds=(-0.5, 2.0))
        >>> [e.kind for e in br.events]
        ['hopf', 'hopf']
    """
    q = system.params(p)
    if param not in q or q[param].ndim != 0:
        raise ValueError(f"param must name a scalar parameter of {sorted(system.defaults)}, "
                         f"got {param!r}")  # fmt: skip
    d = system.dim
    dtype = q[param].dtype
    x = np.atleast_1d(np.asarray(x0, float))
    if x.shape != (d,):
        raise ValueError(f"x0 must have shape ({d},) for {system.names}, got {x.shape}")
    names = (param,)
    sc = np.ones(d + 1) if scale is None else np.asarray(scale, float)
    if sc.shape != (d + 1,) or np.any(sc <= 0):
        raise ValueError(f"scale must be {d + 1} positive numbers (state, then {param})")
    ctol = 1000 * _eps(dtype) if ctol is None else float(ctol)
    ds_min = ds / 256 if ds_min is None else ds_min
    ds_max = 10 * ds if ds_max is None else ds_max
    lo, hi = _bounds(system, names, box, bounds)
    u0 = jnp.asarray(np.concatenate([x, [float(q[param])]]), dtype)
    scj = jnp.asarray(sc, dtype)
    sign = jnp.asarray(np.sign(direction) or 1.0, dtype)
    ok, out = _run_jit(system, q, names, "fp", u0, sign, scj,
                       jnp.asarray(ds, dtype), ds_min, ds_max, jnp.asarray(lo, dtype),
                       jnp.asarray(hi, dtype), int(n_steps), ctol)  # fmt: skip
    if not bool(ok):
        raise ValueError(
            f"no fixed point found near x0={x.tolist()} at {param}={float(q[param]):g}; "
            "start from a fixed point (e.g. one from ns.dynamics.fixed_points)"
        )
    return _assemble(system, q, names, *out, scj, ctol, True)


def two_parameter(
    system: System,
    event: Event,
    params: tuple[str, str],
    p: dict | None = None,
    *,
    ds: float = 0.01,
    n_steps: int = 200,
    bounds: dict | None = None,
    box=None,
    scale=None,
    both: bool = True,
    ctol: float | None = None,
) -> Branch:
    """Curve of folds or Hopf points in the plane of two parameters, from a located event.

    Continues ``(f(x; l1, l2) = 0, psi(x; l1, l2) = 0)`` in ``(x, l1, l2)``, with
    ``psi = det J`` for a fold and the Hopf test function (``trace J`` in 2-D) for a Hopf
    point. Points of a Hopf curve where the pair is real (a neutral saddle) are marked
    ``kind == "saddle"``; true Hopf points have ``kind == "centre"`` in 2-D.

    Args:
        system: a :class:`System` (any dimension; typically 2-D).
        event: a ``"fold"`` or ``"hopf"`` :class:`Event` from :func:`continuation`; its
            parameter is ``params[0]``.
        params: ``(first, second)`` parameter names.
        p: the other parameters (as used for the branch). ds, n_steps, scale, ctol: as in
            :func:`continuation` (``scale`` over ``(x..., l1, l2)``).
        bounds: ``{name: (lo, hi)}`` for either parameter. box: per state variable.
        both: continue in both directions from the event and join the halves.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> br = ns.dynamics.continuation(fhn, "i_ext", [-1.2, -0.6], ds=0.05, n_steps=60)
        >>> hopf = ns.dynamics.two_parameter(fhn, br.of("hopf")[0], ("i_ext", "epsilon"),
        ...                                  n_steps=40, bounds={"epsilon": (0.01, 1.0)})
    """
    if event.kind not in ("fold", "hopf"):
        raise ValueError(f"event must be a fold or a Hopf point, got {event.kind!r}")
    params = tuple(params)
    if len(params) != 2 or params[0] not in event.params:
        raise ValueError(f"params must be (the event's parameter {list(event.params)}, another)")
    q = system.params({**(p or {}), **event.params})
    if params[1] not in q or q[params[1]].ndim != 0:
        raise ValueError(f"{params[1]!r} must be a scalar parameter of {sorted(system.defaults)}")
    mode = event.kind if event.kind == "fold" else "hopf"
    d = system.dim
    dtype = q[params[0]].dtype
    sc = np.ones(d + 2) if scale is None else np.asarray(scale, float)
    if sc.shape != (d + 2,) or np.any(sc <= 0):
        raise ValueError(f"scale must be {d + 2} positive numbers (state, then the parameters)")
    ctol = 1000 * _eps(dtype) if ctol is None else float(ctol)
    lo, hi = _bounds(system, params, box, bounds)
    u0 = jnp.asarray(np.concatenate([event.x, [float(q[params[0]]), float(q[params[1]])]]), dtype)
    scj = jnp.asarray(sc, dtype)
    halves = []
    for direction in (1.0, -1.0) if both else (1.0,):
        sign = jnp.asarray(direction, dtype)
        ok, out = _run_jit(system, q, params, mode, u0, sign, scj, jnp.asarray(ds, dtype),
                           ds / 256, 10 * ds, jnp.asarray(lo, dtype), jnp.asarray(hi, dtype),
                           int(n_steps), ctol)  # fmt: skip
        if not bool(ok):
            raise ValueError(f"the {event.kind} point at {event.params} could not be corrected "
                             f"onto the {mode} curve in ({params[0]}, {params[1]})")  # fmt: skip
        halves.append(_assemble(system, q, params, *out, scj, ctol, False))
    if len(halves) == 1:
        return halves[0]
    a, b = halves

    def join(f):
        return np.concatenate([f(b)[::-1], f(a)[1:]])

    kinds = tuple(reversed(b.kind)) + a.kind[1:]
    status = a.status if a.status == b.status else f"{b.status} / {a.status}"
    return Branch(
        a.names, params, join(lambda r: r.x), join(lambda r: r.values),
        join(lambda r: r.eigenvalues), join(lambda r: r.stable), kinds, (), status,
    )  # fmt: skip
