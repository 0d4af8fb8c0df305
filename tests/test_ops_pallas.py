"""The Pallas event-delivery kernel (``backend="pallas"``) against the dense reference.

On CPU the kernel runs in Pallas interpret mode (the same kernel body the GPU compiles, with
the atomic add emulated by a scatter-add; see neurosim/ops/_pallas.py). Interpret mode is
slow, so shapes are tiny and the per-format checks are marked slow. Integer-valued weights
and 0/1 spikes give integer sums that float32 represents exactly in any order (bitwise
checks); float weights are compared to a few float32 ulps times the number of terms.
Lowering for CUDA needs no GPU: ``jax.export`` runs the Triton lowering on this machine.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import _streams
from neurosim.ops import _build
from neurosim.ops._pallas import BLOCK_ROWS, pallas_event
from neurosim.ops._pallas_procedural import geometric_gaps_ref

N_PRE, N_POST = 40, 33
RTOL = ATOL = 1e-5  # float32, sums of <= 40 terms of O(1)
TRITON = jax.export.DisabledSafetyCheck.custom_call("__gpu$xla.gpu.triton")


def _edges(seed, p=0.25):
    rng = np.random.default_rng(seed)
    mask = rng.random((N_PRE, N_POST)) < p
    mask[5] = False  # an empty row
    mask[7] = True  # a full row (33 > 32 lanes: two chunks)
    pre, post = np.nonzero(mask)
    return pre, post, rng


@pytest.fixture(scope="module")
def mats():
    """name -> connectivity (the dense reference is conn.todense())."""
    pre, post, rng = _edges(0)
    w_int = rng.integers(-3, 4, size=pre.size).astype(np.float32)
    w_float = rng.normal(0.5, 1.0, size=pre.size).astype(np.float32)
    out = {}
    for wname, w in (("hom", 2.0), ("int", w_int), ("float", w_float)):
        csr = ns.connectivity.from_edges(pre, post, w, N_PRE, N_POST)
        out[f"csr-{wname}"] = csr
        out[f"ell-{wname}"] = csr.to_ell()
    key = jax.random.key(3)
    proc = ns.connectivity.FixedProbability(0.3, procedural=True)
    out["proc-hom"] = proc.build(key, N_PRE, N_POST, 2.0)
    out["proc-uniform"] = proc.build(key, N_PRE, N_POST, ns.init.Uniform(-1.0, 1.0))
    out["proc-normal"] = proc.build(key, N_PRE, N_POST, ns.init.Normal(0.5, 0.2))  # XLA path
    out["proc-self"] = ns.connectivity.FixedProbability(0.3, procedural=True, allow_autapses=False)
    out["proc-self"] = out["proc-self"].build(key, N_PRE, N_PRE, 1.0, same_population=True)
    return out


def _spikes(seed, n_pre=N_PRE, graded=False):
    rng = np.random.default_rng(seed)
    s = (rng.random((4, n_pre)) < 0.3).astype(np.float32)
    s[0] = 0.0  # no spike at all
    s[1] = 1.0  # every neuron spikes: 40 > BLOCK_ROWS rows, three programs
    if graded:
        s = s * rng.uniform(0.25, 2.0, size=s.shape).astype(np.float32)
    return s


def _run(conn, spikes):
    f = jax.jit(jax.vmap(lambda s: ns.ops.event_matvec(conn, s, backend="pallas")))
    return np.asarray(f(jnp.asarray(spikes)))


def test_block_covers_a_burst():
    assert N_PRE > 2 * BLOCK_ROWS  # the all-spiking vector needs several programs


@pytest.mark.slow
def test_ell_homogeneous_bitwise():
    """ELL, scalar weight, padding entries, every spike pattern (the smallest case)."""
    conn = ns.ops.ELL.from_arrays([[1, 2, 5], [0, 5, 5], [4, 3, 1]], 2.0, n_post=5)
    s = jnp.asarray([[0, 0, 0], [1, 1, 1], [1, 0, 1]], jnp.float32)
    out = jax.vmap(lambda v: pallas_event(conn, v, interpret=True))(s)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(s) @ np.asarray(conn.todense()))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["csr-hom", "csr-int", "ell-int", "proc-hom"])
def test_integer_sums_bitwise(mats, name):
    conn = mats[name]
    s = _spikes(1, conn.n_pre)
    np.testing.assert_array_equal(_run(conn, s), s @ np.asarray(conn.todense(), np.float64))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["csr-float", "ell-float", "proc-uniform", "proc-normal"])
def test_float_weights_and_graded_spikes_close(mats, name):
    conn = mats[name]
    s = _spikes(2, conn.n_pre, graded=True)
    want = s @ np.asarray(conn.todense(), np.float64)
    np.testing.assert_allclose(_run(conn, s), want, rtol=RTOL, atol=ATOL)


@pytest.mark.slow
def test_procedural_without_autapses(mats):
    conn = mats["proc-self"]
    dense = np.asarray(conn.todense())
    assert np.all(np.diag(dense) == 0) and dense.sum() > 0
    s = _spikes(4, conn.n_pre)
    np.testing.assert_array_equal(_run(conn, s), s @ dense)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["csr-float", "proc-uniform"])
def test_gradients_equal_the_dense_reference(mats, name):
    """The custom JVP sends spike and weight tangents through the full product."""
    conn = mats[name]
    dense = np.asarray(conn.todense(), np.float64)
    s = jnp.asarray(_spikes(5, conn.n_pre)[2])
    c = jnp.linspace(-1.0, 1.0, conn.n_post)
    g = jax.grad(lambda x: ns.ops.event_matvec(conn, x, backend="pallas") @ c)(s)
    np.testing.assert_allclose(np.asarray(g), dense @ np.asarray(c), rtol=RTOL, atol=ATOL)
    if name == "csr-float":
        gw = jax.grad(lambda w: ns.ops.event_matvec(conn.with_weights(w), s, backend="pallas") @ c)(
            conn.synapse_weights()
        )
        rows, cols = np.asarray(conn.row_ids()), np.asarray(conn.indices[: conn.nnz])
        want = np.asarray(s)[rows] * np.asarray(c)[cols]
        np.testing.assert_allclose(np.asarray(gw)[: conn.nnz], want, rtol=RTOL, atol=ATOL)


def test_kernel_gaps_equal_the_stream_definition():
    """The kernel's table-from-ref gaps are the matrix-defining gaps, lane by lane."""
    rng = np.random.default_rng(0)
    b0 = np.concatenate([[0, 1, 2, 2**31, 2**32 - 1], rng.integers(0, 2**32, 4000)])
    b0 = jnp.asarray(b0.astype(np.uint32))
    table = jnp.asarray(_streams.LOG2_TABLE)
    for p, n in ((0.3, 40), (0.01, 4000), (1.0, 7)):
        scale = _streams.gap_scale(p)
        np.testing.assert_array_equal(
            np.asarray(geometric_gaps_ref(table, b0, scale, n + 1)),
            np.asarray(_streams.geometric_gaps(b0, scale, n + 1)),
        )


