"""Ensemble Kalman filters against the exact Kalman filter; augmentation; diagnostics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

# A linear-Gaussian system: x' = F x + w (Q), y = H x + v (R).
F = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.1, 0.0, 0.7]])
H = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
Q = np.diag([0.05, 0.02, 0.03])
R = np.array([0.1, 0.2])
M0 = np.array([1.0, -1.0, 0.5])
P0 = np.array([[1.0, 0.3, 0.0], [0.3, 0.8, 0.1], [0.0, 0.1, 0.5]])
N_CYCLES = 4


def _kalman(ys, Qm=Q):
    """Exact Kalman filter in NumPy: (mean, cov) after each analysis."""
    m, P = M0.copy(), P0.copy()
    out = []
    for k, y in enumerate(ys):
        if k:
            m, P = F @ m, F @ P @ F.T + Qm
        S = H @ P @ H.T + np.diag(R)
        K = P @ H.T @ np.linalg.inv(S)
        m = m + K @ (y - H @ m)
        P = (np.eye(3) - K @ H) @ P
        out.append((m, P))
    return out


def _obs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N_CYCLES, 2)) + np.array([1.0, 0.5])


def _enkf_run(key, n, ys):
    k0, k1 = jax.random.split(key)
    X = jax.random.multivariate_normal(k0, jnp.asarray(M0), jnp.asarray(P0), (n,))

    def cycle(X, inp):
        k, y, first = inp
        kw, ka = jax.random.split(k)
        Xf = X @ F.T + jax.random.multivariate_normal(kw, jnp.zeros(3), jnp.asarray(Q), (n,))
        X = jnp.where(first, X, Xf)
        Xa, _ = ns.assimilate.enkf_update(ka, X, X @ H.T, y, jnp.asarray(R))
        return Xa, (Xa.mean(0), jnp.cov(Xa.T))

    first = jnp.arange(N_CYCLES) == 0
    _, (m, P) = jax.lax.scan(cycle, X, (jax.random.split(k1, N_CYCLES), jnp.asarray(ys), first))
    return m[-1], P[-1]


@pytest.mark.slow
def test_enkf_approaches_kalman_filter_as_one_over_sqrt_n():
    ys = _obs()
    with jax.enable_x64(True):
        mk, Pk = _kalman(ys)[-1]
        sizes, reps = (25, 100, 400), 300
        err_m, err_P = [], []
        for n in sizes:
            keys = jax.random.split(jax.random.key(n), reps)
            m, P = jax.vmap(lambda k, n=n: _enkf_run(k, n, ys))(keys)
            err_m.append(np.sqrt(np.mean(np.sum((np.asarray(m) - mk) ** 2, -1))))
            err_P.append(np.sqrt(np.mean(np.sum((np.asarray(P) - Pk) ** 2, (-2, -1)))))
    # each RMS error is estimated from `reps` runs: relative sampling error ~ 1/sqrt(2 reps)
    # = 4 %; the fitted log-log slope over a factor 16 in N has std ~ sqrt(2)*0.04/ln 16 =
    # 0.02, so 1/sqrt(N) (slope -1/2) must hold within 0.1 (5 sigma, plus O(1/N) bias).
    for err in (err_m, err_P):
        slope = np.polyfit(np.log(sizes), np.log(err), 1)[0]
        assert abs(slope + 0.5) < 0.1, (slope, err)
        assert err[0] > err[1] > err[2]
    # and the errors are small in absolute terms at N = 400 (sampling error of 400 members)
    assert err_m[-1] < 0.1 and err_P[-1] < 0.1


def _exact_ensemble(key, n, m, P):
    """n members with sample mean m and sample covariance P exactly (full rank, n > d)."""
    Z = jax.random.normal(key, (n, m.shape[0]))
    Z = Z - Z.mean(0)
    Lz = jnp.linalg.cholesky(Z.T @ Z / (n - 1))
    Lp = jnp.linalg.cholesky(P)
    return m + jnp.linalg.solve(Lz, Z.T).T @ Lp.T


def test_etkf_equals_kalman_filter_for_full_rank_ensemble():
    ys = _obs()
    with jax.enable_x64(True):
        ref = _kalman(ys, Qm=np.zeros((3, 3)))  # deterministic dynamics: exact propagation
        X = _exact_ensemble(jax.random.key(0), 10, jnp.asarray(M0), jnp.asarray(P0))
        for k, y in enumerate(ys):
            if k:
                X = X @ F.T
            X, diag = ns.assimilate.etkf_update(X, X @ H.T, jnp.asarray(y), jnp.asarray(R))
            m, P = ref[k]
            np.testing.assert_allclose(np.asarray(X.mean(0)), m, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(np.asarray(jnp.cov(X.T)), P, rtol=1e-10, atol=1e-12)
        assert not bool(diag.collapsed) and not bool(diag.divergent)


def test_missing_observations_are_masked_exactly():
    with jax.enable_x64(True):
        X = _exact_ensemble(jax.random.key(1), 8, jnp.asarray(M0), jnp.asarray(P0))
        y = jnp.array([0.7, jnp.nan])
        Xa, d = ns.assimilate.etkf_update(X, X @ H.T, y, jnp.asarray(R))
        Xb, _ = ns.assimilate.etkf_update(X, X @ H[:1].T, y[:1], jnp.asarray(R[:1]))
        np.testing.assert_allclose(np.asarray(Xa), np.asarray(Xb), rtol=1e-12, atol=1e-12)
        assert int(d.n_obs) == 1
        # the EnKF: a masked observation has no influence whatever its value
        k = jax.random.key(2)
        mask = jnp.array([True, False])
        a1, _ = ns.assimilate.enkf_update(k, X, X @ H.T, jnp.array([0.7, 5.0]), R, mask=mask)
        a2, _ = ns.assimilate.enkf_update(k, X, X @ H.T, jnp.array([0.7, -9.0]), R, mask=mask)
        np.testing.assert_array_equal(np.asarray(a1), np.asarray(a2))
        # all observations missing: no update at all
        a3, _ = ns.assimilate.enkf_update(k, X, X @ H.T, jnp.array([jnp.nan, jnp.nan]), R)
        np.testing.assert_allclose(np.asarray(a3), np.asarray(X), atol=1e-14)


def test_enkf_mean_update_is_the_kalman_gain_and_localisation_zeroes_cross_terms():
    with jax.enable_x64(True):
        X = _exact_ensemble(jax.random.key(3), 12, jnp.asarray(M0), jnp.asarray(P0))
        y = jnp.array([0.3, 1.1])
        Xa, _ = ns.assimilate.enkf_update(jax.random.key(4), X, X @ H.T, y, jnp.asarray(R))
        K = P0 @ H.T @ np.linalg.inv(H @ P0 @ H.T + np.diag(R))
        # perturbations are centred: the mean update is exactly K (y - H m)
        np.testing.assert_allclose(
            np.asarray(Xa.mean(0)), M0 + K @ (np.asarray(y) - H @ M0), rtol=1e-10
        )
        L = jnp.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # x1 sees only observation 0
        Xl, _ = ns.assimilate.enkf_update(jax.random.key(4), X, X @ H.T, y, R, loc_xy=L)
        L_yy = jnp.eye(2)
        Xl2, _ = ns.assimilate.enkf_update(
            jax.random.key(4), X, X @ H.T, y, R, loc_xy=L, loc_yy=L_yy
        )
        Cyy = H @ P0 @ H.T
        # with a diagonal Cyy taper the gain to x0 uses only observation 0
        k00 = P0[0, 0] / (Cyy[0, 0] + R[0])
        np.testing.assert_allclose(float(Xl2.mean(0)[0]), M0[0] + k00 * (0.3 - M0[0]), rtol=1e-10)
        assert np.all(np.isfinite(np.asarray(Xl)))


def test_ar1_coefficient_recovered_by_state_augmentation():
    a_true, q, r, T, E = 0.8, 1.0, 0.01, 400, 64
    rng = np.random.default_rng(5)
    x = np.zeros(T)
    for t in range(1, T):
        x[t] = a_true * x[t - 1] + np.sqrt(q) * rng.normal()
    y = (x + np.sqrt(r) * rng.normal(size=T))[:, None]
    tr = ns.assimilate.Bounded(-1.0, 1.0)

    def forecast(m, t, key):
        k1, k2 = jax.random.split(key)
        u = ns.assimilate.random_walk(k1, m[1], 0.02)
        xn = tr.forward(u) * m[0] + jnp.sqrt(q) * jax.random.normal(k2)
        return jnp.stack([xn, u]), xn[None]

    k0, k1 = jax.random.split(jax.random.key(6))
    members = jnp.stack([jnp.zeros(E), jax.random.normal(k0, (E,))], 1)  # a ~ tanh-ish prior
    res = ns.assimilate.run_filter(
        forecast, lambda m: m, lambda m, v: v, members, y, r, k1, progress=False
    )
    a_hat = float(np.mean(tr.forward(res.members[:, 1])))
    # MLE sampling std of an AR(1) coefficient from T samples: sqrt((1 - a^2) / T) = 0.03
    assert abs(a_hat - a_true) < 3.5 * np.sqrt((1 - a_true**2) / T)
    assert np.all(np.abs(np.asarray(tr.forward(res.members[:, 1]))) < 1.0)
    assert res.n_collapsed == 0


def test_collapse_and_divergence_are_reported():
    def forecast(m, t, key):  # no noise, no random walk: the spread only shrinks
        return m, m

    members = jnp.linspace(-1, 1, 8)[:, None]
    with pytest.warns(RuntimeWarning, match="collapse"):
        res = ns.assimilate.run_filter(
            forecast, lambda m: m, lambda m, v: v, members, jnp.zeros((30, 1)), 1e-12,
            jax.random.key(0), method="etkf", collapse_tol=1e-4, progress=False,
        )  # fmt: skip
    assert res.n_collapsed > 0 and res.diagnostics["spread_post"][-1] < 1e-4
    tiny = 1e-3 * jnp.linspace(-1, 1, 8)[:, None]
    with pytest.warns(RuntimeWarning, match="divergence"):
        res = ns.assimilate.run_filter(
            forecast, lambda m: m, lambda m, v: v, tiny, jnp.full((3, 1), 10.0), 1e-4,
            jax.random.key(0), progress=False,
        )  # fmt: skip
    assert res.n_divergent == 3
    assert res.diagnostics["innovation_var"][0] > 1e5 * res.diagnostics["expected_var"][0]


def test_bad_shapes_name_the_array():
    X = jnp.zeros((8, 3))
    with pytest.raises(ValueError, match="Y \\(predicted"):
        ns.assimilate.enkf_update(jax.random.key(0), X, jnp.zeros((7, 2)), jnp.zeros(2), 1.0)
    with pytest.raises(ValueError, match="y_obs"):
        ns.assimilate.etkf_update(X, jnp.zeros((8, 2)), jnp.zeros(3), 1.0)
    with pytest.raises(ValueError, match="R \\(observation"):
        ns.assimilate.etkf_update(X, jnp.zeros((8, 2)), jnp.zeros(2), jnp.ones(3))
    with pytest.raises(ValueError, match="X \\(ensemble\\) must be"):
        ns.assimilate.etkf_update(jnp.zeros(8), jnp.zeros((8, 2)), jnp.zeros(2), 1.0)
    with pytest.raises(ValueError, match="loc_xy"):
        ns.assimilate.enkf_update(
            jax.random.key(0), X, jnp.zeros((8, 2)), jnp.zeros(2), 1.0, loc_xy=jnp.ones((2, 2))
        )
    with pytest.raises(ValueError, match="observations must be"):
        ns.assimilate.run_filter(
            lambda m, t, k: (m, m), lambda m: m, lambda m, v: v, X, jnp.zeros(5), 1.0,
            jax.random.key(0),
        )  # fmt: skip
    with pytest.raises(ValueError, match="method"):
        ns.assimilate.run_filter(
            lambda m, t, k: (m, m), lambda m: m, lambda m, v: v, X, jnp.zeros((5, 3)), 1.0,
            jax.random.key(0), method="pf",
        )  # fmt: skip


def test_transforms_heterogeneity_and_reproducibility():
    b = ns.assimilate.Bounded(0.2, 0.5, scale=10.0)
    u = jnp.linspace(-100, 100, 101)  # |u / c| <= 10: strictly inside in float32
    th = b.forward(u)
    assert np.all((np.asarray(th) > 0.2) & (np.asarray(th) < 0.5))
    th = b.forward(jnp.array([-1e4, 1e4]))  # saturates to the closed interval, never beyond
    assert np.all((np.asarray(th) >= 0.2) & (np.asarray(th) <= 0.5))
    np.testing.assert_allclose(np.asarray(b.inverse(b.forward(u[40:60]))), u[40:60], atol=1e-3)
    with pytest.raises(ValueError, match="lo < hi"):
        ns.assimilate.Bounded(1.0, 0.0)
    g = ns.assimilate.gamma_heterogeneity(jax.random.key(0), jnp.array([1.0, 2.0]), 20000)
    # Gamma(5, 1/5): mean 1, CV 1/sqrt(5); sample mean within 5 standard errors
    se = np.array([1.0, 2.0]) / np.sqrt(5 * 20000)
    assert np.all(np.abs(np.asarray(g.mean(1)) - [1.0, 2.0]) < 5 * se)
    np.testing.assert_allclose(np.asarray(g.std(1) / g.mean(1)), 1 / np.sqrt(5), rtol=0.05)
    g2 = ns.assimilate.gamma_heterogeneity(jax.random.key(0), jnp.array([1.0, 2.0]), 20000)
    np.testing.assert_array_equal(np.asarray(g), np.asarray(g2))
    X = jax.random.normal(jax.random.key(1), (16, 3))
    a, _ = ns.assimilate.enkf_update(jax.random.key(2), X, X[:, :2], jnp.zeros(2), 0.1)
    b2, _ = ns.assimilate.enkf_update(jax.random.key(2), X, X[:, :2], jnp.zeros(2), 0.1)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b2))


@pytest.mark.parametrize("method", ["enkf", "etkf"])
def test_rtps_relaxes_chosen_components_to_the_prior_spread(method):
    X = jax.random.normal(jax.random.key(3), (40, 3)) * jnp.array([1.0, 2.0, 0.5])
    Y, y, r = X[:, :2], jnp.array([0.3, -0.2]), 0.05

    def upd(**kw):
        if method == "enkf":
            return ns.assimilate.enkf_update(jax.random.key(4), X, Y, y, r, **kw)[0]
        return ns.assimilate.etkf_update(X, Y, y, r, **kw)[0]

    plain = np.asarray(upd())
    alpha = jnp.array([1.0, 0.0, 0.5])
    relaxed = np.asarray(upd(rtps=alpha))
    sb, sa = np.asarray(X.std(0, ddof=1)), plain.std(0, ddof=1)
    # the mean is untouched; each component's std is alpha sigma_b + (1 - alpha) sigma_a
    np.testing.assert_allclose(relaxed.mean(0), plain.mean(0), atol=1e-5)
    np.testing.assert_allclose(relaxed.std(0, ddof=1), [sb[0], sa[1], 0.5 * (sb[2] + sa[2])],
                               rtol=1e-4)  # fmt: skip
    np.testing.assert_allclose(relaxed[:, 1], plain[:, 1], atol=1e-6)  # alpha 0: as before
    assert sa[0] < 0.5 * sb[0]  # the update really shrank it (the test can fail)
    with pytest.raises(ValueError, match="rtps"):
        upd(rtps=jnp.ones(2))


def test_parameter_only_rtps_keeps_a_switching_ar1_coefficient_trackable():
    """AR(1) with a coefficient that jumps 0.3 -> 0.8 halfway, augmented without a random
    walk: the plain EnKF's parameter spread collapses and the estimate stays far from 0.8;
    RTPS on the parameter alone (the state left as is) keeps it adaptive and tracks it."""
    q, r, T, E = 1.0, 0.01, 600, 32
    a_path = np.where(np.arange(T) < T // 2, 0.3, 0.8)
    rng = np.random.default_rng(7)
    x = np.zeros(T)
    for t in range(1, T):
        x[t] = a_path[t] * x[t - 1] + np.sqrt(q) * rng.normal()
    y = (x + np.sqrt(r) * rng.normal(size=T))[:, None]
    tr = ns.assimilate.Bounded(-1.0, 1.0)

    def forecast(m, t, key):
        xn = tr.forward(m[1]) * m[0] + jnp.sqrt(q) * jax.random.normal(key)
        return jnp.stack([xn, m[1]]), xn[None]

    k0, k1 = jax.random.split(jax.random.key(8))
    members = jnp.stack([jnp.zeros(E), jax.random.normal(k0, (E,))], 1)

    def late_estimate(rtps):
        res = ns.assimilate.run_filter(forecast, lambda m: m, lambda m, v: v, members, y, r,
                                       k1, rtps=rtps, progress=False)  # fmt: skip
        return float(np.mean(tr.forward(res.analysis_mean[-50:, 1])))

    plain = late_estimate(0.0)
    relaxed = late_estimate(jnp.array([0.0, 0.9]))  # parameter only
    # MLE sampling std of the coefficient from the last 300 samples: sqrt(0.36 / 300) = 0.035
    assert abs(relaxed - 0.8) < 3.5 * np.sqrt((1 - 0.8**2) / 300), relaxed
    assert abs(plain - 0.8) > 0.1, plain
