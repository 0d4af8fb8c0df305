"""Per-neuron Poisson input (any rate, no stored synapses) and PoissonSource saturation checks."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT = 0.1
RATES = np.array([1.0, 10.0, 100.0, 1e3, 1e4, 3e4, 1e5])  # Hz: 1e-4 .. 10 spikes per step


def test_counts_mean_and_variance_1hz_to_100khz():
    """Counts per step have the Poisson mean and variance ``rate dt`` at every rate (one compile).

    ``N`` samples per rate; the sample mean has s.d. ``sqrt(lam/N)`` and the sample variance
    ``sqrt((lam + 2 lam^2)/N)`` (Poisson fourth moment); 5 s.d. bounds (plus one count in N for
    the lowest rate, whose expected total is only ~6 counts).
    """
    n, n_steps = 64, 1000

    def counts(rate):
        src = ns.network.PoissonInput(rate, 1.0).bind(n)
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(3), i))(jnp.arange(n_steps))
        return jax.vmap(lambda i, k: src.step({}, None, i, DT, k)[1])(jnp.arange(n_steps), keys)

    c = np.asarray(jax.jit(jax.vmap(counts))(jnp.asarray(RATES)), np.float64)
    c = c.reshape(len(RATES), -1)
    big_n = c.shape[1]
    lam = RATES * DT * 1e-3
    assert np.all(c == np.round(c)) and np.all(c >= 0)
    mean, var = c.mean(axis=1), c.var(axis=1, ddof=1)
    assert np.all(np.abs(mean - lam) <= 5 * np.sqrt(lam / big_n) + 1.0 / big_n), (mean, lam)
    assert np.all(np.abs(var - lam) <= 5 * np.sqrt((lam + 2 * lam**2) / big_n) + 1.0 / big_n)
    assert c[-1].max() > 1  # no saturation at one spike per step: many counts above 1
    assert mean[-1] > 9.5  # 100 kHz at dt = 0.1 ms: 10 spikes per step on average


def test_network_receptor_mean_and_per_neuron_rates():
    """Through the builder: the receptor's stationary mean is ``w lam / (1 - e^{-dt/tau})``.

    Half the target group gets 20 kHz, the other half 0 Hz (per-neuron rate array); the
    stationary AR(1) ``g_{k+1} = rho g_k + w K_k`` (``rho = e^{-dt/tau}``) has variance
    ``w^2 lam / (1 - rho^2)``; the mean over ``T`` correlated samples and ``n`` neurons has
    variance ``var (1 + rho)/(1 - rho) / (T n)``; 5 s.d. bound.
    """
    n, tau, w, rate = 32, 2.0, 3.0, 2e4
    b = ns.NetworkBuilder(key=jax.random.key(0))
    lif = ns.neurons.LIF(n + 8, v_th=1e3)  # never fires
    b.add_population("P", lif, groups={"A": n, "B": 8})
    rates = np.concatenate([np.full(n // 2, rate), np.zeros(n // 2)])
    name = b.add_poisson_input("A", rate_hz=rates, weight=w, synapse=ns.synapses.Exponential(tau))
    assert name == "poisson0->A"
    net = b.build()
    n_steps, burn = 300, 150  # burn-in 15 ms = 7.5 tau: transient below 6e-4 of the mean
    _, out = ns.run(
        net,
        net.init_state(jax.random.key(1), DT),
        n_steps,
        DT,
        key=jax.random.key(2),
        record=["P.syn0.g"],
    )
    g = np.asarray(out.traces["P.syn0.g"], np.float64)
    assert np.all(g[:, n // 2 :] == 0)  # zero-rate half and group B: no input
    rho, lam = np.exp(-DT / tau), rate * DT * 1e-3
    mean_ref = w * lam / (1 - rho)
    var_g = w**2 * lam / (1 - rho**2)
    samples = g[burn:, : n // 2]
    sd = np.sqrt(var_g * (1 + rho) / (1 - rho) / samples.size)
    assert abs(samples.mean() - mean_ref) < 5 * sd, (samples.mean(), mean_ref, sd)


def test_gradients_weight_exact_rate_straight_through():
    src = ns.network.PoissonInput(5e3, 2.0).bind(16)
    key = jax.random.key(0)

    def total(rate, weight):
        return jnp.sum(ns.network.PoissonInput(rate, weight).bind(16).step({}, None, 0, DT, key)[1])

    counts = np.asarray(src.step({}, None, 0, DT, key)[1]) / 2.0
    g_rate, g_w = jax.grad(total, argnums=(0, 1))(5e3, 2.0)
    np.testing.assert_allclose(g_w, counts.sum(), rtol=1e-6)  # d/dw of w * sum(K)
    np.testing.assert_allclose(g_rate, 16 * 2.0 * DT * 1e-3, rtol=1e-6)  # d mean / d rate


def test_builder_errors():
    b = ns.NetworkBuilder()
    b.add_population("P", ns.neurons.LIF(4))
    b.add_population("S", ns.neurons.PoissonSource(4, rate=5.0))
    with pytest.raises(ValueError, match="synapse= .* or receptor="):
        b.add_poisson_input("P", rate_hz=1e3, weight=1.0)
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        b.add_poisson_input("P", rate_hz=np.ones(3), weight=1.0, synapse=ns.synapses.Delta())
    with pytest.raises(ValueError, match="spike source"):
        b.add_poisson_input("S", rate_hz=1e3, weight=1.0, synapse=ns.synapses.Delta())
    with pytest.raises(ValueError, match="rate_hz must be >= 0"):
        b.add_poisson_input("P", rate_hz=-1.0, weight=1.0, synapse=ns.synapses.Delta())
    # feeding an existing receptor by name
    b.connect(
        "S",
        "P",
        ns.connectivity.AllToAll(),
        weight=1.0,
        synapse=ns.synapses.Exponential(2.0),
        receptor="exc",
    )
    b.add_poisson_input("P", rate_hz=1e4, weight=0.5, receptor="exc")
    net = b.build()
    assert [r.name for r in net.populations[0].receptors] == ["exc"]
    assert net.poisson_inputs[0].receptor == 0


def test_poisson_source_refuses_saturating_rates():
    src = ns.neurons.PoissonSource(3, rate=2e4)
    with pytest.raises(ValueError, match=r"20000 Hz exceeds 1/dt = 10000 Hz.*add_poisson_input"):
        src.init(None, 0.1)
    with pytest.warns(UserWarning, match="20%"):  # 20 % of 1/dt at dt = 0.01 ms: allowed
        src.init(None, 0.01)
    with pytest.warns(UserWarning, match="1/dt = 10000 Hz.*add_poisson_input"):
        ns.neurons.PoissonSource(3, rate=2e3).init(None, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ns.neurons.PoissonSource(3, rate=100.0).init(None, 0.1)  # 1 %: silent
