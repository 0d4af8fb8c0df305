"""ns.dynamics: fixed points, stability, phase planes, continuation, limit cycles, slow points.

Every check is against a closed form (or numpy's eigen-decomposition of a known matrix). The
closed-form bifurcation checks run in float64 (``jax.enable_x64`` inside the fixtures), so
their tolerances come from the corrector / bisection tolerance (``1000 eps`` relative, about
2e-13) and are stated with ample margin as 1e-8 relative; float32 checks use ``~100 eps``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import dynamics as dyn
from neurosim.dynamics._arclength import bialternate

BOX_FHN = [(-3.0, 3.0), (-3.0, 3.0)]


def _linear(x, p):
    return p["A"] @ x + p["b"]


# ---------------------------------------------------------------- classification (linear)


def test_linear_systems_fixed_point_eigenvalues_and_class():
    """``dx/dt = A x + b``: one fixed point ``-A^{-1} b`` whose eigenvalues are those of A."""
    cases = {
        "stable node": [[-1.0, 0.0], [0.0, -3.0]],
        "unstable node": [[2.0, 1.0], [0.0, 0.5]],
        "saddle": [[1.0, 0.0], [0.0, -2.0]],
        "stable focus": [[-0.5, -2.0], [2.0, -0.5]],
        "unstable focus": [[0.3, 1.0], [-1.0, 0.3]],
        "centre": [[0.0, 1.5], [-1.5, 0.0]],
    }
    b = jnp.array([0.3, -0.2])
    lin = dyn.from_function(_linear, ("x", "y"), {"A": jnp.eye(2), "b": b})
    for kind, A in cases.items():
        A = np.asarray(A)
        fp = dyn.fixed_points(lin, [(-2, 2), (-2, 2)], {"A": A}, n_grid=3)
        assert fp.kind == (kind,), (kind, fp)
        np.testing.assert_allclose(fp.x[0], -np.linalg.solve(A, b), rtol=1e-5, atol=1e-6)
        ref = np.sort_complex(np.linalg.eigvals(A))
        np.testing.assert_allclose(np.sort_complex(fp.eigenvalues[0]), ref, atol=1e-5)


def test_classify_closed_forms_and_degenerate():
    assert dyn.classify([-1.0]) == "stable node" and dyn.classify([2.0]) == "unstable node"
    assert dyn.classify([0.0, -1.0]) == "degenerate"
    assert dyn.classify([-1 + 1j, -1 - 1j, 0.5]) == "saddle"
    assert dyn.classify([-1 + 1j, -1 - 1j, -0.5]) == "stable focus"
    assert dyn.classify([1j, -1j, -1.0]) == "degenerate"  # not a planar centre


def test_bialternate_product_eigenvalues_are_pairwise_sums():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    lam = np.linalg.eigvals(A)
    pairs = np.sort_complex([lam[i] + lam[j] for i in range(4) for j in range(i)])
    got = np.sort_complex(np.linalg.eigvals(np.asarray(bialternate(jnp.asarray(A)))))
    np.testing.assert_allclose(got, pairs, atol=1e-5)


@pytest.mark.slow
def test_one_compile_serves_parameter_values_and_grids():
    traces = []

    def f(x, p):
        traces.append(1)
        return p["A"] @ x + p["b"]

    lin = dyn.from_function(f, ("x", "y"), {"A": -jnp.eye(2), "b": jnp.zeros(2)})
    dyn.fixed_points(lin, [(-1, 1), (-1, 1)], {"b": jnp.array([0.1, 0.0])}, n_grid=3)
    n = len(traces)
    fp = dyn.fixed_points(lin, [(-1, 1), (-1, 1)], {"b": jnp.array([0.5, -0.2])}, n_grid=3)
    assert len(traces) == n  # new values, same compiled function
    np.testing.assert_allclose(fp.x[0], [0.5, -0.2], rtol=1e-6)
    sweep = dyn.fixed_points_sweep(lin, [(-1, 1), (-1, 1)], "b", [[0.1, 0.2], [0.3, 0.4]], n_grid=3)
    m = len(traces)
    dyn.fixed_points_sweep(lin, [(-1, 1), (-1, 1)], "b", [[0.0, 0.2], [0.9, 0.4]], n_grid=3)
    assert len(traces) == m
    np.testing.assert_allclose([s.x[0] for s in sweep], [[0.1, 0.2], [0.3, 0.4]], rtol=1e-6)


# ---------------------------------------------------------------- 1-D: LIF


def test_lif_fixed_point_and_eigenvalue():
    """LIF: ``v* = e_l + I / g_l``, eigenvalue ``-1 / tau_m``."""
    lif = ns.neurons.LIF(1, tau_m=20.0, g_l=10.0, e_l=-65.0)
    s = dyn.system(lif)
    assert s.names == ("v",)
    fp = dyn.fixed_points(s, [(-120.0, 0.0)], {"i_ext": 120.0})
    assert fp.kind == ("stable node",)
    np.testing.assert_allclose(fp.x[0, 0], -65.0 + 120.0 / 10.0, rtol=1e-6)
    np.testing.assert_allclose(fp.eigenvalues[0, 0].real, -1.0 / 20.0, rtol=1e-5)


# ---------------------------------------------------------------- FitzHugh-Nagumo (float64)


@pytest.fixture(scope="module")
def fhn64():
    """FHN in float64: a fixed-point sweep over I and the branch in I (shared compiles)."""
    with jax.enable_x64(True):
        s = dyn.system(ns.neurons.FitzHughNagumo(1))
        values = np.array([0.0, 0.5, 1.0, 1.5])
        sweep = dyn.fixed_points_sweep(s, BOX_FHN, "i_ext", values)
        br = dyn.continuation(s, "i_ext", [-1.2, -0.6], {"i_ext": 0.0}, ds=0.05, n_steps=60,
                              bounds=(-0.5, 2.0))  # fmt: skip
    return s, values, sweep, br


@pytest.mark.slow
def test_fhn_fixed_points_match_the_cubic(fhn64):
    """FHN: ``w* = (v* + a)/b`` and ``v* - v*^3/3 - (v* + a)/b + I = 0``; Jacobian
    ``[[1 - v*^2, -1], [eps, -eps b]]``."""
    _, values, sweep, _ = fhn64
    a, b, eps = 0.7, 0.8, 0.08
    for I, fp in zip(values, sweep, strict=True):
        roots = np.roots([-1.0 / 3.0, 0.0, 1.0 - 1.0 / b, I - a / b])
        v = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
        assert len(fp) == len(v) == 1
        np.testing.assert_allclose(fp.x[0], [v[0], (v[0] + a) / b], rtol=1e-10)
        J = np.array([[1 - v[0] ** 2, -1.0], [eps, -eps * b]])
        np.testing.assert_allclose(np.sort_complex(fp.eigenvalues[0]),
                                   np.sort_complex(np.linalg.eigvals(J)), atol=1e-10)  # fmt: skip
        tr = np.trace(J)
        assert fp.kind[0].startswith("stable" if tr < 0 else "unstable")


@pytest.mark.slow
def test_fhn_hopf_points_match_the_closed_form(fhn64):
    """Hopf where ``trace J = 1 - v*^2 - eps b = 0``: ``v_H = +-sqrt(1 - eps b)`` and
    ``I_H = -(v_H - v_H^3/3 - (v_H + a)/b)`` (det J = eps (b (v^2 - 1) + 1) > 0 there)."""
    _, _, _, br = fhn64
    a, b, eps = 0.7, 0.8, 0.08
    v_h = np.sqrt(1 - eps * b) * np.array([-1.0, 1.0])
    i_h = -(v_h - v_h**3 / 3 - (v_h + a) / b)
    hopf = br.of("hopf")
    assert len(hopf) == 2 and not br.of("fold")
    np.testing.assert_allclose([h.params["i_ext"] for h in hopf], i_h, rtol=1e-8)
    np.testing.assert_allclose([h.x[0] for h in hopf], v_h, rtol=1e-8)
    for h in hopf:  # a purely imaginary pair of frequency sqrt(det J)
        assert np.max(np.abs(h.eigenvalues.real)) < 1e-8
    # stability along the branch: unstable exactly between the Hopf points
    inside = (br.param() > i_h[0]) & (br.param() < i_h[1])
    np.testing.assert_array_equal(~br.stable, inside)
    assert br.status.startswith("left the bounds")


@pytest.mark.slow
def test_fhn_two_parameter_hopf_curve(fhn64):
    """On the Hopf curve in (I, epsilon): ``v^2 = 1 - eps b`` and I from the nullclines."""
    s, _, _, br = fhn64
    with jax.enable_x64(True):
        curve = dyn.two_parameter(s, br.of("hopf")[0], ("i_ext", "epsilon"), ds=0.02,
                                  n_steps=30, bounds={"epsilon": (0.01, 1.0)})  # fmt: skip
    a, b = 0.7, 0.8
    I, eps = curve.values[:, 0], curve.values[:, 1]
    v = curve.x[:, 0]
    assert len(curve) > 10
    np.testing.assert_allclose(v**2, 1 - eps * b, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(I, -(v - v**3 / 3 - (v + a) / b), rtol=1e-8, atol=1e-12)


@pytest.mark.slow
def test_phase_plane_data_and_figure(fhn64, tmp_path):
    s = fhn64[0]
    with jax.enable_x64(True):
        pp = dyn.phase_plane(s, BOX_FHN, {"i_ext": 0.5}, starts=[[0.0, 0.0]], t_max=40.0,
                             dt=0.1, n_nullcline=80)  # fmt: skip
    a, b = 0.7, 0.8
    (vv,) = pp.nullclines["v"][:1]
    np.testing.assert_allclose(vv[:, 1], vv[:, 0] - vv[:, 0] ** 3 / 3 + 0.5, atol=5e-3)
    for seg in pp.nullclines["w"]:  # linear: exact up to the contour's interpolation
        np.testing.assert_allclose(seg[:, 1], (seg[:, 0] + a) / b, atol=1e-9)
    assert pp.fixed_points.kind == ("unstable focus",)
    assert pp.trajectories.shape == (1, 401, 2)
    out = ns.viz.phase_plane(pp, tmp_path / "pp.png")
    assert (tmp_path / "pp.png").stat().st_size > 1000 and out == tmp_path / "pp.png"
    ns.viz.bifurcation(fhn64[3], tmp_path / "bif.png")
    assert (tmp_path / "bif.png").stat().st_size > 1000


# ---------------------------------------------------------------- Izhikevich (float64)


@pytest.mark.slow
def test_izhikevich_fold_and_hopf_closed_forms():
    """``dv/dt = 0.04 v^2 + 5 v + 140 - u + I``, ``du/dt = a (b v - u)`` (c_m = 1 pF).

    Fixed points: ``u = b v`` and ``0.04 v^2 + (5 - b) v + 140 + I = 0``. The two merge
    (saddle-node) where the discriminant ``(5 - b)^2 - 0.16 (140 + I)`` vanishes:
    ``I_SN = (b - 5)^2 / 0.16 - 140`` (= 4 for RS, b = 0.2). The Jacobian
    ``[[0.08 v + 5, -1], [a b, -a]]`` has trace zero at ``v_H = (a - 5) / 0.08`` with
    ``det = a (b - a) > 0``: a Hopf point at ``I_H = -(0.04 v_H^2 + (5 - b) v_H + 140)``
    below the fold.
    """
    a, b = 0.02, 0.2
    with jax.enable_x64(True):
        s = dyn.system(ns.neurons.Izhikevich(1, a=a, b=b))
        assert s.names == ("v", "u")
        fp = dyn.fixed_points(s, [(-90.0, -30.0), (-20.0, 0.0)], {"i_ext": 0.0})
        br = dyn.continuation(s, "i_ext", fp.x[0], {"i_ext": 0.0}, ds=0.2, n_steps=80,
                              box=[(-90.0, -30.0), (-20.0, 0.0)])  # fmt: skip
    disc = np.sqrt((5 - b) ** 2 - 0.16 * 140)
    v_roots = (-(5 - b) + np.array([-disc, disc])) / 0.08
    np.testing.assert_allclose(fp.x[:, 0], v_roots, rtol=1e-10)
    # at v = -70.0: J = [[-0.6, -1], [0.004, -0.02]], trace^2 > 4 det: a stable node
    assert fp.kind == ("stable node", "saddle")
    fold = br.of("fold")
    assert len(fold) == 1
    np.testing.assert_allclose(fold[0].params["i_ext"], (b - 5) ** 2 / 0.16 - 140, rtol=1e-8)
    np.testing.assert_allclose(fold[0].x[0], -(5 - b) / 0.08, rtol=1e-6)  # double root
    v_h = (a - 5) / 0.08
    hopf = br.of("hopf")
    assert len(hopf) == 1
    np.testing.assert_allclose(hopf[0].params["i_ext"], -(0.04 * v_h**2 + (5 - b) * v_h + 140),
                               rtol=1e-8)  # fmt: skip


# ---------------------------------------------------------------- rheobase folds (float64)


def _fold_current(model, box, scale, ds, n_steps):
    s = dyn.system(model)
    fp = dyn.fixed_points(s, box, {"i_ext": 0.0})
    rest = fp.x[np.argmin(fp.x[:, 0])]
    br = dyn.continuation(s, "i_ext", rest, {"i_ext": 0.0}, ds=ds, n_steps=n_steps,
                          box=box, scale=scale)  # fmt: skip
    return br


@pytest.mark.slow
def test_adex_fold_at_the_closed_form_rheobase():
    """AdEx (tonic preset, ``a/g_L < tau_m/tau_w``): the rest state and the saddle merge at
    ``(g_L + a)(V_T - E_L - D_T + D_T ln(1 + a/g_L))`` (``AdEx.rheobase``, Touboul 2008);
    the rest state is stable up to there (no Hopf point first)."""
    with jax.enable_x64(True):
        m = ns.neurons.AdEx.from_presets("tonic")
        br = _fold_current(m, [(-90.0, -35.0), (-100.0, 300.0)], [1.0, 10.0, 10.0], 0.5, 80)
        ref = float(m.rheobase()[0])
    fold = br.of("fold")
    assert len(fold) == 1 and not br.of("hopf"), br.events
    np.testing.assert_allclose(fold[0].params["i_ext"], ref, rtol=1e-6)
    before = br.param() < ref
    assert np.all(br.stable[before & (br.x[:, 0] < fold[0].x[0])])


@pytest.mark.slow
@pytest.mark.parametrize("cls", [ns.neurons.ExpIF, ns.neurons.QIF])
def test_one_dimensional_rheobase_folds(cls):
    """ExpIF: ``g_L (V_T - E_L - D_T)``; QIF: ``k (v_c - v_rest)^2 / 4`` (``rheobase()``)."""
    with jax.enable_x64(True):
        m = cls(1)
        br = _fold_current(m, [(-90.0, -35.0)], [1.0, 10.0], 0.5, 120)
        ref = float(m.rheobase()[0])
    fold = br.of("fold")
    assert len(fold) == 1
    np.testing.assert_allclose(fold[0].params["i_ext"], ref, rtol=1e-6)


# ---------------------------------------------------------------- Stuart-Landau


@pytest.mark.slow
def test_stuart_landau_hopf_and_limit_cycle():
    """``dz/dt = (a + i omega) z - |z|^2 z``: origin with eigenvalues ``a +- i omega``, Hopf at
    ``a = 0``; for ``a > 0`` a stable cycle of radius ``sqrt(a)`` and period ``2 pi/omega``.

    float32: the period and radius come from 1000 RK4 steps per period (local error
    ``(omega h)^5 ~ 1e-13``, far below rounding), so the tolerance is rounding: 1e-4.
    """
    omega = 0.1
    s = dyn.system(ns.rates.StuartLandau(1, omega=omega))
    assert s.names == ("x", "y")
    br = dyn.continuation(s, "a", [0.0, 0.0], {"a": -0.2}, ds=0.02, n_steps=30,
                          bounds=(-0.5, 0.3))  # fmt: skip
    hopf = br.of("hopf")
    assert len(hopf) == 1
    assert abs(hopf[0].params["a"]) < 1e-5
    np.testing.assert_allclose(np.abs(hopf[0].eigenvalues.imag), omega, rtol=1e-4)
    lc = dyn.limit_cycle(s, [0.1, 0.0], {"a": 0.04}, t_transient=300.0, dt=0.1)
    assert lc.converged and lc.stable, lc
    np.testing.assert_allclose(lc.period, 2 * np.pi / omega, rtol=1e-4)
    np.testing.assert_allclose(np.hypot(lc.orbit[:, 0], lc.orbit[:, 1]), 0.2, rtol=1e-4)
    np.testing.assert_allclose(lc.amplitude, 2 * 0.2, rtol=1e-4)
    # the non-trivial Floquet multiplier: radial decay exp(-2 a T)
    np.testing.assert_allclose(np.min(np.abs(lc.multipliers)),
                               np.exp(-2 * 0.04 * lc.period), rtol=1e-3)  # fmt: skip
    still = dyn.limit_cycle(s, [0.1, 0.0], {"a": -0.1}, t_transient=300.0, dt=0.1)
    assert still.status == "no oscillation" and np.isnan(still.period)


# ---------------------------------------------------------------- slow points


def test_slow_points_of_linear_rnns():
    """``dx/dt = -x + W x``: with ``W`` symmetric of eigenvalues (1, 0.5, -1) the fixed points
    are the null space of ``W - I`` (a line attractor along the eigenvector of 1); with all
    eigenvalues below 1 only the origin."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    W_line = Q @ np.diag([1.0, 0.5, -1.0]) @ Q.T
    rnn = dyn.from_function(lambda x, p: -x + p["W"] @ x, ("h0", "h1", "h2"), {"W": W_line})
    starts = rng.normal(size=(16, 3))
    sp = dyn.slow_points(rnn, starts, tol=1e-10, dedup_tol=1e-6)
    assert sp.x.shape[0] == 16  # every start lands on the line, at its own point
    P = np.eye(3) - np.outer(Q[:, 0], Q[:, 0])
    assert np.max(np.abs(sp.x @ P)) < 1e-5
    # linearisation: eigenvalues of W - I = (0, -0.5, -2)
    np.testing.assert_allclose(np.sort(sp.eigenvalues.real, axis=1),
                               np.tile([-2.0, -0.5, 0.0], (16, 1)), atol=1e-5)  # fmt: skip
    assert set(sp.kind) == {"degenerate"}
    W_c = Q @ np.diag([0.9, 0.5, -1.0]) @ Q.T
    sp = dyn.slow_points(rnn, starts, {"W": W_c}, tol=1e-10)
    assert sp.x.shape[0] == 1 and np.max(np.abs(sp.x)) < 1e-5
    assert sp.kind == ("stable node",)