def test_cuda_lowering_uses_the_kernel_and_no_cpu_custom_call(mats):
    """No GPU needed: lowering for CUDA picks the Triton kernel for every format, and the
    spike record's fault check lowers without CPU custom calls."""
    conns = [mats["csr-float"], mats["ell-hom"], mats["proc-uniform"]]

    def f(s):
        outs = [ns.ops.event_matvec(c, s) for c in conns]
        return outs, ns.ops.any_nonfinite(outs)

    spec = jax.ShapeDtypeStruct((N_PRE,), jnp.float32)
    text = jax.export.export(jax.jit(f), platforms=["cuda"], disabled_checks=[TRITON])(spec)
    text = text.mlir_module()
    assert text.count("__gpu$xla.gpu.triton") == len(conns)
    assert "neurosim_" not in text  # no CPU custom calls (compiled kernels, fault check)
    # Without disabling the check, export refuses the kernel (Triton calls are not stable).
    with pytest.raises(ValueError, match="custom calls"):
        jax.export.export(jax.jit(f), platforms=["cuda"])(spec)


def test_cpu_lowering_keeps_todays_paths(mats):
    """On CPU, "auto" still lowers to the compiled FFI kernel (or the XLA paths), never Pallas."""
    conn = mats["csr-float"]
    f = jax.jit(lambda s: ns.ops.event_matvec(conn, s))
    text = f.lower(jnp.zeros(N_PRE, jnp.float32)).as_text()
    assert "triton" not in text and "pallas" not in text
    if _build.ffi_available():
        assert "neurosim_csr_event" in text


def test_bad_connectivity_type_is_a_clear_error():
    with pytest.raises(TypeError, match="backend 'pallas' supports"):
        pallas_event(np.eye(2), jnp.ones(2), interpret=True)
