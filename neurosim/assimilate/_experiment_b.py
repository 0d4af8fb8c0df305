"""The spiking twin experiment (issue 18, twin b, Digital-Twin-Brain style): truth, BOLD, EnKF.

Truth: :class:`SpikingTwin` on the first ``regions`` of tvb-data's 76-region connectome,
``neurons`` conductance LIF neurons per region (AMPA, NMDA, GABA_A, GABA_B, OU background),
per-region hyperparameters of the estimated receptors drawn uniformly in ``[1 - spread,
1 + spread]``, the truth's own per-neuron Gamma(5, 1/5) factors; its BOLD observed every TR
with Gaussian noise (``obs_noise`` x the median temporal std). The members share the wiring
(the structural connectome is known) and draw their own per-neuron factors (fixed over the
run). Starting ensemble: hyperparameters drawn independently of the truth around the prior
mean 1 (logit std ``prior_sd``, scale 10 as DTB). The stochastic EnKF (:func:`run_filter`,
one compiled window step vmapped over members) updates the hyperparameters (logit random
walk) and the haemodynamic states, each region from its own BOLD only; the neural state is
left alone. Scores: recovery vs the starting ensemble, forecast (pre-update) BOLD correlation
per region after the burn-in, analysis correlation, wall time and throughput.
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
from ._spiking_twin import DT, RECEPTORS, SpikingTwin

__all__ = ["SpikingTwinConfig", "spiking_twin_experiment", "plot_spiking_twin"]


@dataclasses.dataclass(frozen=True)
class SpikingTwinConfig:
    """Settings of :func:`spiking_twin_experiment` (times in s unless marked ms).

    Attributes:
        seed: random seed (truth, noise, ensemble, filter).
        tr: repetition time (ms), a multiple of 10 ms.
        members: ensemble size (>= 2).
        regions: the first ``regions`` of the 76 (2..76).
        neurons: neurons per region (80 % excitatory; >= 90 with the default in-degrees).
        estimate: receptors whose per-region hyperparameters are estimated.
        spread: truth hyperparameters uniform in ``[1 - spread, 1 + spread]`` (< 0.5).
        prior_sd: std of the starting ensemble's hyperparameters (logit units, scale 10).
        duration: assimilated record (s).
        burn_in: first assimilated seconds left out of the forecast scores.
        settle_ms: neural spin-up before the first window (ms).
        obs_noise: observation-noise std as a fraction of the median BOLD std.
        inflation: multiplicative inflation of the forecast anomalies.
        rw: random-walk std per window of the hyperparameters (logit units).
        k_e, k_i, k_ext: in-degrees (DTB's 57 : 14 : 29 of 100).
        progress: progress bar over windows (None: only for runs > 2 s).

    Example:
        >>> import neurosim as ns
        >>> ns.assimilate.SpikingTwinConfig(members=64).members
        64
    """

    seed: int = 0
    tr: float = 800.0
    members: int = 16
    regions: int = 20
    neurons: int = 400
    estimate: tuple = ("AMPA",)
    spread: float = 0.3
    prior_sd: float = 8.0
    duration: float = 60.0
    burn_in: float = 10.0
    settle_ms: float = 1000.0
    obs_noise: float = 0.2
    inflation: float = 1.0
    rw: float = 0.5
    k_e: int = 57
    k_i: int = 14
    k_ext: int = 29
    progress: bool | None = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 2:
            raise ValueError(f"members must be an integer >= 2, got {self.members!r}")
        if not 2 <= int(self.regions) <= 76:
            raise ValueError(f"regions must be in [2, 76], got {self.regions!r}")
        for name in ("duration", "tr", "obs_noise", "inflation", "settle_ms", "prior_sd"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 < self.spread < 0.5:
            raise ValueError(f"spread must be in (0, 0.5) (bounds 0.5..1.5), got {self.spread!r}")
        if not 0 <= self.burn_in < self.duration:
            raise ValueError(f"burn_in must be in [0, duration), got {self.burn_in!r}")
        if round(self.tr / 10.0) * 10.0 != self.tr:
            raise ValueError(f"tr must be a whole multiple of 10 ms (BOLD clock), got {self.tr!r}")
        if not set(self.estimate) <= set(RECEPTORS) or not self.estimate:
            raise ValueError(f"estimate must be receptors among {RECEPTORS}, got {self.estimate!r}")


def _truth_bold(twin, h, key, n_tr):
    """The truth's BOLD ``(n_tr, R)``: its own factors, settle, then ``n_tr`` windows."""

    def one(h, k):
        m = twin.init_member(jax.random.fold_in(k, 0), h, jax.random.fold_in(k, 1))
        m = twin.settle(m, jax.random.fold_in(k, 2))
        _, ys = jax.lax.scan(twin.simulate, m, jax.random.split(k, n_tr))
        return ys

    return np.asarray(jax.jit(one)(h, key))


def spiking_twin_experiment(config: SpikingTwinConfig | None = None, **overrides):
    """Run the spiking twin (module docstring): returns :class:`TwinResult`.

    Example:
        >>> import neurosim as ns
        >>> res = ns.assimilate.spiking_twin_experiment(regions=2, neurons=100,
        ...     members=4, duration=3.2, burn_in=0.8)  # doctest: +SKIP
    """
    from ..connectome import Connectome
    from ._experiment import TwinResult

    args = dataclasses.replace(config or SpikingTwinConfig(), **overrides)
    args.check()
    t_start = time.perf_counter()
    con = Connectome.from_tvb_data(76).subset(list(range(int(args.regions))))
    twin = SpikingTwin(con, args.neurons, args.tr, tuple(args.estimate), args.rw,
                       wiring_key=jax.random.key(args.seed), k_e=args.k_e, k_i=args.k_i,
                       k_ext=args.k_ext)  # fmt: skip
    R, P = twin.R, len(twin.estimate)
    n_tr = int(round(args.duration * 1000 / args.tr))
    rng = np.random.default_rng(args.seed)
    h_true = 1.0 + args.spread * (2 * rng.random((P, R)) - 1)
    key = jax.random.key(args.seed)
    k_truth, k_ens, k_filt = jax.random.split(jax.random.fold_in(key, 1), 3)
    t0 = time.perf_counter()
    y_true = _truth_bold(twin, jnp.asarray(h_true), k_truth, n_tr)
    truth_s = time.perf_counter() - t0
    y_obs, Rvar, _ = noisy_bold(y_true, args.obs_noise, rng)

    E = args.members
    u0 = twin.h_t.inverse(1.0) + args.prior_sd * jax.random.normal(k_ens, (E, P, R))
    h0 = twin.h_t.forward(u0)
    ks = jax.random.split(jax.random.fold_in(k_ens, 1), (3, E))
    members = jax.vmap(twin.init_member)(ks[0], h0, ks[1])
    members = jax.jit(jax.vmap(twin.settle))(members, ks[2])
    loc_xy, loc_yy = twin.localisation()
    res = run_filter(twin.forecast, twin.get, twin.put, members, jnp.asarray(y_obs), Rvar,
                     k_filt, method="enkf", inflation=args.inflation, loc_xy=loc_xy,
                     loc_yy=loc_yy, progress=args.progress)  # fmt: skip
    fm, am, asd = res.forecast_mean, res.analysis_mean, res.analysis_std
    h_hat = np.asarray(twin.h_t.forward(res.members["u"])).mean(0)
    h_start = np.asarray(h0).mean(0)
    b = int(np.ceil(args.burn_in * 1000 / args.tr))
    r_fc = region_corr(fm[b:], y_obs[b:])
    r_fc_true = region_corr(fm[b:], y_true[b:])
    hs = [am[:, P * R + i * R : P * R + (i + 1) * R] for i in range(4)]
    y_an = np.asarray(twin.bw.bold(BalloonState(*(jnp.asarray(x) for x in hs))))
    r_an = region_corr(y_an[b:], y_obs[b:])
    sim_s = n_tr * args.tr / 1000
    summary = {
        "seed": args.seed, "tr_ms": args.tr, "dt_ms": DT, "members": E, "n_regions": R,
        "neurons_per_region": args.neurons, "n_neurons": twin.n_neurons,
        "receptors": list(RECEPTORS), "estimated": list(twin.estimate),
        "n_windows": n_tr, "duration_s": sim_s, "burn_in_s": args.burn_in,
        "obs_noise": args.obs_noise, "rw": args.rw, "prior_sd": args.prior_sd,
        "spread": args.spread, "inflation": args.inflation,
        **recovery("h", h_hat.ravel(), h_start.ravel(), h_true.ravel()),
        "forecast_corr_median_after_burn_in": float(np.median(r_fc)),
        "forecast_corr_min_after_burn_in": float(np.min(r_fc)),
        "forecast_corr_vs_noiseless_median": float(np.median(r_fc_true)),
        "analysis_corr_median_after_burn_in": float(np.median(r_an)),
        "n_collapsed": res.n_collapsed, "n_divergent": res.n_divergent,
        "truth_run_s": round(truth_s, 1),
        "filter_compile_s": round(res.compile_s, 2), "filter_run_s": round(res.run_s, 2),
        "member_neuron_sim_s_per_wall_s": round(E * twin.n_neurons * sim_s / res.run_s, 1),
        "wall_s": round(time.perf_counter() - t_start, 1),
        "backend": jax.default_backend(),
    }  # fmt: skip
    arrays = dict(forecast=fm, observed=y_obs, truth=y_true, analysis_bold=y_an,
                  h_true=h_true, h_hat=h_hat, h_start=h_start, analysis_mean=am,
                  analysis_std=asd)  # fmt: skip
    return TwinResult(summary=summary, arrays=arrays, twin=twin)


def plot_spiking_twin(result, path) -> None:
    """Hyperparameter trajectories (±1σ) vs truth, estimates vs truth, BOLD of region 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, twin = result.arrays, result.twin
    am, asd, R = a["analysis_mean"], a["analysis_std"], twin.R
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    t = (np.arange(len(am)) + 1) * twin.tr / 1000
    for i, c in zip(range(min(3, R)), ("C0", "C1", "C2"), strict=False):
        mu, s = am[:, i], asd[:, i]
        ax[0].fill_between(t, twin.h_t.forward(mu - s), twin.h_t.forward(mu + s), color=c,
                           alpha=0.25)  # fmt: skip
        ax[0].plot(t, twin.h_t.forward(mu), c=c)
        ax[0].axhline(a["h_true"][0, i], c=c, ls="--")
    ax[0].set(title=f"{twin.estimate[0]} hyperparameter, 3 regions (dashed: truth)",
              xlabel="time (s)")  # fmt: skip
    ax[1].scatter(a["h_true"].ravel(), a["h_hat"].ravel(), s=12, label="end")
    ax[1].scatter(a["h_true"].ravel(), a["h_start"].ravel(), s=12, alpha=0.4, label="start")
    ax[1].plot([0.5, 1.5], [0.5, 1.5], "k:")
    ax[1].set(title="per-region hyperparameter", xlabel="truth", ylabel="estimate")
    ax[1].legend()
    ax[2].plot(t, a["observed"][:, 0], "k.", ms=3, label="observed")
    ax[2].plot(t, a["forecast"][:, 0], label="forecast (pre-update)")
    ax[2].set(title="BOLD region 0", xlabel="time (s)")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