def test_step_map_fixed_points_and_multipliers():
    """A linear map ``h -> M h + c``: fixed point ``(I - M)^{-1} c``, multipliers eig(M)."""
    M = jnp.array([[0.5, 0.2], [-0.1, 0.8]])
    c = jnp.array([1.0, -0.5])
    m = dyn.step_map(lambda s, p: {"h": M @ s["h"] + c, "k": s["k"]},
                     {"h": jnp.zeros(2), "k": jnp.zeros((), jnp.int32)}, dt=0.5)  # fmt: skip
    sp = dyn.slow_points(m, [[0.0, 0.0], [3.0, 3.0]], tol=1e-10)
    np.testing.assert_allclose(sp.x[0], np.linalg.solve(np.eye(2) - M, c), rtol=1e-5)
    ref = np.sort_complex(np.linalg.eigvals(np.asarray(M)))
    np.testing.assert_allclose(np.sort_complex(sp.multipliers[0]), ref, atol=1e-5)


# ---------------------------------------------------------------- adapters and bad input


@pytest.mark.slow
def test_continuation_without_a_fixed_point_is_an_error_and_bounds_a_status():
    """``dx/dt = x^2 + c``: no fixed point for ``c > 0`` (the corrector cannot converge); for
    ``c < 0`` the branch ``x = -sqrt(-c)`` folds at ``c = 0`` and then leaves the box."""
    sq = dyn.from_function(lambda x, p: x**2 + p["c"], ("x",), {"c": 1.0})
    with pytest.raises(ValueError, match="no fixed point found near x0"):
        dyn.continuation(sq, "c", [0.5], ds=0.05, n_steps=20)
    br = dyn.continuation(sq, "c", [-1.0], {"c": -1.0}, ds=0.1, n_steps=20, box=[(-2.0, 0.5)])
    assert br.status.startswith("left the bounds")
    (fold,) = br.of("fold")
    assert abs(fold.params["c"]) < 1e-5 and abs(fold.x[0]) < 3e-3  # |x| ~ sqrt(|c| error)
    np.testing.assert_array_equal(br.stable, br.x[:, 0] < 0)


