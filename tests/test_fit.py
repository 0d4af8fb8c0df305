"""neurosim.fit: stimulus statistics, losses against closed forms, teacher-forced segments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT = 0.1


def test_ou_current_statistics():
    mu, sigma, tau, n = 200.0, 50.0, 1.0, 100_000
    x = np.asarray(ns.fit.ou_current(jax.random.key(0), n, DT, mean=mu, sigma=sigma, tau=tau))
    # ~n*dt/(2 tau) = 5000 independent samples: standard errors ~1.4 % of sigma.
    n_eff = n * DT / (2 * tau)
    assert abs(x.mean() - mu) < 5 * sigma / np.sqrt(n_eff)
    assert abs(x.std() / sigma - 1) < 5 / np.sqrt(2 * n_eff)
    rho = np.corrcoef(x[:-1], x[1:])[0, 1]  # exact discretisation: exp(-dt/tau)
    assert abs(rho - np.exp(-DT / tau)) < 5 * (1 - np.exp(-2 * DT / tau)) / np.sqrt(n)
    with pytest.raises(ValueError, match="tau"):
        ns.fit.ou_current(jax.random.key(0), 10, DT, tau=-1.0)


def test_van_rossum_closed_forms():
    tau, n = 5.0, 4000
    q = np.exp(-DT / tau)
    one = jnp.zeros(n).at[100].set(1.0)
    # Lone spike: (dt/tau) * sum_k q^(2k) over the remaining bins (geometric sum).
    m = n - 100
    expect = (DT / tau) * (1 - q ** (2 * m)) / (1 - q**2)
    d2 = ns.fit.van_rossum_distance(one, jnp.zeros(n), tau, DT, time_axis=0)
    np.testing.assert_allclose(float(d2), expect, rtol=1e-5)
    assert abs(float(d2) - 0.5) < DT / tau  # the continuous value 1/2, to O(dt/tau)
    # Two spikes k bins apart: the filters differ by q^k-1 on the common tail.
    k = 30
    two = jnp.zeros(n).at[100 + k].set(1.0)
    head = (DT / tau) * (1 - q ** (2 * k)) / (1 - q**2)
    tail = (DT / tau) * (1 - q**k) ** 2 * (1 - q ** (2 * (m - k))) / (1 - q**2)
    np.testing.assert_allclose(
        float(ns.fit.van_rossum_distance(one, two, tau, DT, time_axis=0)), head + tail, rtol=1e-5
    )
    assert float(ns.fit.van_rossum_distance(one, one, tau, DT, time_axis=0)) == 0.0


def test_coincidence_factor():
    t = np.array([10.0, 60.0, 130.0, 300.0])
    assert ns.fit.coincidence_factor(t, t, 2.0, 1000.0) == 1.0
    # Two of four data spikes matched; nu = 4/1000 per ms, expected chance coincidences
    # 2 nu delta N = 0.064, normalisation 1 - 2 nu delta = 0.984.
    model = np.array([11.0, 60.5, 200.0, 400.0])
    expect = (2 - 0.064) / 4.0 / 0.984
    assert ns.fit.coincidence_factor(model, t, 2.0, 1000.0) == pytest.approx(expect)
    assert ns.fit.coincidence_factor([], t, 2.0, 1000.0) == 0.0


def test_transforms_round_trip_and_errors():
    space = ns.fit.ParameterSpace(
        {"tau": ns.fit.Positive(10.0), "v": ns.fit.Affine(-50.0, 10.0), "p": ns.fit.Bounded(0, 1)}
    )
    x = {"tau": 20.0, "v": -45.0, "p": 0.3}
    back = space.to_physical(space.to_unconstrained(x))
    for k in x:
        assert float(back[k]) == pytest.approx(x[k], rel=1e-6)
    with pytest.raises(ValueError, match="> 0"):
        ns.fit.Positive().to_unconstrained(-1.0)
    with pytest.raises(ValueError, match="missing"):
        space.to_unconstrained({"tau": 1.0})
    with pytest.raises(ValueError, match="high > low"):
        ns.fit.Bounded(1.0, 0.0)


def test_split_at_spikes_structure():
    rec = ns.fit.Recording(DT, np.arange(101.0), np.zeros(100), np.array([40, 41, 90]))
    seg = ns.fit.split_at_spikes(rec, max_len=15)
    np.testing.assert_array_equal(seg.start, [0, 15, 30, 42, 57, 72, 87, 91])
    np.testing.assert_array_equal(seg.n_obs, [15, 15, 10, 15, 15, 15, 3, 9])
    np.testing.assert_array_equal(seg.after_spike, [0, 0, 0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(seg.continues, [0, 1, 1, 0, 1, 1, 1, 0])
    np.testing.assert_array_equal(seg.ends_in_spike, [0, 0, 1, 0, 0, 0, 1, 0])
    # Step j of segment s ends at sample start + j + 1.
    np.testing.assert_array_equal(seg.v[:10, 2], np.arange(31.0, 41.0))
    assert seg.mask.sum() == 100 - 3 + 0  # every sample after a non-spike step, once
    # tail: steps simulated after a spike step, never past the recording's end.
    rec2 = rec._replace(current=np.arange(100.0), spike_steps=np.array([40, 97]))
    seg2 = ns.fit.split_at_spikes(rec2, tail=5)
    np.testing.assert_array_equal(seg2.n_steps, [46, 59, 2])  # 40 + 1 + 5; 56 + 6 cut to 59
    np.testing.assert_array_equal(seg2.current[:46, 0], np.arange(46.0))  # recorded current
    with pytest.raises(ValueError, match="spike_steps"):
        ns.fit.split_at_spikes(ns.fit.Recording(DT, np.zeros(11), np.zeros(10), np.array([10])))


def _lif_recording(i_amp=260.0, n=3000):
    lif = ns.neurons.LIF(1, tau_m=20.0, g_l=10.0, e_l=-70.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0)
    cur = ns.fit.ou_current(jax.random.key(3), n, DT, mean=i_amp, sigma=60.0, tau=5.0)
    return lif, ns.fit.record_neuron(lif, cur, DT)


def test_teacher_forced_segments_reproduce_the_recording():
    """With the true parameters, the segments re-simulate the noise-free trace exactly."""
    _, rec = _lif_recording()
    assert rec.spike_steps.size >= 5
    seg = ns.fit.split_at_spikes(rec)
    after = jnp.asarray(seg.after_spike)
    cell = ns.neurons.LIF(
        seg.n_segments, tau_m=20.0, g_l=10.0, e_l=-70.0, v_th=1e4, v_reset=-60.0, t_ref=2.0
    )
    init = {
        "v": jnp.where(after, -60.0, jnp.asarray(rec.v[seg.start])),
        "refractory": jnp.where(after, 19, 0),
    }
    v = np.asarray(ns.fit.run_segments(cell, seg, DT, init)[0]["v"])
    # Same model, same dt, same float32 arithmetic: equal to rounding.
    np.testing.assert_allclose(v[seg.mask], seg.v[seg.mask], atol=1e-4)
    # At each recorded spike the free trajectory crosses v_th inside the spike step.
    ends = np.flatnonzero(seg.ends_in_spike)
    before, at = v[seg.n_obs[ends] - 1, ends], v[seg.n_obs[ends], ends]
    assert np.all(before < -50.0) and np.all(at >= -50.0)
    crossed, t, _ = ns.fit.first_crossing(jnp.asarray(v), init["v"], -50.0, seg)
    t = np.asarray(t)[ends]
    assert np.all(np.asarray(crossed)[ends])
    # ... and the interpolated crossing lies in that step, [n_obs, n_obs + 1] steps after the
    # segment's start.
    np.testing.assert_array_less(seg.n_obs[ends] - 1e-6, t)
    np.testing.assert_array_less(t, seg.n_obs[ends] + 1 + 1e-6)


def test_record_neuron_oversampling_matches_lif_isi():
    """Constant current: spike times agree with the closed-form LIF interval to one sample."""
    i_e, tau, r = 300.0, 20.0, 0.1  # pA, ms, GOhm
    lif = ns.neurons.LIF(1, tau_m=tau, g_l=1 / r, e_l=-70.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0)
    rec = ns.fit.record_neuron(lif, jnp.full(8000, i_e), DT, oversample=4, noise_std=0.0)
    v_inf = -70.0 + r * i_e
    isi = 2.0 + tau * np.log((v_inf + 60.0) / (v_inf + 50.0))
    first = tau * np.log((v_inf + 70.0) / (v_inf + 50.0))
    # Each spike is stamped at the end of its sample (<= dt late) and every simulated interval
    # is rounded up to the fine grid (<= dt/4): compare the first time and the intervals.
    tol = DT + DT / 4 + 1e-4
    assert abs(rec.spike_times[0] - first) < tol
    np.testing.assert_allclose(np.diff(rec.spike_times), isi, atol=tol)
    assert rec.v.shape == (2001,) and rec.current.shape == (2000,)


@pytest.mark.slow
def test_gradient_through_segments_matches_finite_differences():
    with jax.enable_x64(True):
        _, rec = _lif_recording(n=400)
        assert rec.spike_steps.size >= 1  # at least one segment starts after a reset
        seg = ns.fit.split_at_spikes(rec)
        after = jnp.asarray(seg.after_spike)

        def loss(tau_m):
            cell = ns.neurons.LIF(
                seg.n_segments, tau_m=tau_m, g_l=10.0, e_l=-70.0, v_th=1e4, v_reset=-60.0,
                t_ref=2.0,
            )  # fmt: skip
            init = {"v": jnp.where(after, -60.0, jnp.asarray(rec.v[seg.start])),
                    "refractory": jnp.where(after, 19, 0)}  # fmt: skip
            v = ns.fit.run_segments(cell, seg, DT, init)[0]["v"]
            return ns.fit.trace_mse(v, jnp.asarray(seg.v) + 0.3, jnp.asarray(seg.mask))

        g = jax.grad(loss)(jnp.asarray(22.0))
        h, f = 1e-4, jax.jit(loss)
        fd = (f(jnp.asarray(22.0 + h)) - f(jnp.asarray(22.0 - h))) / (2 * h)
        # Central differences in float64: truncation O(h^2) and rounding ~1e-16/h << 1e-6.
        np.testing.assert_allclose(float(g), float(fd), rtol=1e-6)


@pytest.mark.parametrize("method", ["adam", "lbfgs"])
def test_minimize_quadratic(method):
    target = jnp.array([3.0, -1.0])
    u, hist = ns.fit.minimize(
        lambda u: jnp.sum((u - target) ** 2), jnp.zeros(2), steps=300, learning_rate=0.1,
        method=method,
    )  # fmt: skip
    np.testing.assert_allclose(np.asarray(u), np.asarray(target), atol=1e-3)
    assert hist[-1] < hist[0]
    with pytest.raises(ValueError, match="method"):
        ns.fit.minimize(lambda u: u**2, 0.0, steps=1, method="sgd")


# -- free runs of candidate populations and the CMA-ES global search -----------------------------


def test_run_free_candidates_match_closed_form_isi():
    """Each candidate (its own tau_m) fires at the closed-form LIF interval, to one step."""
    taus = np.array([10.0, 20.0, 35.0])
    i_e, r = 300.0, 0.1  # pA, GOhm
    lif = ns.neurons.LIF(3, tau_m=jnp.asarray(taus), g_l=1 / r, e_l=-70.0, v_th=-50.0,
                         v_reset=-60.0, t_ref=2.0)  # fmt: skip
    spikes, traces = ns.fit.run_free(lif, jnp.full(3000, i_e), DT, {"v": -60.0}, record=("v",))
    assert spikes.shape == (3000, 3) and traces["v"].shape == (3000, 3)
    v_inf = -70.0 + r * i_e
    for j, tau in enumerate(taus):
        t = (np.flatnonzero(np.asarray(spikes[:, j])) + 1) * DT
        isi = 2.0 + tau * np.log((v_inf + 60.0) / (v_inf + 50.0))
        assert t.size > 5
        np.testing.assert_allclose(np.diff(t), isi, atol=DT + 1e-4)


def test_run_free_agrees_with_record_neuron():
    cur = ns.fit.ou_current(jax.random.key(3), 4000, DT, mean=700.0, sigma=300.0, tau=20.0)
    cell = ns.neurons.AdEx(1, v_reset=-58.0, v_init=-70.6)
    rec = ns.fit.record_neuron(cell, cur, DT)
    spikes, _ = ns.fit.run_free(cell, cur, DT, {"v": -70.6})
    assert rec.spike_steps.size > 3
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(spikes[:, 0])), rec.spike_steps)


def test_run_free_rejects_bad_input():
    with pytest.raises(ValueError, match="current must have shape"):
        ns.fit.run_free(ns.neurons.LIF(2), jnp.zeros((10, 3)), DT)
    with pytest.raises(ValueError, match="no state variable 'u'"):
        ns.fit.run_free(ns.neurons.LIF(2), jnp.zeros(10), DT, {"u": 0.0})


def _ellipsoid(x):
    scales = 10.0 ** (2.0 * np.arange(x.shape[1]) / (x.shape[1] - 1))  # condition 1e4
    return np.sum((scales * (x - 0.5)) ** 2, axis=1)


def test_cmaes_solves_ill_conditioned_and_curved_problems():
    # An ellipsoid with condition number 1e4 needs the learned covariance ...
    res = ns.fit.cmaes(_ellipsoid, np.full(5, 3.0), 1.0, generations=600, seed=1)
    assert res.loss < 1e-8
    np.testing.assert_allclose(res.x, 0.5, atol=1e-4)

    # ... and the Rosenbrock valley its rotation.
    def rosenbrock(x):
        return np.sum(100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2, axis=1)

    res = ns.fit.cmaes(rosenbrock, np.full(4, -1.0), 0.5, generations=1500, seed=2)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-3)
    assert np.all(np.diff(res.best_history) <= 0)  # best-so-far never gets worse
    assert res.evaluations == res.best_history.size * (4 + int(3 * np.log(4)))


def test_cmaes_global_search_and_non_finite_losses():
    # Rastrigin: a grid of local minima; a large population finds the global one at 0.
    def rastrigin(x):
        return 10 * x.shape[1] + np.sum(x**2 - 10 * np.cos(2 * np.pi * x), axis=1)

    res = ns.fit.cmaes(rastrigin, np.full(3, 3.0), 2.0, generations=400, popsize=100, seed=0)
    assert res.loss < 1e-6

    # NaN where a simulation would blow up (x[0] < 0) ranks last and does not stop the search.
    def guarded(x):
        return np.where(x[:, 0] < 0, np.nan, np.sum((x - 0.2) ** 2, axis=1))

    res = ns.fit.cmaes(guarded, np.array([2.0, 2.0]), 1.0, generations=300, seed=0)
    np.testing.assert_allclose(res.x, 0.2, atol=1e-4)


def test_cmaes_is_reproducible_and_validates():
    a = ns.fit.cmaes(_ellipsoid, np.ones(3), 0.3, generations=20, seed=7)
    b = ns.fit.cmaes(_ellipsoid, np.ones(3), 0.3, generations=20, seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="sigma0"):
        ns.fit.cmaes(_ellipsoid, np.ones(3), 0.0, generations=5)
    with pytest.raises(ValueError, match="popsize"):
        ns.fit.cmaes(_ellipsoid, np.ones(3), 0.3, generations=5, popsize=2)
    with pytest.raises(ValueError, match="x0 must be finite"):
        ns.fit.cmaes(_ellipsoid, np.array([1.0, np.nan]), 0.3, generations=5)
    with pytest.raises(ValueError, match="return shape"):
        ns.fit.cmaes(lambda x: np.zeros(2), np.ones(3), 0.3, generations=5, popsize=6)
    with pytest.raises(ValueError, match="generations"):
        ns.fit.cmaes(_ellipsoid, np.ones(3), 0.3, generations=0)


def test_cmaes_with_free_runs_recovers_lif_tau_from_spike_times():
    """Spike times only: a population of free runs per generation, van Rossum distance."""
    cur = ns.fit.ou_current(jax.random.key(5), 5000, DT, mean=300.0, sigma=150.0, tau=10.0)
    kw = dict(g_l=10.0, e_l=-70.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0)
    data, _ = ns.fit.run_free(ns.neurons.LIF(1, tau_m=20.0, **kw), cur, DT, {"v": -70.0})

    @jax.jit
    def batch_loss(x):
        cell = ns.neurons.LIF(x.shape[0], tau_m=20.0 * jnp.exp(x[:, 0]), **kw)
        spikes, _ = ns.fit.run_free(cell, cur, DT, {"v": -70.0})
        return ns.fit.van_rossum_distance(spikes, data, 5.0, DT, time_axis=0)

    def losses(x):
        return np.asarray(batch_loss(jnp.asarray(x, jnp.float32)))

    res = ns.fit.cmaes(losses, np.array([np.log(2.0)]), 0.5, generations=40, popsize=12, seed=0)
    # Spike times sit on the 0.1 ms grid: tau_m is pinned to the range giving the same train.
    assert res.loss == 0.0
    assert abs(20.0 * np.exp(res.x[0]) / 20.0 - 1.0) < 0.02


def test_adaptation_current_closed_form_with_spikes():
    """Constant v: w relaxes to a (v - E_L) from w_init, plus b e^{-(t - t_s)/tau_w} per spike."""
    n, dt, tau_w, a, b, e_l, v0, w_init = 3000, 0.1, 144.0, 4.0, 80.5, -70.6, -55.0, 30.0
    steps = np.array([500, 1210, 2999])
    rec = ns.fit.Recording(dt, np.full(n + 1, v0), np.zeros(n), steps)
    w = np.asarray(ns.fit.adaptation_current(rec, a=a, b=b, tau_w=tau_w, e_l=e_l, w_init=w_init))
    t = np.arange(n + 1) * dt
    expect = a * (v0 - e_l) * (1 - np.exp(-t / tau_w)) + w_init * np.exp(-t / tau_w)
    for s in steps:  # the increment of a spike in step s is in w from sample s + 1 on
        t_s = (s + 1) * dt
        expect += np.where(t >= t_s, b * np.exp(-(t - t_s) / tau_w), 0.0)
    # Exact for constant v, up to float32 rounding through the scan's ~2 log2(3000) levels.
    np.testing.assert_allclose(w, expect, rtol=1e-4, atol=1e-3)
    assert w.shape == (n + 1,)


def test_adaptation_current_reconstructs_adex_w_from_a_noisy_recording():
    """The AdEx's own (unrecorded) w is recovered from v and the spikes of its recording."""
    p = dict(c_m=281.0, g_l=30.0, e_l=-70.6, v_t=-50.4, delta_t=2.0, a=4.0, b=80.5,
             tau_w=144.0, v_reset=-58.0)  # fmt: skip
    m, n = 4, 10000
    cur = ns.fit.ou_current(jax.random.key(2), n * m, DT / m, mean=650.0, sigma=400.0, tau=50.0)
    cell = ns.neurons.AdEx(1, **p)
    _, traces = ns.fit.run_free(cell, cur, DT / m, record=("w",))
    w_true = np.concatenate([[0.0], np.asarray(traces["w"][m - 1 :: m, 0])])
    rec = ns.fit.record_neuron(cell, cur, DT, oversample=m, noise_std=0.5, key=jax.random.key(3))
    assert rec.spike_steps.size >= 10 and w_true.max() > 300.0
    w = np.asarray(
        ns.fit.adaptation_current(rec, a=p["a"], b=p["b"], tau_w=p["tau_w"], e_l=p["e_l"])
    )
    # Errors: the unresolved spike upswing, <= a (v_peak - V_T) dt / (2 tau_w) ~ 0.07 pA per
    # spike and remembered over tau_w (a few spikes at these rates); the 0.5 mV noise,
    # filtered: a sigma sqrt(dt / (2 tau_w)) ~ 0.04 pA s.d. Against b = 80 pA, w up to 700 pA.
    np.testing.assert_allclose(w, w_true, atol=0.5)


