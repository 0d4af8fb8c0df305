"""Twin experiment: reduced Wong–Wang on tvb-data's 76-region connectome, BOLD, EnKF.

    python examples/assimilate_whole_brain.py --quick                  # CI (tiny ensemble)
    python examples/assimilate_whole_brain.py --seed 0 --tr 800 --obs abs
    python examples/assimilate_whole_brain.py --seed 0 --tr 2000 --obs z

Truth: one-population reduced Wong–Wang nodes (Deco et al. 2013; TVB defaults) on the
76-region tvb-data connectome (weights / max, tract lengths / 5 mm/ms as delays), per-region
external input ``I_o`` (3 % heterogeneity around 0.32 nA) and a global coupling ``G = 0.03``
(just below the transition to the high-activity state, where FC is reproducible), additive
noise on ``S``, dt = 1 ms (Heun). BOLD (``ns.bold.BalloonWindkessel``, SPM12/Stephan 2007 constants)
is driven by each region's ``S`` on a 10 ms decimated clock and observed every TR with
Gaussian observation noise (20 % of the median temporal std). The stochastic EnKF
(``ns.assimilate.run_filter``) estimates per-region ``I_o`` (logit coordinates, random walk)
and updates the haemodynamic states; neural states are not touched (as in the Digital Twin
Brain). ``G``: by default fitted first to the observed FC (free runs on a G grid; the G whose
mean FC matches the observed one) and then held fixed (``--g-mode fc``); ``--g-mode enkf``
puts it in the filter state instead (it then collapses onto a biased value: it trades off
against the per-region ``I_o``). Localisation: each region's states see only their own region's
observation (scalar gains); the global ``G`` takes the mean of the single-observation
updates (DTB's uniform "diffusion" weight 1/M). With ``--obs z`` observations are z-scored
per region and the model's BOLD is mapped through an estimated affine readout (per-region
offset and a global log-scale, augmented), so the BOLD level carries no information.

Writes ``assimilate_whole_brain.png`` and ``summary.json`` into ``--out``; the last stdout
line is the JSON summary.
"""

import argparse
import io
import json
import pathlib
import time
import zipfile

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neurosim as ns  # noqa: E402

IO_MEAN, IO_CV, IO_LO, IO_HI = 0.32, 0.03, 0.28, 0.36  # nA
G_TRUE, G_G0, G_LO, G_HI = 0.03, 0.025, 0.01, 0.036  # G0: prior mean
SPEED = 5.0  # mm/ms
SIGMA_S = 0.003  # noise on S per sqrt(ms)
DT = 1.0  # ms
DECIMATE = 10  # BOLD clock: 10 ms


def load_connectome_76():
    """tvb-data's 76-region connectome read from the installed package (GPL data, not copied).

    Private stand-in, to be replaced by ``ns.connectome`` once it lands.
    """
    import tvb_data

    path = pathlib.Path(tvb_data.__file__).parent / "connectivity" / "connectivity_76.zip"
    with zipfile.ZipFile(path) as z:
        W = np.loadtxt(io.BytesIO(z.read("weights.txt")))
        L = np.loadtxt(io.BytesIO(z.read("tract_lengths.txt")))
    W = W / W.max()
    np.fill_diagonal(W, 0.0)
    return W, L