def test_adapters_follow_the_models_vector_fields():
    adex = ns.neurons.AdEx(1)
    s = dyn.system(adex, i_ext=200.0)
    assert s.names == ("v", "w") and {"a", "tau_w", "i_ext"} <= set(s.defaults)
    y = {"v": jnp.array([-60.0]), "w": jnp.array([30.0])}
    ref = adex.vector_field(y, ns.neurons.SynapticDrive.zeros(1), 200.0, jnp.array([False]))
    np.testing.assert_allclose(s([-60.0, 30.0]), [ref["v"][0], ref["w"][0]], rtol=1e-6)
    # V only, w frozen (a parameter), a changed parameter
    sv = dyn.system(adex, free="v", frozen={"w": 30.0})
    got = sv([-60.0], {"i_ext": 200.0, "g_l": 20.0})
    ref = ns.neurons.AdEx(1, g_l=20.0).vector_field(y, ns.neurons.SynapticDrive.zeros(1),
                                                    200.0, jnp.array([False]))  # fmt: skip
    np.testing.assert_allclose(got, [ref["v"][0]], rtol=1e-6)
    # a coupled network: x = (E[0], E[1], I[0], I[1]); c_i = G sum_j W_ij E_j
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    wc = ns.rates.WilsonCowan(2)
    net = dyn.system(wc, ns.rates.LinearCoupling(W, G=0.5))
    assert net.names == ("E[0]", "E[1]", "I[0]", "I[1]")
    x = np.array([0.1, 0.2, 0.05, 0.07])
    st = {"E": jnp.array(x[:2]), "I": jnp.array(x[2:])}
    ref = wc.vector_field(st, 0.5 * W @ x[:2])
    np.testing.assert_allclose(net(x, {"G": 0.5}), np.concatenate([ref["E"], ref["I"]]),
                               rtol=1e-6)  # fmt: skip
    jr = dyn.system(ns.rates.JansenRit(1))
    assert jr.dim == 6