def test_adaptation_current_gradient_and_validation():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        v = -60.0 + 5.0 * rng.standard_normal(801)
        rec = ns.fit.Recording(DT, v, np.zeros(800), np.array([100, 400]))

        def last(q):
            return ns.fit.adaptation_current(
                rec, a=q[0], b=q[1], tau_w=q[2], e_l=q[3], w_init=q[4]
            )[-1]

        q = jnp.asarray([4.0, 80.0, 144.0, -70.0, 20.0])
        g = np.asarray(jax.grad(last)(q))
        h = 1e-5
        fd = [(last(q.at[i].add(h)) - last(q.at[i].add(-h))) / (2 * h) for i in range(5)]
        # Central differences in float64: truncation O(h^2), rounding ~1e-16 * 1e3 / h.
        np.testing.assert_allclose(g, np.asarray(fd), rtol=1e-6, atol=1e-8)
        assert np.all(g != 0.0)
        # Batched parameters (one w per candidate) agree with one call per candidate.
        a = jnp.asarray([1.0, 4.0, 9.0])
        kw = dict(b=80.0, tau_w=144.0, e_l=-70.0)
        f = jax.vmap(lambda a_: ns.fit.adaptation_current(rec, a=a_, **kw))
        for i in range(3):
            one = ns.fit.adaptation_current(rec, a=a[i], **kw)
            np.testing.assert_allclose(f(a)[i], one, rtol=1e-12)
    kw = dict(a=4.0, b=80.0, tau_w=144.0, e_l=-70.0)
    with pytest.raises(ValueError, match="tau_w"):
        ns.fit.adaptation_current(rec, **{**kw, "tau_w": 0.0})
    with pytest.raises(ValueError, match=r"rec\.v"):
        ns.fit.adaptation_current(ns.fit.Recording(DT, v[:-1], np.zeros(800), np.array([])), **kw)
    with pytest.raises(ValueError, match="spike_steps"):
        ns.fit.adaptation_current(ns.fit.Recording(DT, v, np.zeros(800), np.array([800])), **kw)
    with pytest.raises(ValueError, match=r"rec\.dt"):
        ns.fit.adaptation_current(ns.fit.Recording(0.0, v, np.zeros(800), np.array([])), **kw)


