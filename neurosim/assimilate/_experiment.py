"""The whole-brain twin experiment (issue 18, twin a): truth, BOLD, EnKF, scores.

Truth: :class:`RWWTwin` on the first ``regions`` of tvb-data's 76-region connectome (weights /
max, tract lengths / 5 mm/ms as delays), per-region ``I_o`` (3 % heterogeneity around 0.32 nA),
``G = 0.03``; BOLD observed every TR with Gaussian noise (``obs_noise`` x the median temporal
std). The stochastic EnKF (:func:`run_filter`) estimates per-region ``I_o`` (logit, random
walk) and updates the haemodynamic states (neural states only with ``update_neural``); after
each update the spread of the parameters and of the haemodynamic states is relaxed back
towards the forecast spread (RTPS, ``rtps_params`` / ``rtps_states``, 0.7 by default). ``G``:
fitted first to the observed FC level (free runs on a G grid) and held fixed
(``g_mode="fc"``), or kept in the filter state (``"enkf"``). Localisation: a region's states
see only their own observation; the global ``G`` takes the mean of the single-observation
updates (DTB's uniform weight 1/M). Scores: parameter recovery vs the starting ensemble,
forecast (pre-update) skill per region, its ceiling (:func:`oracle_forecast`), analysis
skill, and the FC of free runs with the estimates vs the noise ceiling.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from ..bold import BalloonState
from ._loop import run_filter
from ._scores import noisy_bold, recovery, region_corr
from ._twin import (
    DT,
    G_G0,
    G_TRUE,
    IO_CV,
    IO_HI,
    IO_LO,
    IO_MEAN,
    RWWTwin,
    fc_vector,
    free_bold,
    oracle_forecast,
)  # fmt: skip

__all__ = ["TwinConfig", "TwinResult", "twin_experiment", "plot_twin", "tvb_connectome"]


@dataclasses.dataclass(frozen=True)
class TwinConfig:
    """Settings of :func:`twin_experiment` (times in s unless marked ms).

    Attributes:
        seed: random seed (truth, noise, ensemble, filter).
        tr: repetition time (ms), a multiple of 10 ms.
        obs: ``"abs"`` (model units) or ``"z"`` (z-scored per region, affine readout).
        members: ensemble size (>= 2).
        regions: use the first ``regions`` of the 76 (2..76).
        duration: assimilated record (s).
        fc_duration: length of the free runs for FC (s).
        burn_in: first assimilated seconds left out of the after-burn-in scores.
        spinup: forecast-only start (s).
        obs_noise: observation-noise std as a fraction of the median BOLD std.
        inflation: multiplicative inflation of the forecast anomalies (whole vector).
        rtps_params: relaxation to prior spread of the augmented parameters (``I_o``, ``G``,
            z-mode readout) after each update, in [0, 1] (0: none).
        rtps_states: the same for the haemodynamic (and neural) states.
        g_mode: ``"fc"`` or ``"enkf"``.
        g_grid, g_seeds: ``g_mode="fc"``: points of the G grid on [0.016, 0.034] and free
            runs (noise seeds) per point whose FC levels are averaged.
        rw_io, rw_g: random-walk std per window (logit units).
        update_neural: also update the regions' gating ``S``.
        progress: progress bar over windows (None: only for runs > 2 s).

    Example:
        >>> import neurosim as ns
        >>> ns.assimilate.TwinConfig(members=32).members
        32
    """

    seed: int = 0
    tr: float = 800.0
    obs: str = "abs"
    members: int = 16
    regions: int = 76
    duration: float = 60.0
    fc_duration: float = 300.0
    burn_in: float = 20.0
    spinup: float = 8.0
    obs_noise: float = 0.2
    inflation: float = 1.0
    rtps_params: float = 0.7
    rtps_states: float = 0.7
    g_mode: str = "fc"
    g_grid: int = 7
    g_seeds: int = 1
    rw_io: float = 0.03
    rw_g: float = 0.01
    update_neural: bool = False
    progress: bool | None = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        if self.obs not in ("abs", "z"):
            raise ValueError(f"obs must be 'abs' or 'z', got {self.obs!r}")
        if self.g_mode not in ("fc", "enkf"):
            raise ValueError(f"g_mode must be 'fc' or 'enkf', got {self.g_mode!r}")
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 2:
            raise ValueError(f"members must be an integer >= 2, got {self.members!r}")
        if int(self.g_grid) < 2 or int(self.g_seeds) < 1:
            raise ValueError(f"g_grid must be >= 2 and g_seeds >= 1, got {self.g_grid!r}, "
                             f"{self.g_seeds!r}")  # fmt: skip
        if not 2 <= int(self.regions) <= 76:
            raise ValueError(f"regions must be in [2, 76], got {self.regions!r}")
        for name in ("duration", "fc_duration", "spinup", "tr", "obs_noise", "inflation"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("rtps_params", "rtps_states"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not 0 <= self.burn_in < self.duration:
            raise ValueError(f"burn_in must be in [0, duration), got {self.burn_in!r}")
        if round(self.tr / 10.0) * 10.0 != self.tr:
            raise ValueError(
                f"tr must be a whole multiple of 10 ms (the BOLD clock), got {self.tr!r}"
            )


@dataclasses.dataclass
class TwinResult:
    """What :func:`twin_experiment` returns: ``summary`` (JSON-ready scores), ``arrays``
    (NumPy arrays for figures and files) and the ``twin`` model."""

    summary: dict
    arrays: dict
    twin: RWWTwin


def tvb_connectome(regions: int = 76):
    """tvb-data's 76-region weights (/ max, zero diagonal) and tract lengths (mm), first
    ``regions`` regions."""
    from ..connectome import Connectome

    con = Connectome.from_tvb_data(76)
    W = np.asarray(con.weights, float)[:regions, :regions]
    W = W / W.max()
    np.fill_diagonal(W, 0.0)
    return W, np.asarray(con.tract_lengths, float)[:regions, :regions]


def twin_experiment(config: TwinConfig | None = None, **overrides) -> TwinResult:
    """Run the whole-brain twin: truth, noisy BOLD, EnKF, scores (see the module docstring).

    Args:
        config: a :class:`TwinConfig` (default: its defaults).
        **overrides: fields of :class:`TwinConfig` to replace.

    Returns:
        a :class:`TwinResult` (``summary`` dict of scores, ``arrays`` for figures/files).

    Example:
        >>> import neurosim as ns
        >>> res = ns.assimilate.twin_experiment(regions=4, members=4,
        ...     duration=4.0, spinup=1.6, fc_duration=4.0, burn_in=0.8)  # doctest: +SKIP
    """
    args = dataclasses.replace(config or TwinConfig(), **overrides)
    args.check()
    t_start = time.perf_counter()
    W, L = tvb_connectome(args.regions)
    n = W.shape[0]
    tr = float(args.tr)
    twin = RWWTwin(W, L, tr, args.obs, args.rw_io, args.rw_g, args.update_neural)
    n_tr = int(round(args.duration * 1000 / tr))
    spin = int(np.ceil(args.spinup * 1000 / tr))
    rng = np.random.default_rng(args.seed)
    io_true = np.clip(IO_MEAN * (1 + IO_CV * rng.standard_normal(n)), IO_LO + 1e-3, IO_HI - 1e-3)
    key = jax.random.key(args.seed)
    k_truth, k_ceil, k_ens, k_filt, k_free = jax.random.split(key, 5)

    # truth (and a re-run with another noise seed: the FC noise ceiling); FC is computed over
    # the longer of the assimilated record and --fc-duration; the filter sees the first n_tr
    n_fc = max(n_tr, int(round(args.fc_duration * 1000 / tr)))
    ys = free_bold(twin, jnp.asarray(np.stack([io_true, io_true])), jnp.full(2, G_TRUE),
                   jnp.stack([k_truth, k_ceil]), n_fc, spin)  # fmt: skip
    y_fc_true, y_ceil = ys[0], ys[1]
    y_true = y_fc_true[:n_tr]
    y_obs, R, sd = noisy_bold(y_true, args.obs_noise, rng)
    if args.obs == "z":
        y_obs = (y_obs - y_obs.mean(0)) / y_obs.std(0)
        R = args.obs_noise**2  # the noise std is obs_noise x a region's std in z units

    # G: in the EnKF state (--g-mode enkf), or first fitted to the observed FC and then held
    # fixed (--g-mode fc): free runs on a G grid with homogeneous I_o = the prior mean and the
    # same observation noise; G is where their mean FC equals the observed mean FC (linear
    # interpolation on the grid; the mean FC rises monotonically with G below the transition)
    # the forecast-skill ceiling: the truth's own state, fresh noise (see oracle_forecast)
    y_or_true, y_oracle = oracle_forecast(
        twin, jnp.asarray(io_true), jnp.float32(G_TRUE), k_truth, n_tr, spin
    )
    g_fc = None
    if args.g_mode == "fc":
        # g_seeds noise runs per grid point, their mean FC levels averaged
        grid = np.linspace(0.016, 0.034, args.g_grid)
        gg = np.repeat(grid, args.g_seeds)
        kg = jax.random.split(jax.random.fold_in(key, 7), len(gg))
        yg = free_bold(twin, jnp.full((len(gg), n), IO_MEAN), jnp.asarray(gg), kg, n_tr, spin)
        yg = yg + args.obs_noise * sd * rng.standard_normal(yg.shape)
        level = np.array([fc_vector(y).mean() for y in yg]).reshape(len(grid), -1).mean(1)
        target = fc_vector(y_obs).mean()
        order = np.argsort(level)
        g_fc = float(np.interp(target, level[order], grid[order]))
        twin.rw_g = 0.0

    # starting ensemble: independent prior draws around the population mean
    E = args.members
    u0 = twin.io_t.inverse(IO_MEAN) + 0.6 * jax.random.normal(k_ens, (E, n))
    io0 = twin.io_t.forward(u0)
    g0 = twin.g_t.forward(twin.g_t.inverse(G_G0) + 0.5 * jax.random.normal(
        jax.random.fold_in(k_ens, 1), (E,)))  # fmt: skip
    if g_fc is not None:
        g0 = jnp.full((E,), g_fc)
    members = jax.vmap(twin.init_member)(jax.random.split(jax.random.fold_in(k_ens, 2), E), io0, g0)
    members = jax.jit(jax.vmap(twin.settle))(
        members, jax.random.split(jax.random.fold_in(k_ens, 4), E)
    )
    # spin-up: forecast only (observations masked), then set the affine readout (z mode)
    obs_all = np.concatenate([np.full((spin, n), np.nan), y_obs])
    if args.obs == "z":

        def spin_fn(m, k):
            def body(m, kk):
                return twin.simulate(m, kk)

            m, yy = jax.lax.scan(body, m, jax.random.split(k, spin))
            return {**m, "off": yy.mean(0), "u_scale": jnp.log(yy.std(0).mean())}

        members = jax.jit(jax.vmap(spin_fn))(
            members, jax.random.split(jax.random.fold_in(k_ens, 3), E)
        )
        obs_all = y_obs
    loc_xy, loc_yy = twin.localisation(update_g=args.g_mode == "enkf")
    res = run_filter(
        twin.forecast, twin.get, twin.put, members, jnp.asarray(obs_all), R, k_filt,
        method="enkf", inflation=args.inflation, loc_xy=loc_xy, loc_yy=loc_yy,
        rtps=twin.rtps_vector(args.rtps_params, args.rtps_states)
        if args.rtps_params or args.rtps_states else 0.0,
        progress=args.progress,
    )  # fmt: skip
    off = spin if args.obs == "abs" else 0
    fm = res.forecast_mean[off:]
    am, asd = res.analysis_mean[off:], res.analysis_std[off:]

    # estimates: ensemble mean of the bounded parameters at the end
    io_hat = np.asarray(twin.io_t.forward(res.members["u_io"])).mean(0)
    g_mem = np.asarray(twin.g_t.forward(res.members["u_g"]))
    io_start = np.asarray(io0).mean(0)
    r_corr = region_corr(fm, y_obs)
    b = int(np.ceil(args.burn_in * 1000 / tr))  # the filter's own burn-in, excluded below
    r_late = region_corr(fm[b:], y_obs[b:])
    r_oracle = region_corr(y_oracle[b:], y_obs[b:])
    # analysis BOLD: the readout of the ensemble-mean analysed haemodynamic state (filtering
    # skill, what DTB's headline correlation measures; it has seen that window's datum)
    hs = [am[:, n + 1 + i * n : n + 1 + (i + 1) * n] for i in range(4)]
    y_an = np.asarray(twin.bw.bold(BalloonState(*(jnp.asarray(h) for h in hs))))
    if args.obs == "z":
        o = n + 1 + 4 * n
        y_an = (y_an - am[:, o : o + n]) * np.exp(-am[:, o + n : o + n + 1])
    r_an = region_corr(y_an[b:], y_obs[b:])
    # free run with the estimates vs the truth's FC; ceiling = truth re-run, another seed
    k_free2 = jax.random.fold_in(k_free, 1)
    io2 = jnp.asarray(np.stack([io_hat, io_hat]))
    y_free, y_free2 = free_bold(
        twin, io2, jnp.full(2, g_mem.mean()), jnp.stack([k_free, k_free2]), n_fc, spin
    )
    fc_true = fc_vector(y_fc_true)
    summary = {
        "seed": args.seed, "tr_ms": tr, "obs": args.obs, "members": E, "n_regions": n,
        "n_windows": int(n_tr), "duration_s": args.duration, "dt_ms": DT,
        "fc_duration_s": n_fc * tr / 1000,
        **recovery("io", io_hat, io_start, io_true),
        "g_mode": args.g_mode, "G_fc": g_fc, "g_grid": args.g_grid, "g_seeds": args.g_seeds,
        "G_true": G_TRUE, "G_mean": float(g_mem.mean()), "G_sd": float(g_mem.std()),
        "G_start_mean": float(np.asarray(g0).mean()), "G_start_sd": float(np.asarray(g0).std()),
        "forecast_corr_median": float(np.median(r_corr)),
        "forecast_corr_min": float(np.min(r_corr)),
        "burn_in_s": args.burn_in,
        "forecast_corr_median_after_burn_in": float(np.median(r_late)),
        "forecast_corr_min_after_burn_in": float(np.min(r_late)),
        "oracle_forecast_corr_median_after_burn_in": float(np.median(r_oracle)),
        "oracle_truth_max_abs_diff": float(np.abs(y_or_true - y_true).max()),
        "analysis_corr_median_after_burn_in": float(np.median(r_an)),
        "fc_corr_free": float(np.corrcoef(fc_vector(y_free), fc_true)[0, 1]),
        "fc_corr_free_2nd_seed": float(np.corrcoef(fc_vector(y_free2), fc_true)[0, 1]),
        "fc_corr_ceiling": float(np.corrcoef(fc_vector(y_ceil), fc_true)[0, 1]),
        "n_collapsed": res.n_collapsed, "n_divergent": res.n_divergent,
        "update_neural": args.update_neural, "rw_io": twin.rw_io, "rw_g": twin.rw_g,
        "inflation": args.inflation, "rtps_params": args.rtps_params,
        "rtps_states": args.rtps_states, "regions": args.regions,
        "filter_compile_s": round(res.compile_s, 2), "filter_run_s": round(res.run_s, 2),
        "wall_s": round(time.perf_counter() - t_start, 1),
    }  # fmt: skip
    summary["fc_gap"] = summary["fc_corr_ceiling"] - summary["fc_corr_free"]

    arrays = dict(
        forecast=fm,
        observed=y_obs,
        analysis_bold=y_an,
        oracle=y_oracle,
        io_true=io_true,
        io_hat=io_hat,
        io_start=io_start,
        analysis_mean=am,
        analysis_std=asd,
        fc_true=np.corrcoef(y_fc_true.T),
        fc_free=np.corrcoef(y_free.T),
    )
    return TwinResult(summary=summary, arrays=arrays, twin=twin)


def plot_twin(result: TwinResult, path) -> None:
    """The figure: I_o trajectories (±1σ) vs truth, G, estimates vs truth, BOLD, FC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, twin = result.arrays, result.twin
    am, asd, io_true, io_hat, io_start = (a[k] for k in
        ("analysis_mean", "analysis_std", "io_true", "io_hat", "io_start"))  # fmt: skip
    y_obs, fm, n, tr = a["observed"], a["forecast"], twin.n, twin.tr

    fig, ax = plt.subplots(2, 3, figsize=(15, 8))
    t = (np.arange(len(am)) + 1) * tr / 1000
    for i, c in zip(range(min(3, n)), ("C0", "C1", "C2"), strict=False):
        mu, s = am[:, i], asd[:, i]
        ax[0, 0].fill_between(t, twin.io_t.forward(mu - s), twin.io_t.forward(mu + s),
                              color=c, alpha=0.25)  # fmt: skip
        ax[0, 0].plot(t, twin.io_t.forward(mu), c=c)
        ax[0, 0].axhline(io_true[i], c=c, ls="--")
    ax[0, 0].set(title="I_o, 3 regions: ensemble ±1σ (logit) vs truth (dashed)",
                 xlabel="time (s)", ylabel="I_o (nA)")  # fmt: skip
    mu, s = am[:, n], asd[:, n]
    ax[0, 1].fill_between(t, twin.g_t.forward(mu - s), twin.g_t.forward(mu + s), alpha=0.3)
    ax[0, 1].plot(t, twin.g_t.forward(mu))
    ax[0, 1].axhline(G_TRUE, c="k", ls="--")
    ax[0, 1].set(title="global coupling G", xlabel="time (s)")
    ax[0, 2].scatter(io_true, io_hat, s=10, label="end")
    ax[0, 2].scatter(io_true, io_start, s=10, alpha=0.4, label="start")
    ax[0, 2].plot([IO_LO, IO_HI], [IO_LO, IO_HI], "k:")
    ax[0, 2].set(title="per-region I_o: estimate vs truth", xlabel="true", ylabel="estimate")
    ax[0, 2].legend()
    ax[1, 0].plot(t, y_obs[:, 0], "k.", ms=3, label="observed")
    ax[1, 0].plot(t, fm[:, 0], label="forecast (pre-update)")
    ax[1, 0].set(title=f"BOLD region 0 ({twin.obs_mode})", xlabel="time (s)")
    ax[1, 0].legend(fontsize=8)
    for ax_, c, name in ((ax[1, 1], a["fc_true"], "truth"), (ax[1, 2], a["fc_free"], "free run")):
        ax_.imshow(c, vmin=-1, vmax=1, cmap="RdBu_r")
        ax_.set(title=f"FC: {name}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