def test_bad_input_is_rejected_with_the_fix():
    hr = dyn.system(ns.neurons.HindmarshRose(1))
    with pytest.raises(ValueError, match="phase plane needs a 2-D system"):
        dyn.phase_plane(hr, [(-2, 2)] * 3)
    fhn = dyn.system(ns.neurons.FitzHughNagumo(1))
    with pytest.raises(ValueError, match="unknown parameters"):
        fhn([0.0, 0.0], {"I": 1.0})
    with pytest.raises(ValueError, match="box must give"):
        dyn.fixed_points(fhn, [(-1, 1)])
    with pytest.raises(ValueError, match="lo < hi"):
        dyn.fixed_points(fhn, [(1, -1), (0, 1)])
    with pytest.raises(ValueError, match="free="):
        dyn.system(ns.neurons.AdEx(1), free=("v", "q"))
    with pytest.raises(ValueError, match="frozen="):
        dyn.system(ns.neurons.AdEx(1), frozen={"v": 1.0})
    with pytest.raises(ValueError, match="unit must be"):
        dyn.system(ns.neurons.AdEx(2), unit=2)
    with pytest.raises(ValueError, match="scalar parameter"):
        dyn.continuation(fhn, "nope", [0.0, 0.0])
    with pytest.raises(ValueError, match="fun must return"):
        dyn.from_function(lambda x, p: x[:1], ("a", "b"))


