"""The assimilation loop: forecast every member over one window (vmapped), then analyse."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ._filters import Diagnostics, enkf_update, etkf_update

__all__ = ["FilterResult", "run_filter"]

_METHODS = ("enkf", "etkf")


@dataclass
class FilterResult:
    """What :func:`run_filter` records, one row per observation window (NumPy arrays).

    Attributes:
        members: the final ensemble (pytree, members first; on device).
        forecast_mean: ``(T, M)`` ensemble-mean predicted observation before each update (the
            forecast: use it for skill scores, it has not seen that window's data).
        forecast_std: ``(T, M)`` its ensemble std.
        analysis_mean: ``(T, D)`` ensemble mean of the analysed vector after each update.
        analysis_std: ``(T, D)`` its ensemble std.
        diagnostics: ``{field: (T,)}`` from :class:`Diagnostics` (spread, innovation
            statistics, collapse / divergence flags).
        n_collapsed, n_divergent: number of windows flagged.
        compile_s, run_s: compile time of the window step and wall time of the loop.
    """

    members: object
    forecast_mean: np.ndarray
    forecast_std: np.ndarray
    analysis_mean: np.ndarray
    analysis_std: np.ndarray
    diagnostics: dict
    n_collapsed: int
    n_divergent: int
    compile_s: float
    run_s: float
    warnings: list = field(default_factory=list)


def run_filter(
    forecast,
    get,
    put,
    members,
    observations,
    R,
    key,
    *,
    method: str = "enkf",
    inflation=1.0,
    rtps=0.0,
    loc_xy=None,
    loc_yy=None,
    collapse_tol: float = 1e-8,
    divergence_ratio: float = 10.0,
    progress: bool | None = None,
    mesh=None,
) -> FilterResult:
    """Sequential ensemble assimilation over observation windows.

    Per window ``t``: every member runs ``forecast(member, t, key_e) -> (member, y_pred)``
    over one window (one compiled function ``vmap``-ped over members, jitted together with
    the analysis, compiled once for all windows); the analysed vector ``get(member) -> (D,)``
    of each member (e.g. unconstrained parameters and haemodynamic states) is updated from
    ``observations[t]`` by :func:`enkf_update` (stochastic) or :func:`etkf_update`
    (square-root), and written back with ``put(member, x) -> member``. Parameter random walks
    belong in ``forecast`` (use :func:`random_walk`). NaN observations are masked.

    Collapse (posterior spread < ``collapse_tol``) and divergence (innovation variance >
    ``divergence_ratio`` times its expectation) are counted and reported with a warning,
    never silently.

    Args:
        forecast: pure per-member function ``(member, t, key) -> (member, y_pred (M,))``.
        get: ``member -> (D,)`` vector that the analysis updates.
        put: ``(member, x) -> member`` writing it back.
        members: ensemble pytree, each leaf with the member axis first (``E >= 2``).
        observations: ``(T, M)`` observations, one row per window (NaN = missing).
        R: observation-error variance, scalar or ``(M,)``.
        key: random key (forecast noise and observation perturbations).
        method: ``"enkf"`` (perturbed observations) or ``"etkf"`` (square root).
        inflation: multiplicative inflation of forecast anomalies.
        rtps: relaxation to prior spread, scalar or ``(D,)`` (per analysed component; e.g.
            the augmented parameters only), see :func:`relax_to_prior_spread`.
        loc_xy, loc_yy: localisation tapers (EnKF only), see :func:`enkf_update`.
        collapse_tol, divergence_ratio: thresholds of the diagnostics.
        progress: tqdm bar over windows: True, False, or None (only for runs > 2 s).
        mesh: a ``jax.sharding.Mesh``: members are split over its devices (member count a
            multiple of the device count), same results as on one device (docs/gpu.md).

    Returns:
        a :class:`FilterResult`.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> def fc(x, t, k):  # random walk, observe the state itself
        ...     x = x + 0.1 * jax.random.normal(k, x.shape)
        ...     return x, x
        >>> obs = jnp.ones((5, 1))
        >>> res = ns.assimilate.run_filter(fc, lambda x: x, lambda m, x: x,
        ...     jnp.zeros((16, 1)), obs, 0.01, jax.random.key(0), progress=False)
        >>> res.forecast_mean.shape
        (5, 1)
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "etkf" and (loc_xy is not None or loc_yy is not None):
        raise ValueError("localisation (loc_xy, loc_yy) is supported by method='enkf' only")
    obs = jnp.asarray(observations)
    if obs.ndim != 2:
        raise ValueError(f"observations must be (T, M), got shape {tuple(obs.shape)}")
    leaves = jax.tree.leaves(members)
    if not leaves:
        raise ValueError("members must be a non-empty pytree of arrays")
    E = leaves[0].shape[0] if leaves[0].ndim else 0
    if E < 2 or any(x.ndim == 0 or x.shape[0] != E for x in leaves):
        raise ValueError(
            "members must have the member axis first on every leaf, with at least 2 members; "
            f"got leaf shapes {[tuple(x.shape) for x in leaves]}"
        )
    T, M = obs.shape
    R = jnp.asarray(R, obs.dtype)
    if mesh is not None:  # the member axis split over every device of the mesh (docs/gpu.md)
        if E % mesh.devices.size:
            raise ValueError(
                f"the ensemble has {E} members, which the {mesh.devices.size} devices of mesh "
                f"do not divide; use a multiple of {mesh.devices.size} members"
            )
        spec = jax.sharding.PartitionSpec(tuple(mesh.axis_names))
        members = jax.device_put(members, jax.sharding.NamedSharding(mesh, spec))

    def window(mem, t, k, y):
        kf, ka = jax.random.split(k)
        mem, Y = jax.vmap(forecast, in_axes=(0, None, 0))(mem, t, jax.random.split(kf, E))
        if Y.ndim != 2 or Y.shape[1] != M:
            raise ValueError(
                f"forecast must return y_pred of shape ({M},) per member like observations' "
                f"columns, got {tuple(Y.shape[1:])}"
            )
        X = jax.vmap(get)(mem)
        kw = dict(inflation=inflation, rtps=rtps, collapse_tol=collapse_tol,
                  divergence_ratio=divergence_ratio)  # fmt: skip
        if method == "enkf":
            Xa, diag = enkf_update(ka, X, Y, y, R, loc_xy=loc_xy, loc_yy=loc_yy, **kw)
        else:
            Xa, diag = etkf_update(X, Y, y, R, **kw)
        mem = jax.vmap(put)(mem, Xa)
        return mem, (Y.mean(0), Y.std(0, ddof=1), Xa.mean(0), Xa.std(0, ddof=1), diag)

    t0 = time.perf_counter()
    keys = jax.random.split(key, T)
    step = jax.jit(window).lower(members, jnp.int32(0), keys[0], obs[0]).compile()
    compile_s = time.perf_counter() - t0
    bar = _bar(T, progress)
    rows = []
    t0 = time.perf_counter()
    for t in range(T):
        members, row = step(members, jnp.int32(t), keys[t], obs[t])
        rows.append(row)
        if bar is not None:
            bar.update(1)
    rows = jax.device_get(rows)
    run_s = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    fm, fs, am, as_, diags = zip(*rows, strict=True)
    diag = {f: np.asarray([getattr(d, f) for d in diags]) for f in Diagnostics._fields}
    n_col, n_div = int(diag["collapsed"].sum()), int(diag["divergent"].sum())
    msgs = []
    if n_col:
        msgs.append(
            f"ensemble collapse: posterior spread < {collapse_tol:g} in {n_col} of {T} windows "
            "(raise the parameter random walk or the inflation)"
        )
    if n_div:
        msgs.append(
            f"filter divergence: innovation variance > {divergence_ratio:g} x expected in "
            f"{n_div} of {T} windows (the ensemble under-represents its error: inflate)"
        )
    for m in msgs:
        warnings.warn(m, RuntimeWarning, stacklevel=2)
    return FilterResult(
        members=members,
        forecast_mean=np.asarray(fm),
        forecast_std=np.asarray(fs),
        analysis_mean=np.asarray(am),
        analysis_std=np.asarray(as_),
        diagnostics=diag,
        n_collapsed=n_col,
        n_divergent=n_div,
        compile_s=compile_s,
        run_s=run_s,
        warnings=msgs,
    )


def _bar(total: int, show):
    if show is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="window", desc="assimilating", delay=0.0 if show else 2.0)