def test_adex_segments_from_reconstructed_w_reproduce_the_recording():
    """Teacher forcing with w from the potential: pieces re-simulate a noise-free AdEx trace."""
    p = dict(c_m=281.0, g_l=30.0, e_l=-70.6, v_t=-50.4, delta_t=2.0, a=4.0, b=80.5,
             tau_w=144.0, v_reset=-58.0)  # fmt: skip
    cur = ns.fit.ou_current(jax.random.key(4), 6000, DT, mean=650.0, sigma=400.0, tau=50.0)
    rec = ns.fit.record_neuron(ns.neurons.AdEx(1, **p), cur, DT)  # same dt: no oversampling
    assert rec.spike_steps.size >= 5
    seg = ns.fit.split_at_spikes(rec, max_len=1000)
    w = ns.fit.adaptation_current(rec, a=p["a"], b=p["b"], tau_w=p["tau_w"], e_l=p["e_l"])
    after = jnp.asarray(seg.after_spike)
    init = {"v": jnp.where(after, p["v_reset"], jnp.asarray(rec.v[seg.start])),
            "w": w[seg.start]}  # fmt: skip
    cell = ns.neurons.AdEx(seg.n_segments, **p)
    v = np.asarray(ns.fit.run_segments(cell, seg, DT, init)[0]["v"])
    sub = seg.mask & (seg.v < -52.0)  # below V_T, where the exponential does not amplify errors
    # w at the pieces' starts is within ~0.1 pA (the unresolved upswings); below V_T a w error
    # dw moves v by at most dw / g_L ~ 0.003 mV. A wrong w (no b increments) misses by mV.
    np.testing.assert_allclose(v[sub], seg.v[sub], atol=0.01)
    w_no_b = ns.fit.adaptation_current(rec, a=p["a"], b=0.0, tau_w=p["tau_w"], e_l=p["e_l"])
    v_bad = np.asarray(ns.fit.run_segments(cell, seg, DT, {**init, "w": w_no_b[seg.start]})[0]["v"])
    assert np.abs(v_bad[sub] - seg.v[sub]).max() > 1.0