# ---------------------------------------------------------------- Morris-Lecar classes


def _ml_steady_current(v, g_ca, v3, v4):
    """Reference (numpy): the current holding ``v`` at rest, ``I_ss(v)`` (w = w_inf(v))."""
    m_inf = 0.5 * (1 + np.tanh((v + 1.2) / 18.0))
    w_inf = 0.5 * (1 + np.tanh((v - v3) / v4))
    return g_ca * m_inf * (v - 120.0) + 8.0 * w_inf * (v + 84.0) + 2.0 * (v + 60.0)


@pytest.mark.slow
def test_morris_lecar_class_one_fold_and_class_two_hopf():
    """Rinzel & Ermentrout (1989): with the "snic" set the rest state disappears in a
    saddle-node (class I), at the local maximum of the steady-state I-V curve ``I_ss(v)``;
    with the "hopf" set it loses stability in a Hopf bifurcation first (class II)."""
    box = [(-80.0, 40.0), (-0.1, 1.1)]
    res = {}
    with jax.enable_x64(True):
        for name in ("snic", "hopf"):
            s = dyn.system(ns.neurons.MorrisLecar.from_set(name))
            fp = dyn.fixed_points(s, box, {"i_ext": 0.0})
            res[name] = dyn.continuation(s, "i_ext", fp.x[0], {"i_ext": 0.0}, ds=1.0,
                                         n_steps=150, box=box, scale=[1.0, 0.01, 1.0],
                                         bounds=(-10.0, 150.0))  # fmt: skip
    snic, hopf = res["snic"], res["hopf"]
    assert snic.events[0].kind == "fold"
    v = np.linspace(-60.0, -20.0, 400001)
    i_ss = _ml_steady_current(v, 4.0, 12.0, 17.4)
    k = np.argmax(i_ss)
    np.testing.assert_allclose(snic.events[0].params["i_ext"], i_ss[k], rtol=1e-6)
    np.testing.assert_allclose(snic.events[0].x[0], v[k], atol=1e-3)
    assert np.all(snic.stable[: snic.events[0].index + 1])
    assert hopf.events[0].kind == "hopf"
    assert np.all(hopf.stable[: hopf.events[0].index + 1])
