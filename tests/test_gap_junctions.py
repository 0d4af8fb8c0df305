"""Gap junctions: two coupled passive cells relax in their common/difference modes; symmetry."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT, TAU_M, G_L, E_L = 0.1, 20.0, 10.0, -65.0
C_M = TAU_M * G_L


def _passive(n, v_init):
    return ns.neurons.LIF(n, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=1e3, v_init=v_init)


def test_two_coupled_cells_relax_in_closed_form_modes():
    """Group "B" (2 cells) is coupled by g; group "A" (2 cells) is not and must stay uncoupled.

    Continuous modes (identical cells, u = v - E_L): the mean decays with tau_m, the
    difference with C / (g_L + 2 g). Scheme: each cell integrates exactly with its partner's
    potential held over the step, so per step the mean is multiplied by
    ``lambda_s = P + (1 - P) r`` and the difference by ``lambda_d = P - (1 - P) r``, with
    ``P = exp(-dt (g_L + g)/C)``, ``r = g/(g_L + g)``; ``|lambda| < 1`` for any g, dt.
    """
    g, n_steps = 5.0, 400
    v0 = np.array([-60.0, -70.0, -55.0, -75.0])
    with jax.enable_x64(True):
        b = ns.NetworkBuilder(key=jax.random.key(0))
        b.add_population("P", _passive(4, v0), groups={"A": 2, "B": 2})
        name = b.gap_junctions("B", np.array([[0.0, g], [g, 0.0]]))
        net = b.build()
        assert name == "gap:B" and "1 gap-junction pairs" in net.summary()
        s0 = net.init_state(jax.random.key(1), DT)
        _, out = ns.run(net, s0, n_steps, DT, key=jax.random.key(2), record=["P.v"])
    v = np.asarray(out.traces["P.v"], np.float64)
    k = np.arange(1, n_steps + 1)
    p_unc = np.exp(-DT / TAU_M)
    np.testing.assert_allclose(v[:, :2], E_L + (v0[:2] - E_L) * p_unc ** k[:, None], atol=1e-10)

    u = v[:, 2:] - E_L
    mean, diff = u.mean(axis=1), u[:, 0] - u[:, 1]
    m0, d0 = (v0[2:] - E_L).mean(), v0[2] - v0[3]
    P = np.exp(-DT * (G_L + g) / C_M)
    r = g / (G_L + g)
    lam_s, lam_d = P + (1 - P) * r, P - (1 - P) * r
    np.testing.assert_allclose(mean, m0 * lam_s**k, rtol=0, atol=1e-10)
    np.testing.assert_allclose(diff, d0 * lam_d**k, rtol=0, atol=1e-10)

    # Against the continuous modes: the per-step factor errs by |lambda - mu| (leading order
    # x^2 r (1+r) / 2 for the difference mode, x = dt (g_L+g)/C), so after k steps by at most
    # k |lambda - mu| max(lambda, mu)^(k-1) (telescoping): a first-order global error.
    t = DT * k
    mu_s, mu_d = np.exp(-DT * G_L / C_M), np.exp(-DT * (G_L + 2 * g) / C_M)
    for sim, a0, lam, mu, rate in (
        (mean, m0, lam_s, mu_s, G_L / C_M),
        (diff, d0, lam_d, mu_d, (G_L + 2 * g) / C_M),
    ):
        bound = abs(a0) * k * abs(lam - mu) * max(lam, mu) ** (k - 1)
        assert np.all(np.abs(sim - a0 * np.exp(-rate * t)) <= bound + 1e-10)
    x = DT * (G_L + g) / C_M
    np.testing.assert_allclose(abs(lam_d - mu_d), x**2 * r * (1 + r) / 2, rtol=0.05)


def test_sampled_junctions_are_symmetric_and_conserve_current():
    n, p, g = 60, 0.1, 0.7
    gj = ns.synapses.GapJunctions.from_connectivity(
        ns.connectivity.FixedProbability(p), n=n, weight=g, key=jax.random.key(3)
    )
    dense = np.asarray(gj.todense())
    np.testing.assert_array_equal(dense, dense.T)
    assert np.all(np.diag(dense) == 0) and set(np.unique(dense)) <= {0.0, np.float32(g)}
    # Each of the n(n-1)/2 pairs is coupled with probability p (binomial, 5 sigma).
    pairs = n * (n - 1) // 2
    assert abs(gj.n_pairs - p * pairs) < 5 * np.sqrt(pairs * p * (1 - p))
    v = jax.random.uniform(jax.random.key(4), (n,), minval=-80.0, maxval=-40.0)
    i_gap = np.asarray(gj.currents(v), np.float64)
    ref = dense @ np.asarray(v, np.float64) - dense.sum(1) * np.asarray(v, np.float64)
    # float32: each current sums ~p n terms of g * |v| ~ 50 pA, rounding ~1e-7 relative.
    np.testing.assert_allclose(i_gap, ref, atol=1e-4)
    assert abs(i_gap.sum()) < n * 1e-4  # symmetric g: the currents cancel (charge conserved)


def test_per_junction_conductances_stay_paired():
    gj = ns.synapses.GapJunctions.from_connectivity(
        ns.connectivity.FixedProbability(0.3),
        n=20,
        weight=ns.init.Uniform(0.1, 1.0),
        key=jax.random.key(5),
    )
    dense = np.asarray(gj.todense())
    np.testing.assert_array_equal(dense, dense.T)
    assert len(np.unique(dense[dense > 0])) == gj.n_pairs  # one draw per pair


def test_gradient_with_respect_to_coupling_matches_finite_difference():
    v0 = np.array([-60.0, -70.0])

    def final_v0(g):
        b = ns.NetworkBuilder()
        b.add_population("P", _passive(2, v0))
        b.gap_junctions("P", np.array([[0.0, 1.0], [1.0, 0.0]]))
        net = b.build()
        net = eqx.tree_at(lambda m: m.gap_junctions[0].junctions.g, net, jnp.full((2,), g))
        s0 = net.init_state(jax.random.key(0), DT)
        st, _ = ns.run(net, s0, 20, DT, key=jax.random.key(1))
        return st.neurons[0]["v"][0]

    with jax.enable_x64(True):
        grad = float(jax.grad(final_v0)(2.0))
        fd = float((final_v0(2.0 + 1e-4) - final_v0(2.0 - 1e-4)) / 2e-4)
    assert grad < 0  # stronger coupling pulls the depolarised cell down
    np.testing.assert_allclose(grad, fd, rtol=1e-5)


def test_invalid_gap_junctions_raise():
    gj = ns.synapses.GapJunctions.from_connectivity
    with pytest.raises(ValueError, match="symmetric"):
        gj(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        gj(np.ones((2, 3)))
    with pytest.raises(ValueError, match=">= 0 nS"):
        gj(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match="weight"):
        gj(ns.connectivity.FixedProbability(0.1), n=10)
    with pytest.raises(ValueError, match="weight"):
        gj(np.zeros((2, 2)), weight=1.0)
    b = ns.NetworkBuilder()
    b.add_population("S", ns.neurons.PoissonSource(4, rate=5.0))
    b.add_population("N", _passive(3, E_L))
    with pytest.raises(ValueError, match="'v'"):
        b.gap_junctions("S", np.zeros((4, 4)))
    with pytest.raises(ValueError, match="size 4"):
        b.gap_junctions("N", np.zeros((4, 4)))
