"""Rate-network drivers: delays (ring buffer), chunking, run == simulate, faults, gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.network import _simulate


def _reference_euler(theta0, omega, W, D_steps, G, dt, n_steps, pair):
    """Hand-written Euler recursion with per-edge delays and a constant past (NumPy)."""
    n = theta0.size
    th = np.zeros((n_steps + 1, n))
    th[0] = theta0
    for k in range(n_steps):
        past = th[np.maximum(k - D_steps, 0), np.arange(n)[None, :]]  # theta_j(t_k - d_ij)
        c = G * np.sum(W * pair(past, th[k][:, None]), axis=1)
        th[k + 1] = th[k] + dt * (omega + c)
    return th[1:]


@pytest.mark.parametrize(
    "coupling_cls, pair",
    [
        (ns.rates.KuramotoCoupling, lambda pre, post: np.sin(pre - post)),
        (ns.rates.LinearCoupling, lambda pre, post: pre + 0.0 * post),
        (ns.rates.DifferenceCoupling, lambda pre, post: pre - post),
    ],
)
def test_heterogeneous_delays_match_hand_written_recursion(coupling_cls, pair):
    dt, n_steps = 0.1, 60
    W = np.array([[0.0, 1.0, 0.5], [0.7, 0.0, 0.0], [0.2, 1.3, 0.4]])
    delays = np.array([[0.0, 0.3, 1.2], [2.5, 0.0, 0.0], [0.1, 0.7, 0.9]])  # ms
    omega = np.array([0.3, -0.2, 0.5])
    theta0 = np.array([0.1, 1.0, -2.0])
    ref = _reference_euler(theta0, omega, W, np.round(delays / dt).astype(int), 0.8, dt,
                           n_steps, pair)  # fmt: skip
    with jax.enable_x64(True):
        m = ns.rates.Kuramoto(3, omega=omega, init={"theta": theta0})
        cpl = coupling_cls(W, G=0.8, delays=delays)
        res = ns.rates.simulate(
            m, cpl, n_steps * dt, dt, key=jax.random.key(0), integrator=ns.integrators.Euler()
        )
    assert res.final_state.node_history[0].shape == (26, 3)  # max delay 25 steps + the present
    np.testing.assert_allclose(res.traces["nodes.theta"], ref, rtol=1e-12, atol=1e-12)


def test_delayed_leader_follower_phase_lag():
    """Node 0 drives node 1 through a 12 ms delay: the locked lag is w0 d + asin((w0-w1)/G)."""
    w0, w1, G, d = 0.05, 0.045, 0.01, 12.0  # rad/ms, rad/ms, rad/ms, ms
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    with jax.enable_x64(True):
        m = ns.rates.Kuramoto(2, omega=[w0, w1], init={"theta": 0.0})
        cpl = ns.rates.KuramotoCoupling(W, G=G, delays=d * W)
        res = ns.rates.simulate(m, cpl, 3000.0, 0.1, key=jax.random.key(0), every=100)
    lag = res.traces["nodes.theta"][-1, 0] - res.traces["nodes.theta"][-1, 1]
    expected = w0 * d + np.arcsin((w0 - w1) / G)
    # Node 0 advances exactly (w0 dt per step); the locked state of the discrete map has the
    # same lag as the ODE; convergence at rate G cos(lag) over 3 s leaves < 1e-10.
    np.testing.assert_allclose(np.angle(np.exp(1j * (lag - expected))), 0.0, atol=1e-8)
    # Without the delay the lag is the arcsine alone.
    with jax.enable_x64(True):
        res0 = ns.rates.simulate(
            m, ns.rates.KuramotoCoupling(W, G=G), 3000.0, 0.1, key=jax.random.key(0), every=100
        )
    lag0 = res0.traces["nodes.theta"][-1, 0] - res0.traces["nodes.theta"][-1, 1]
    np.testing.assert_allclose(lag0, np.arcsin((w0 - w1) / G), atol=1e-8)


def _ww_net(delays=True):
    W = np.array([[0.0, 0.6, 0.2], [0.6, 0.0, 0.9], [0.2, 0.9, 0.0]])
    D = np.array([[0.0, 3.0, 5.0], [3.0, 0.0, 1.0], [5.0, 1.0, 0.0]]) if delays else None
    return ns.rates.ReducedWongWangEI(3), ns.rates.LinearCoupling(W, G=0.5, delays=D)


def test_chunks_and_continuation_do_not_change_the_result():
    m, cpl = _ww_net()
    noise = ns.rates.AdditiveNoise({"S_e": 0.002, "S_i": np.array([0.001, 0.0, 0.003])})
    kw = dict(key=jax.random.key(3), noise=noise, every=4)
    one = ns.rates.simulate(m, cpl, 40.0, 0.1, **kw)
    many = ns.rates.simulate(m, cpl, 40.0, 0.1, chunk_steps=36, **kw)
    np.testing.assert_allclose(
        one.traces["nodes.S_e"], many.traces["nodes.S_e"], rtol=1e-6, atol=1e-7
    )
    t_one, t_many = one.trace_times["nodes.S_e"], many.trace_times["nodes.S_e"]
    np.testing.assert_allclose(t_one, t_many)
    np.testing.assert_allclose(t_one[:2], [0.4, 0.8])
    assert one.traces["nodes.S_e"].shape == (100, 3)
    first = ns.rates.simulate(m, cpl, 24.0, 0.1, chunk_steps=36, **kw)
    second = ns.rates.simulate(m, cpl, 16.0, 0.1, chunk_steps=36, state=first.final_state, **kw)
    joined = np.concatenate([first.traces["nodes.S_i"], second.traces["nodes.S_i"]])
    np.testing.assert_allclose(joined, one.traces["nodes.S_i"], rtol=1e-6, atol=1e-7)
    times = [r.trace_times["nodes.S_i"] for r in (first, second)]
    np.testing.assert_allclose(np.concatenate(times), one.trace_times["nodes.S_i"])
    # the noise is really there (sigma = 0 is the same executable: no recompilation)
    silent = ns.rates.AdditiveNoise({"S_e": 0.0, "S_i": np.zeros(3)})
    quiet = ns.rates.simulate(m, cpl, 40.0, 0.1, key=jax.random.key(3), every=4, noise=silent)
    assert np.max(np.abs(quiet.traces["nodes.S_e"] - one.traces["nodes.S_e"])) > 1e-3


def test_run_and_simulate_agree_and_record_observables():
    m, cpl = _ww_net()
    key = jax.random.key(7)
    res = ns.rates.simulate(m, cpl, 20.0, 0.1, key=key, record=["S_e", "r_e"])
    k_init, k_run = jax.random.split(key)
    s0 = ns.rates.init_state(m, cpl, k_init, 0.1)
    _, tr = ns.rates.run(m, cpl, s0, 200, 0.1, key=k_run, record=["S_e", "r_e"])
    np.testing.assert_allclose(
        res.traces["nodes.S_e"], np.asarray(tr.traces["nodes.S_e"]), rtol=1e-6
    )
    np.testing.assert_allclose(
        res.traces["nodes.r_e"], np.asarray(tr.traces["nodes.r_e"]), rtol=1e-5
    )
    assert res.traces["nodes.r_e"].shape == (200, 3)
    # r_e includes the delayed long-range input c_i(t) = G sum_j W_ij S_e,j(t - d_ij).
    S = res.traces["nodes.S_e"]
    k = S.shape[0] - 1  # last sample: step 200
    lag = np.round(np.asarray(cpl.delays) / 0.1).astype(int)
    c = 0.5 * np.sum(np.asarray(cpl.weights) * S[k - lag, np.arange(3)[None, :]], axis=1)
    np.testing.assert_allclose(np.asarray(res.final_state.node_input[0]), c, rtol=1e-5)
    obs = m.observables(res.final_state.nodes[0], res.final_state.node_input[0])
    np.testing.assert_allclose(res.traces["nodes.r_e"][-1], np.asarray(obs["r_e"]), rtol=1e-6)


def test_changing_parameters_does_not_retrace():
    m, cpl = _ww_net()
    ns.rates.simulate(m, cpl, 5.0, 0.1, key=jax.random.key(0))
    before = _simulate._TRACE_COUNT[0]
    m2 = eqx.tree_at(lambda x: x.I_o, m, m.I_o * 1.1)
    cpl2 = eqx.tree_at(lambda c: c.G, cpl, jnp.asarray(0.9))
    d2 = jnp.where(cpl.delays == 1.0, 2.0, cpl.delays)  # same longest delay: same ring
    cpl2 = eqx.tree_at(lambda c: c.delays, cpl2, d2)
    res = ns.rates.simulate(m2, cpl2, 5.0, 0.1, key=jax.random.key(0))
    assert res.compile_s == 0.0
    assert _simulate._TRACE_COUNT[0] == before


def test_nonfinite_state_is_reported_with_step_and_node():
    m = ns.rates.StuartLandau(
        4, a=0.1, omega=0.1, init={"x": np.array([0.1, 0.1, 30.0, 0.1]), "y": 0.0}
    )
    with pytest.raises(ns.SimulationError, match=r"node 2 .*step \d+ .*in x") as err:
        ns.rates.simulate(m, None, 50.0, 0.5, key=jax.random.key(0), chunk_steps=20)
    res = err.value.result
    assert res.status == "fault" and np.all(np.isfinite(res.traces["nodes.x"]))
    assert res.n_steps < 100
    with pytest.warns(RuntimeWarning, match="node 2"):
        r2 = ns.rates.simulate(m, None, 50.0, 0.5, key=jax.random.key(0), on_fault="return")
    assert r2.status == "fault"


def test_gradients_match_finite_differences():
    """d(loss)/d(G, I_o, delays-fixed) through 20 Heun steps with delays and noise (float64)."""
    with jax.enable_x64(True):
        m, cpl = _ww_net()
        noise = ns.rates.AdditiveNoise({"S_e": 0.01})
        dt = 1.0
        s0 = ns.rates.init_state(
            m, cpl, jax.random.key(0), dt, nodes={"S_e": [0.1, 0.3, 0.5], "S_i": 0.05}
        )

        def loss(G, I_o):
            c = eqx.tree_at(lambda c: c.G, cpl, G)
            mm = eqx.tree_at(lambda x: x.I_o, m, jnp.broadcast_to(I_o, (3,)))
            _, tr = ns.rates.run(mm, c, s0, 20, dt, key=jax.random.key(1), noise=noise,
                                 record=["S_e", "r_e"])  # fmt: skip
            return jnp.mean(tr.traces["nodes.S_e"] ** 2) + 1e-3 * jnp.mean(tr.traces["nodes.r_e"])

        x = (jnp.asarray(0.7), jnp.asarray(0.35))
        vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))  # one compilation for all
        _, g = vg(*x)
        for i, h in ((0, 1e-5), (1, 1e-6)):
            xp, xm = list(x), list(x)
            xp[i], xm[i] = x[i] + h, x[i] - h
            fd = (vg(*xp)[0] - vg(*xm)[0]) / (2 * h)
            # central differences: truncation O(h^2) and rounding ~1e-16/h, both << 1e-6
            np.testing.assert_allclose(float(g[i]), float(fd), rtol=1e-6)
            assert abs(float(g[i])) > 0


def test_bad_arguments():
    m, cpl = _ww_net()
    with pytest.raises(ValueError, match="model has 2 nodes"):
        ns.rates.simulate(ns.rates.ReducedWongWangEI(2), cpl, 10.0, 0.1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="delays must be >= 0"):
        ns.rates.LinearCoupling(np.ones((2, 2)), delays=-np.ones((2, 2)))
    with pytest.raises(ValueError, match="square"):
        ns.rates.LinearCoupling(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot record 'v'"):
        ns.rates.simulate(m, cpl, 10.0, 0.1, key=jax.random.key(0), record=["v"])
    with pytest.raises(ValueError, match="unknown state variables"):
        ns.rates.simulate(m, cpl, 10.0, 0.1, key=jax.random.key(0),
                          noise=ns.rates.AdditiveNoise({"S": 0.1}))  # fmt: skip
    with pytest.raises(ValueError, match="sigma\\['S_e'\\] must be >= 0"):
        ns.rates.AdditiveNoise({"S_e": -1.0})
    with pytest.raises(ValueError, match="duration must be > 0"):
        ns.rates.simulate(m, cpl, -1.0, 0.1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="every"):
        ns.rates.simulate(m, cpl, 1.0, 0.1, key=jax.random.key(0), every=0)
    s = ns.rates.init_state(m, cpl, jax.random.key(0), dt=0.1)
    with pytest.raises(ValueError, match="history"):
        ns.rates.simulate(m, cpl, 1.0, 0.05, key=jax.random.key(0), state=s)


@pytest.mark.parametrize(
    "coupling_cls",
    [ns.rates.LinearCoupling, ns.rates.DifferenceCoupling, ns.rates.KuramotoCoupling],
)
def test_zero_delays_use_the_same_coupling_as_no_delays(coupling_cls):
    """The ring-buffer path with all delays 0 equals the instantaneous fast path."""
    W = np.array([[0.0, 1.0, 0.5], [0.7, 0.0, 0.0], [0.2, 1.3, 0.4]])
    y = jnp.asarray(np.random.default_rng(0).standard_normal((3, 2)))  # (n, k) outputs
    with_ring = coupling_cls(W, G=0.7, delays=np.zeros((3, 3)))
    plain = coupling_cls(W, G=0.7)
    hist = jnp.stack([y * 0.0 + 9.0, y])  # slot 1 holds the present (step 1)
    np.testing.assert_allclose(
        np.asarray(with_ring(y, hist, jnp.asarray(1), 0.1)), np.asarray(plain(y)), rtol=1e-6
    )
    expected = {
        ns.rates.LinearCoupling: 0.7 * W @ np.asarray(y),
        ns.rates.DifferenceCoupling: 0.7 * (W @ np.asarray(y) - W.sum(1)[:, None] * np.asarray(y)),
        ns.rates.KuramotoCoupling: 0.7
        * np.sum(W[:, :, None] * np.sin(np.asarray(y)[None] - np.asarray(y)[:, None]), axis=1),
    }[coupling_cls]
    np.testing.assert_allclose(np.asarray(plain(y)), expected, rtol=1e-5, atol=1e-6)


def test_hopf_network_with_delayed_difference_coupling_runs():
    """(n, 2) outputs through the delay ring: two identical nodes stay in phase."""
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    m = ns.rates.StuartLandau(2, a=0.01, omega=0.1, init={"x": [0.1, 0.1], "y": [0.0, 0.0]})
    cpl = ns.rates.DifferenceCoupling(W, G=0.05, delays=2.0 * W)
    res = ns.rates.simulate(m, cpl, 200.0, 0.1, key=jax.random.key(0), every=10)
    assert res.final_state.node_history[0].shape == (21, 2, 2)
    np.testing.assert_allclose(res.traces["nodes.x"][:, 0], res.traces["nodes.x"][:, 1], atol=1e-6)