class Twin:
    """The model and one member's window forecast (pure), shared by truth and ensemble."""

    def __init__(self, W, L, tr, obs_mode, rw_io=0.03, rw_g=0.01):
        self.n = W.shape[0]
        self.tr = tr
        self.obs_mode = obs_mode
        self.steps = ns.bold.steps_per(tr, DT)
        self.model = ns.rates.ReducedWongWang(self.n, I_o=IO_MEAN)
        self.cpl = ns.rates.LinearCoupling(W, G=G_TRUE, delays=L / SPEED)
        self.noise = ns.rates.AdditiveNoise({"S": SIGMA_S})
        self.bw = ns.bold.BalloonWindkessel(self.n)
        self.io_t = ns.assimilate.Bounded(IO_LO, IO_HI)
        self.g_t = ns.assimilate.Bounded(G_LO, G_HI)
        self.rw_io, self.rw_g, self.rw_off = rw_io, rw_g, 0.01  # random walks (logit units)

    def init_member(self, key, io, g):
        rs = ns.rates.init_state(self.model, self.cpl, key, DT, nodes={"S": jnp.full(self.n, 0.1)})
        m = {
            "rate": rs,
            "bold": self.bw.init(None, DT * DECIMATE),
            "u_io": self.io_t.inverse(io),
            "u_g": self.g_t.inverse(g),
        }
        if self.obs_mode == "z":
            m["off"] = jnp.zeros(self.n)
            m["u_scale"] = jnp.zeros(())
        return m

    def settle(self, m, key, ms=2000.0):
        """Neural spin-up (``ms``), then the BOLD state at its closed-form fixed point for the
        mean ``S`` (skips the ~30 s haemodynamic transient from rest)."""
        model = eqx.tree_at(lambda x: x.I_o, self.model, self.io_t.forward(m["u_io"]))
        cpl = eqx.tree_at(lambda x: x.G, self.cpl, self.g_t.forward(m["u_g"]))
        k = int(ms / DT)
        rs, tr = ns.rates.run(model, cpl, m["rate"], k, DT, key=key, noise=self.noise,
                              record=["S"])  # fmt: skip
        bs, _ = ns.bold.steady_state(self.bw, tr.traces["nodes.S"][k // 2 :].mean(0))
        return {**m, "rate": rs, "bold": bs}

    def simulate(self, m, key):
        """One TR with the member's own parameters: (member, BOLD (n,))."""
        model = eqx.tree_at(lambda x: x.I_o, self.model, self.io_t.forward(m["u_io"]))
        cpl = eqx.tree_at(lambda x: x.G, self.cpl, self.g_t.forward(m["u_g"]))
        rs, tr = ns.rates.run(model, cpl, m["rate"], self.steps, DT, key=key,
                              noise=self.noise, record=["S"])  # fmt: skip
        bs, y = ns.bold.run_bold(self.bw, tr.traces["nodes.S"], DT, self.tr, state=m["bold"],
                                 decimate=DECIMATE)  # fmt: skip
        return {**m, "rate": rs, "bold": bs}, y[-1]

    def readout(self, m, y):
        if self.obs_mode == "z":
            return (y - m["off"]) * jnp.exp(-m["u_scale"])
        return y

    def forecast(self, m, t, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        m = {**m, "u_io": ns.assimilate.random_walk(k1, m["u_io"], self.rw_io)}
        m = {**m, "u_g": ns.assimilate.random_walk(k2, m["u_g"], self.rw_g)}
        if self.obs_mode == "z":
            m = {
                **m,
                "off": ns.assimilate.random_walk(k3, m["off"], self.rw_off * jnp.exp(m["u_scale"])),
            }
        m, y = self.simulate(m, k4)
        return m, self.readout(m, y)

    def get(self, m):
        b = m["bold"]
        parts = [m["u_io"], m["u_g"][None], b.s, b.f, b.v, b.q]
        if self.obs_mode == "z":
            parts += [m["off"], m["u_scale"][None]]
        return jnp.concatenate(parts)

    def put(self, m, x):
        n = self.n
        u_io, u_g = x[:n], x[n]
        s, f, v, q = (x[n + 1 + i * n : n + 1 + (i + 1) * n] for i in range(4))
        f, v, q = (jnp.maximum(a, 1e-5) for a in (f, v, q))  # as DTB: keep them positive
        out = {**m, "u_io": u_io, "u_g": u_g, "bold": ns.bold.BalloonState(s, f, v, q)}
        if self.obs_mode == "z":
            o = n + 1 + 4 * n
            out = {**out, "off": x[o : o + n], "u_scale": x[o + n]}
        return out

    def localisation(self, update_g=True):
        """``loc_xy`` (D, M): a region's rows see its own observation; global rows 1/M (the G
        row 0 when G is fixed)."""
        n = self.n
        eye = np.eye(n)
        rows = [eye, np.full((1, n), 1.0 / n if update_g else 0.0)] + [eye] * 4
        if self.obs_mode == "z":
            rows += [eye, np.full((1, n), 1.0 / n)]
        return jnp.asarray(np.concatenate(rows, 0)), jnp.eye(n)


_FREE = {}


def free_bold(twin, io, g, key, n_tr, spin):
    """BOLD of a free run with fixed parameters (vmapped over parameter sets), (k, n_tr, n).

    Compiled once per (twin, n_tr, spin); call it with the same batch size to reuse it.
    """
    fn = _FREE.get((id(twin), n_tr, spin))
    if fn is None:
        fn = _FREE[(id(twin), n_tr, spin)] = jax.jit(jax.vmap(_free_one(twin, n_tr, spin)))
    return np.asarray(fn(io, g, key))


def _free_one(twin, n_tr, spin):

    def one(io, g, k):
        m = twin.init_member(jax.random.fold_in(k, 0), io, g)
        m = twin.settle(m, jax.random.fold_in(k, 1))

        def body(m, kk):
            m, y = twin.simulate(m, kk)
            return m, y

        _, ys = jax.lax.scan(body, m, jax.random.split(k, n_tr + spin))
        return ys[spin:]

    return one


def fc(y):
    c = np.corrcoef(y.T)
    return c[np.triu_indices(c.shape[0], 1)]


def main(args):
    t_start = time.perf_counter()
    W, L = load_connectome_76()
    n = W.shape[0]
    tr = float(args.tr)
    twin = Twin(W, L, tr, args.obs, args.rw_io, args.rw_g)
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
    sd = np.median(y_true.std(0))
    y_obs = y_true + args.obs_noise * sd * rng.standard_normal(y_true.shape)
    R = (args.obs_noise * sd) ** 2
    if args.obs == "z":
        y_obs = (y_obs - y_obs.mean(0)) / y_obs.std(0)
        R = args.obs_noise**2  # the noise std is obs_noise x a region's std in z units

    # G: in the EnKF state (--g-mode enkf), or first fitted to the observed FC and then held
    # fixed (--g-mode fc): free runs on a G grid with homogeneous I_o = the prior mean and the
    # same observation noise; G is where their mean FC equals the observed mean FC (linear
    # interpolation on the grid; the mean FC rises monotonically with G below the transition)
    g_fc = None
    if args.g_mode == "fc":
        grid = np.linspace(0.016, 0.034, 7)
        kg = jax.random.split(jax.random.fold_in(key, 7), len(grid))
        yg = free_bold(twin, jnp.full((len(grid), n), IO_MEAN), jnp.asarray(grid), kg, n_tr, spin)
        yg = yg + args.obs_noise * sd * rng.standard_normal(yg.shape)
        level = np.array([fc(y).mean() for y in yg])
        target = fc(y_obs).mean()
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
    res = ns.assimilate.run_filter(
        twin.forecast, twin.get, twin.put, members, jnp.asarray(obs_all), R, k_filt,
        method="enkf", inflation=args.inflation, loc_xy=loc_xy, loc_yy=loc_yy,
        progress=not args.quick,
    )  # fmt: skip
    off = spin if args.obs == "abs" else 0
    fm = res.forecast_mean[off:]
    am, asd = res.analysis_mean[off:], res.analysis_std[off:]

    # estimates: ensemble mean of the bounded parameters at the end
    io_hat = np.asarray(twin.io_t.forward(res.members["u_io"])).mean(0)
    g_mem = np.asarray(twin.g_t.forward(res.members["u_g"]))
    io_start = np.asarray(io0).mean(0)
    rel = lambda est: np.median(np.abs(est - io_true) / io_true)  # noqa: E731
    r_corr = [np.corrcoef(fm[:, i], y_obs[:, i])[0, 1] for i in range(n)]
    b = int(np.ceil(args.burn_in * 1000 / tr))  # the filter's own burn-in, excluded below
    r_late = [np.corrcoef(fm[b:, i], y_obs[b:, i])[0, 1] for i in range(n)]
    # free run with the estimates vs the truth's FC; ceiling = truth re-run, another seed
    k_free2 = jax.random.fold_in(k_free, 1)
    io2 = jnp.asarray(np.stack([io_hat, io_hat]))
    y_free, y_free2 = free_bold(
        twin, io2, jnp.full(2, g_mem.mean()), jnp.stack([k_free, k_free2]), n_fc, spin
    )
    fc_true = fc(y_fc_true)
    summary = {
        "seed": args.seed, "tr_ms": tr, "obs": args.obs, "members": E, "n_regions": n,
        "n_windows": int(n_tr), "duration_s": args.duration, "dt_ms": DT,
        "fc_duration_s": n_fc * tr / 1000,
        "io_corr": float(np.corrcoef(io_hat, io_true)[0, 1]),
        "io_corr_start": float(np.corrcoef(io_start, io_true)[0, 1]),
        "io_median_rel_err": float(rel(io_hat)),
        "io_median_rel_err_start": float(rel(io_start)),
        "io_err_ratio": float(rel(io_hat) / rel(io_start)),
        "g_mode": args.g_mode, "G_fc": g_fc,
        "G_true": G_TRUE, "G_mean": float(g_mem.mean()), "G_sd": float(g_mem.std()),
        "G_start_mean": float(np.asarray(g0).mean()), "G_start_sd": float(np.asarray(g0).std()),
        "forecast_corr_median": float(np.median(r_corr)),
        "forecast_corr_min": float(np.min(r_corr)),
        "burn_in_s": args.burn_in,
        "forecast_corr_median_after_burn_in": float(np.median(r_late)),
        "forecast_corr_min_after_burn_in": float(np.min(r_late)),
        "fc_corr_free": float(np.corrcoef(fc(y_free), fc_true)[0, 1]),
        "fc_corr_free_2nd_seed": float(np.corrcoef(fc(y_free2), fc_true)[0, 1]),
        "fc_corr_ceiling": float(np.corrcoef(fc(y_ceil), fc_true)[0, 1]),
        "n_collapsed": res.n_collapsed, "n_divergent": res.n_divergent,
        "rw_io": twin.rw_io, "rw_g": twin.rw_g, "inflation": args.inflation,
        "filter_compile_s": round(res.compile_s, 2), "filter_run_s": round(res.run_s, 2),
        "wall_s": round(time.perf_counter() - t_start, 1),
    }  # fmt: skip
    summary["fc_gap"] = summary["fc_corr_ceiling"] - summary["fc_corr_free"]

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(2, 3, figsize=(15, 8))
    t = (np.arange(len(am)) + 1) * tr / 1000
    for i, c in zip(range(3), ("C0", "C1", "C2"), strict=True):
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
    ax[1, 0].set(title=f"BOLD region 0 ({args.obs})", xlabel="time (s)")
    ax[1, 0].legend(fontsize=8)
    for a, y, name in ((ax[1, 1], y_fc_true, "truth"), (ax[1, 2], y_free, "free run, estimates")):
        a.imshow(np.corrcoef(y.T), vmin=-1, vmax=1, cmap="RdBu_r")
        a.set(title=f"FC: {name}")
    fig.tight_layout()
    fig.savefig(out / "assimilate_whole_brain.png", dpi=90)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    np.savez_compressed(out / "twin_arrays.npz", forecast=fm, observed=y_obs, io_true=io_true,
                        io_hat=io_hat, io_start=io_start)  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny ensemble and record (CI)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "out"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tr", type=float, default=800.0, help="repetition time (ms)")
    ap.add_argument("--obs", choices=("abs", "z"), default="abs")
    ap.add_argument("--members", type=int, default=16)
    ap.add_argument("--duration", type=float, default=90.0, help="assimilated record (s)")
    ap.add_argument("--fc-duration", type=float, default=300.0, help="free runs for FC (s)")
    ap.add_argument(
        "--burn-in",
        type=float,
        default=10.0,
        help="first assimilated seconds left out of the second skill score",
    )
    ap.add_argument("--spinup", type=float, default=8.0, help="forecast-only start (s)")
    ap.add_argument("--obs-noise", type=float, default=0.2, help="x median BOLD std")
    ap.add_argument("--inflation", type=float, default=1.0)
    ap.add_argument("--g-mode", choices=("fc", "enkf"), default="fc",
                    help="G from the observed FC (then fixed) or in the EnKF state")  # fmt: skip
    ap.add_argument("--rw-io", type=float, default=0.03, help="I_o random walk per window")
    ap.add_argument("--rw-g", type=float, default=0.01, help="G random walk per window")
    a = ap.parse_args()
    if a.quick:
        a.members, a.duration, a.spinup, a.fc_duration, a.burn_in = 6, 8.0, 1.6, 8.0, 2.0
    main(a)
