"""Every event-delivery backend and format against the dense reference.

Formats: CSR and ELL, homogeneous and per-synapse weights (with empty rows and padding).
Backends: ffi (compiled kernel), loop, compact (tiny capacities force several blocks),
reference, dense, auto. Integer-valued weights and 0/1 spikes give integer sums, which float32
represents exactly in any order, so those comparisons are bitwise; float weights are compared
with a tolerance of a few float32 ulps times the number of terms.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.ops import _build

N_PRE, N_POST = 40, 33
BACKENDS = ["ffi", "loop", "compact", "reference", "dense", "auto"]
RTOL = 1e-5  # float32: ~8 ulp relative, sums of <= 40 terms of O(1)
ATOL = 1e-5


def _edges(seed, p=0.25):
    rng = np.random.default_rng(seed)
    mask = rng.random((N_PRE, N_POST)) < p
    mask[5] = False  # an empty row
    mask[7] = True  # a full row (the longest: sets the padding width)
    pre, post = np.nonzero(mask)
    return pre, post, rng


@pytest.fixture(scope="module")
def mats():
    """name -> (connectivity, dense float64 matrix)."""
    pre, post, rng = _edges(0)
    w_int = rng.integers(-3, 4, size=pre.size).astype(np.float32)
    w_float = rng.normal(0.5, 1.0, size=pre.size).astype(np.float32)
    out = {}
    for wname, w in (("hom", 2.0), ("int", w_int), ("float", w_float)):
        csr = ns.connectivity.from_edges(pre, post, w, N_PRE, N_POST)
        dense = np.asarray(csr.todense(), np.float64)
        out[f"csr-{wname}"] = (csr, dense)
        out[f"ell-{wname}"] = (csr.to_ell(), dense)
    return out


def _spikes(seed, n=6, p=0.3, graded=False):
    rng = np.random.default_rng(seed)
    s = (rng.random((n, N_PRE)) < p).astype(np.float32)
    s[0] = 0.0  # no spike at all
    s[1] = 1.0  # every neuron spikes (more than any small capacity)
    if graded:
        s = s * rng.uniform(0.25, 2.0, size=s.shape).astype(np.float32)
    return s


def _run(conn, spikes, backend, capacity=None):
    """One compiled function per (format, backend): lax.map keeps the unbatched kernel path."""
    f = jax.jit(
        lambda c, S: jax.lax.map(
            lambda s: ns.ops.event_matvec(c, s, backend=backend, capacity=capacity), S
        )
    )
    return np.asarray(f(conn, jnp.asarray(spikes)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["csr-hom", "csr-int", "ell-hom", "ell-int"])
def test_integer_sums_bitwise(mats, name, backend):
    conn, dense = mats[name]
    s = _spikes(1)
    np.testing.assert_array_equal(_run(conn, s, backend), s @ dense)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["csr-float", "ell-float"])
def test_float_weights_and_graded_spikes_close(mats, name, backend):
    conn, dense = mats[name]
    s = _spikes(2, graded=True)
    np.testing.assert_allclose(_run(conn, s, backend), s @ dense, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("capacity", [1, 3, 7])
@pytest.mark.parametrize("name", ["csr-int", "ell-float"])
def test_compact_never_drops_spikes_with_tiny_capacity(mats, name, capacity):
    conn, dense = mats[name]
    s = _spikes(3, graded=name.endswith("float"))
    assert (s != 0).sum(axis=1).max() > 3 * capacity  # several blocks per vector
    out = _run(conn, s, "compact", capacity)
    np.testing.assert_allclose(out, s @ dense, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("backend", ["ffi", "compact", "loop"])
@pytest.mark.parametrize("name", ["csr-float", "ell-int"])
def test_vmap_is_one_batched_call_equal_to_loop(mats, name, backend):
    conn, dense = mats[name]
    S = jnp.asarray(_spikes(4, n=5, graded=True))
    batched = jax.jit(lambda c, S: ns.ops.event_matmat(c, S, backend=backend))(conn, S)
    looped = _run(conn, S, backend)
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.asarray(batched), np.asarray(S) @ dense, rtol=RTOL, atol=ATOL)


def test_ffi_vmap_lowers_to_a_single_kernel_call(mats):
    conn, _ = mats["csr-float"]
    if not ns.ops.ffi_available():
        pytest.skip("compiled kernels unavailable")
    S = jnp.zeros((4, N_PRE))
    hlo = jax.jit(lambda S: ns.ops.event_matmat(conn, S, backend="ffi")).lower(S).as_text()
    assert hlo.count("neurosim_csr_event") == 1
    assert "while" not in hlo  # not a sequential map


def test_ffi_batched_weights_and_nested_vmap(mats):
    """vmap over weights (and over weights and spikes nested) broadcasts inside the kernel."""
    conn, _ = mats["ell-float"]
    rng = np.random.default_rng(5)
    W = jnp.asarray(rng.normal(size=(3,) + conn.weights.shape).astype(np.float32))
    S = jnp.asarray(_spikes(6, n=2, graded=True))

    def f(w, s, backend):
        return ns.ops.event_matvec(conn.with_weights(w), s, backend=backend)

    for backend in ("ffi", "dense"):
        out = jax.jit(jax.vmap(jax.vmap(f, (None, 0, None)), (0, None, None)), static_argnums=2)(
            W, S, backend
        )
        if backend == "ffi":
            got = np.asarray(out)
        else:
            want = np.asarray(out)
    assert got.shape == (3, 2, N_POST)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("backend", ["ffi", "compact"])
@pytest.mark.parametrize("name", ["csr-float", "ell-float"])
def test_grad_and_jvp_match_dense(mats, name, backend):
    conn, _ = mats[name]
    s = jnp.asarray(_spikes(7)[2])
    c = jax.random.normal(jax.random.key(0), (N_POST,))
    w0 = conn.weights

    def loss(w, s, b):
        cw = conn.with_weights(w)
        out = ns.ops.event_matvec(cw, s, backend=b) if b != "dense" else s @ cw.todense()
        return jnp.sum(jnp.tanh(out) * c)

    g_fast = jax.jit(jax.grad(loss, argnums=(0, 1)), static_argnums=2)(w0, s, backend)
    g_dense = jax.jit(jax.grad(loss, argnums=(0, 1)), static_argnums=2)(w0, s, "dense")
    for a, b in zip(g_fast, g_dense, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=1e-6)
    # Surrogate-gradient requirement: neurons that did not spike still get a gradient.
    assert np.any(np.asarray(g_fast[1])[np.asarray(s) == 0] != 0)
    ds = jax.random.normal(jax.random.key(1), (N_PRE,))
    _, t = jax.jvp(lambda x: ns.ops.event_matvec(conn, x, backend=backend), (s,), (ds,))
    np.testing.assert_allclose(np.asarray(t), np.asarray(ds @ conn.todense()), rtol=RTOL, atol=ATOL)


def test_float64_kernels():
    with jax.enable_x64(True):
        pre, post, rng = _edges(8)
        w = rng.normal(size=pre.size)
        csr = ns.connectivity.from_edges(pre, post, w, N_PRE, N_POST)
        assert csr.weights.dtype == jnp.float64
        s = _spikes(9, graded=True).astype(np.float64)
        dense = np.asarray(csr.todense())
        for conn in (csr, csr.to_ell()):
            out = _run(conn, s, "ffi")
            assert out.dtype == np.float64
            np.testing.assert_allclose(out, s @ dense, rtol=1e-12, atol=1e-12)


def test_ffi_base_and_scale_fuse_a_decay(mats):
    """The kernels' optional ``base * scale +`` term (used to fuse receptor decay)."""
    if not ns.ops.ffi_available():
        pytest.skip("compiled kernels unavailable")
    conn, dense = mats["csr-float"]
    s = _spikes(10)[3]
    g = np.linspace(-1.0, 2.0, N_POST).astype(np.float32)
    for scale in (None, 0.5, np.linspace(0.1, 0.9, N_POST).astype(np.float32)):
        out = jax.jit(lambda s, g, sc: conn.event_ffi(s, base=g, scale=sc))(s, g, scale)
        want = g * (1.0 if scale is None else scale) + s @ dense
        np.testing.assert_allclose(np.asarray(out), want, rtol=RTOL, atol=ATOL)


def test_ell_matches_csr_and_validates():
    csr = ns.connectivity.FixedOutDegree(4).build(jax.random.key(0), 12, 9, ns.init.Normal(1, 1))
    ell = ns.connectivity.FixedOutDegree(4, format="ell").build(
        jax.random.key(0), 12, 9, ns.init.Normal(1, 1)
    )
    assert isinstance(ell, ns.ops.ELL) and ell.k == 4 and ell.nnz == csr.nnz == 48
    np.testing.assert_array_equal(np.asarray(ell.todense()), np.asarray(csr.todense()))
    ind = ns.connectivity.FixedInDegree(3, format="ell").build(jax.random.key(1), 10, 8, 1.0)
    assert isinstance(ind, ns.ops.ELL) and ind.nnz == 24
    np.testing.assert_array_equal(np.asarray(ind.todense()).sum(axis=0), 3.0)
    y = np.arange(9, dtype=np.float32)
    np.testing.assert_allclose(
        np.asarray(ell.transpose_matvec(y)), np.asarray(csr.transpose_matvec(y)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="targets must lie"):
        ns.ops.ELL.from_arrays([[0, 5]], 1.0, n_post=4)
    with pytest.raises(ValueError, match="shape"):
        ns.ops.ELL.from_arrays([[0, 1]], np.ones((2, 2)), n_post=4)
    with pytest.raises(ValueError, match="format"):
        ns.connectivity.FixedOutDegree(2, format="coo")
    with pytest.raises(ValueError, match="capacity"):
        ns.ops.event_matvec(ell, jnp.zeros(12), backend="compact", capacity=0)


def test_any_nonfinite():
    f = jax.jit(ns.ops.any_nonfinite)
    ok = {"v": jnp.ones(5), "g": (jnp.zeros(3), jnp.arange(4))}
    assert not bool(f(ok))
    for bad in (jnp.nan, jnp.inf, -jnp.inf):
        tree = {"v": jnp.ones(5), "g": (jnp.zeros(3).at[2].set(bad), jnp.arange(4))}
        assert bool(f(tree))
    assert not bool(f({"v": jnp.full(4, 3e38)}))  # large but finite: not a fault
    rows = jnp.array([[1.0, 2.0], [jnp.nan, 1.0], [3.0, jnp.inf]])
    np.testing.assert_array_equal(np.asarray(jax.vmap(f)(rows)), [False, True, True])
    assert (
        jax.grad(lambda x: jnp.sum(x) + ns.ops.any_nonfinite(x))(jnp.ones(3)).tolist() == [1.0] * 3
    )


def test_unpack_spike_bits_matches_numpy():
    from neurosim.ops._host import _numpy_unpack, unpack_spike_bits

    rng = np.random.default_rng(0)
    for n, p, steps in ((37, 0.3, 20), (64, 0.05, 9), (5, 0.0, 3), (1000, 0.01, 11)):
        raster = rng.random((steps, n)) < p
        packed = np.packbits(raster, axis=1)
        if n % 8:
            packed[:, -1] |= 1  # padding bits beyond n are ignored
        want_steps, want_idx = np.nonzero(raster)
        for f in (unpack_spike_bits, _numpy_unpack):
            got_steps, got_idx = f(packed, n)
            np.testing.assert_array_equal(got_steps, want_steps)
            np.testing.assert_array_equal(got_idx, want_idx)


@pytest.fixture
def fresh_build_state(monkeypatch):
    """Forget the kernel load result (and traces that baked it in) for one test; restore."""
    _build._reset_for_tests()
    jax.clear_caches()
    yield monkeypatch
    monkeypatch.undo()
    _build._reset_for_tests()
    jax.clear_caches()


def test_disable_env_forces_the_pure_jax_fallback(mats, fresh_build_state, recwarn):
    fresh_build_state.setenv("NEUROSIM_DISABLE_FFI", "1")
    status = ns.ops.ffi_status()
    assert not status["available"] and "NEUROSIM_DISABLE_FFI" in status["reason"]
    conn, dense = mats["csr-int"]
    s = _spikes(11)
    np.testing.assert_array_equal(_run(conn, s, "ffi"), s @ dense)
    hlo = jax.jit(lambda s: ns.ops.event_matvec(conn, s, backend="auto")).lower(s[0]).as_text()
    assert "neurosim_csr_event" not in hlo
    assert not [w for w in recwarn if "kernels unavailable" in str(w.message)]


def test_missing_compiler_warns_once_and_falls_back(mats, fresh_build_state, tmp_path):
    fresh_build_state.setenv("CXX", str(tmp_path / "no-such-compiler"))
    fresh_build_state.setenv("NEUROSIM_CACHE_DIR", str(tmp_path / "cache"))
    fresh_build_state.delenv("NEUROSIM_DISABLE_FFI", raising=False)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        assert not ns.ops.ffi_available()
    conn, dense = mats["ell-int"]
    s = _spikes(12)
    np.testing.assert_array_equal(_run(conn, s, "ffi"), s @ dense)  # no second warning
    assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_fresh_cache_build_by_two_processes(tmp_path):
    """Two processes building into an empty cache at once both succeed (lock + rename)."""
    import os
    import subprocess
    import sys

    code = (
        "import neurosim as ns, jax.numpy as jnp; s = ns.ops.ffi_status(); "
        "assert s['available'], s; print(s['path'])"
    )
    env = dict(os.environ, NEUROSIM_CACHE_DIR=str(tmp_path))
    env.pop("NEUROSIM_DISABLE_FFI", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    paths = [p.communicate(timeout=600)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert paths[0] == paths[1] and os.path.isfile(paths[0])
    assert paths[0].startswith(str(tmp_path))
    assert not list(tmp_path.glob("kernels/*.tmp"))


def test_network_spikes_identical_across_backends(small_coba):
    """COBA (homogeneous weights): every backend adds the same values, so rasters are equal."""
    import dataclasses

    import equinox as eqx

    key = jax.random.key(4)
    rasters = {}
    for backend in ("loop", "ffi", "compact"):
        net = eqx.tree_at(
            lambda m: m.projections,
            small_coba,
            tuple(dataclasses.replace(p, backend=backend) for p in small_coba.projections),
        )
        res = ns.simulate(net, 40.0, 0.1, key=key)
        rasters[backend] = (res.spike_times, res.spike_indices)
    assert rasters["loop"][0].size > 20
    for backend in ("ffi", "compact"):
        np.testing.assert_array_equal(rasters[backend][0], rasters["loop"][0])
        np.testing.assert_array_equal(rasters[backend][1], rasters["loop"][1])


def test_compact_lowers_for_gpu_without_cpu_custom_calls(mats):
    """No GPU needed: the compact backend and the jnp fault check lower for CUDA."""
    conn, _ = mats["csr-float"]
    f = jax.jit(
        lambda s: (ns.ops.event_matvec(conn, s, backend="compact"), ns.ops.any_nonfinite(s))
    )
    exported = jax.export.export(f, platforms=["cuda"])(jax.ShapeDtypeStruct((N_PRE,), jnp.float32))
    text = exported.mlir_module()
    assert "neurosim_" not in text  # no CPU custom calls
    assert "scatter" in text and "while" in text  # compacted blocks, overflow loop


def test_auto_lowers_to_the_pallas_kernel_for_gpu(mats):
    """No GPU needed: lowering "auto" for CUDA picks the Pallas (Triton) kernel and the jnp
    fault check (see tests/test_ops_pallas.py for every format)."""
    conn, _ = mats["csr-float"]
    f = jax.jit(lambda s: (ns.ops.event_matvec(conn, s), ns.ops.any_nonfinite(s)))
    triton = jax.export.DisabledSafetyCheck.custom_call("__gpu$xla.gpu.triton")
    exported = jax.export.export(f, platforms=["cuda"], disabled_checks=[triton])(
        jax.ShapeDtypeStruct((N_PRE,), jnp.float32)
    )
    text = exported.mlir_module()
    assert "neurosim_" not in text  # no CPU custom calls
    assert text.count("__gpu$xla.gpu.triton") == 1


def test_ffi_vmap_over_a_homogeneous_weight(mats):
    conn, dense = mats["csr-hom"]
    s = _spikes(13)[2]
    ws = jnp.asarray([0.5, -1.0, 3.0])
    out = jax.jit(jax.vmap(lambda w: ns.ops.event_matvec(conn.with_weights(w), s, backend="ffi")))(
        ws
    )
    want = np.asarray(ws)[:, None] * (s @ (dense / 2.0))[None, :]  # dense has weight 2.0
    np.testing.assert_allclose(np.asarray(out), want, rtol=RTOL, atol=ATOL)
