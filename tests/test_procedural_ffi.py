"""The compiled procedural kernel (``csrc/procedural_kernels.cc``) is the stored matrix.

Its regenerated rows are compared with the stored CSR built from the same key, through the
stored matrix's own compiled kernel: both sum each target's contributions in presynaptic
order, so the outputs must agree bit for bit, whatever the weights and spike values (graded,
negative, float). With integer-valued data the sums are exact, so they also equal the NumPy
dense product. The Uniform quantile is compared bitwise too: the kernel evaluates it as one
fused multiply-add, which is what XLA's CPU backend compiles the JAX expression to.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.ops import _build

pytestmark = pytest.mark.skipif(not ns.ops.ffi_available(), reason="compiled kernels unavailable")


@functools.partial(jax.jit, static_argnames="backend")
def _event(conn, s, backend="auto"):
    return ns.ops.event_matvec(conn, s, backend=backend)


def _pair(key, weight, p, n_pre, n_post, same=False, autapses=True):
    kw = dict(allow_autapses=autapses)
    stored = ns.connectivity.FixedProbability(p, **kw).build(
        key, n_pre, n_post, weight, same_population=same
    )
    proc = ns.connectivity.FixedProbability(p, procedural=True, **kw).build(
        key, n_pre, n_post, weight, same_population=same
    )
    return stored, proc


def _patterns(n, seed):
    """No spikes, every neuron, sparse 0/1, graded integers, graded floats of both signs."""
    rng = np.random.default_rng(seed)
    sparse = (rng.random(n) < 0.1).astype(np.float32)
    counts = (rng.random(n) < 0.3) * rng.integers(1, 4, n).astype(np.float32)
    floats = ((rng.random(n) < 0.5) * rng.normal(size=n)).astype(np.float32)
    return [np.zeros(n, np.float32), np.ones(n, np.float32), sparse, counts, floats]


def _dense(stored):
    return np.asarray(stored.todense())


WEIGHTS = {
    "scalar": 0.5,
    "constant": ns.init.Constant(3.0),
    "uniform": ns.init.Uniform(-1.0, 2.0),
}

# (n_pre, n_post, p, same population without autapses): rows of every length class, including
# full rows (p = 1) whose lengths straddle the kernel's 32-lane blocks (31, 32, 33, 64, 65
# candidates), mostly empty rows (tiny p) and a projection between different populations.
CASES = [
    (60, 45, 0.2, False),
    (300, 300, 0.05, True),
    (50, 31, 1.0, False),
    (50, 32, 1.0, False),
    (50, 33, 1.0, False),
    (65, 65, 1.0, True),  # 64 candidates
    (66, 66, 1.0, True),  # 65 candidates
    (200, 37, 0.9, False),
    (500, 80, 0.002, False),
    (3, 2000, 0.3, False),
]


@pytest.mark.parametrize("wname", list(WEIGHTS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c)))
def test_kernel_equals_stored_bitwise(case, wname):
    n_pre, n_post, p, same = case
    for seed in (0, 7):
        stored, proc = _pair(jax.random.key(seed), WEIGHTS[wname], p, n_pre, n_post, same, not same)
        dense = _dense(stored)
        for s in _patterns(n_pre, seed):
            got = np.asarray(_event(proc, jnp.asarray(s), backend="ffi"))
            want = np.asarray(_event(stored, jnp.asarray(s), backend="ffi"))
            np.testing.assert_array_equal(got, want)
            if wname != "uniform" and np.all(s == np.round(s)):  # exact sums
                np.testing.assert_array_equal(got, s @ dense)


@pytest.mark.parametrize("wname", ["scalar", "uniform"])
def test_float64_kernel_equals_stored_bitwise(wname):
    with jax.enable_x64(True):
        w = ns.init.Uniform(jnp.float64(-1.0), jnp.float64(2.0)) if wname == "uniform" else 0.25
        stored, proc = _pair(jax.random.key(4), w, 0.2, 70, 50)
        s = jnp.asarray(_patterns(70, 3)[4], jnp.float64)
        hlo = jax.jit(_event).lower(proc, s).as_text()
        assert "neurosim_procedural_event" in hlo and "f64" in hlo
        got = np.asarray(_event(proc, s))
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, np.asarray(_event(stored, s)))


def test_kernel_rows_equal_stored_rows():
    """One spike at a time: each regenerated row is the stored row (targets and weights)."""
    stored, proc = _pair(jax.random.key(3), WEIGHTS["uniform"], 0.1, 64, 257, False, True)
    dense = _dense(stored)
    eye = jnp.eye(64, dtype=jnp.float32)
    rows = np.asarray(jax.jit(jax.vmap(lambda s: ns.ops.event_matvec(proc, s)))(eye))
    np.testing.assert_array_equal(rows, dense)
    assert (rows != 0).sum() == stored.nnz


def test_auto_uses_the_kernel_on_cpu_and_xla_for_normal_weights():
    _, proc = _pair(jax.random.key(0), 0.5, 0.1, 50, 50)
    s = jnp.zeros(50)
    assert "neurosim_procedural_event" in jax.jit(_event).lower(proc, s).as_text()
    _, normal = _pair(jax.random.key(0), ns.init.Normal(0.5, 1.0), 0.1, 50, 50)
    assert "neurosim_procedural_event" not in jax.jit(_event).lower(normal, s).as_text()
    with pytest.raises(TypeError, match="Normal"):
        normal.event_ffi(s)


def test_vmap_is_one_kernel_call_equal_to_loop():
    stored, proc = _pair(jax.random.key(5), WEIGHTS["uniform"], 0.15, 70, 90)
    S = jnp.asarray(np.stack(_patterns(70, 1)))
    f = jax.jit(lambda c, S: ns.ops.event_matmat(c, S))
    assert f.lower(proc, S).as_text().count("neurosim_procedural_event") == 1
    batched = np.asarray(f(proc, S))
    np.testing.assert_array_equal(batched, np.asarray(f(stored, S)))
    np.testing.assert_array_equal(batched[3], np.asarray(_event(proc, S[3])))
    # vmap over keys (seeds) as well: each entry is its own matrix
    keys = jnp.stack([proc.key, proc.key + 1])
    per_key = jax.jit(
        jax.vmap(
            lambda k, s: ns.ops.event_matvec(ns.ops.ProceduralBernoulli(k, 0.5, 70, 90, 0.15), s)
        )
    )(keys, S[:2])
    for j in range(2):
        one = ns.ops.ProceduralBernoulli(keys[j], 0.5, 70, 90, 0.15)
        np.testing.assert_array_equal(np.asarray(per_key[j]), np.asarray(one._event(S[j])))


def test_kernel_equals_xla_path():
    """Same matrix as the pure-JAX event path (integer data: exact sums, any order)."""
    _, proc = _pair(jax.random.key(9), ns.init.Constant(2.0), 0.3, 80, 80, True, False)
    for s in _patterns(80, 4)[:4]:
        np.testing.assert_array_equal(
            np.asarray(_event(proc, jnp.asarray(s), backend="ffi")),
            np.asarray(_event(proc, jnp.asarray(s), backend="loop")),
        )


def test_vector_row_generator_equals_portable_one():
    """The AVX-512 row generator (used here when the CPU has it) gives the portable code's rows
    (targets and weight words), from p = 1 to empty rows, with and without autapses."""
    from neurosim._streams import LOG2_TABLE

    table = np.ascontiguousarray(LOG2_TABLE, np.uint32)
    bad = _build.host_library().neurosim_procedural_selfcheck(table.ctypes.data, 12345, 20_000)
    if bad < 0:
        pytest.skip("this CPU runs the portable row generator only")
    assert bad == 0


@pytest.fixture
def no_ffi(monkeypatch):
    _build._reset_for_tests()
    jax.clear_caches()
    monkeypatch.setenv("NEUROSIM_DISABLE_FFI", "1")
    yield
    monkeypatch.undo()
    _build._reset_for_tests()
    jax.clear_caches()


def test_disabled_ffi_falls_back_to_xla(no_ffi):
    stored, proc = _pair(jax.random.key(1), ns.init.Constant(2.0), 0.2, 40, 30)
    s = jnp.asarray(_patterns(40, 2)[3])
    hlo = jax.jit(_event).lower(proc, s).as_text()
    assert "neurosim_procedural_event" not in hlo
    np.testing.assert_array_equal(
        np.asarray(_event(proc, s, backend="ffi")), np.asarray(s) @ _dense(stored)
    )


def test_coba_spikes_same_for_stored_and_procedural():
    """A small COBA network: the kernel-driven procedural run spikes exactly like stored."""

    def spikes(kind):
        net = ns.models.coba(n=400, key=jax.random.key(2), in_degree=40.0, connectivity=kind)
        state = net.init_state(jax.random.key(3), 0.1)
        _, out = jax.jit(lambda st: ns.run(net, st, 1000, 0.1, key=jax.random.key(4)))(state)
        return {k: np.asarray(v) for k, v in out.spikes.items()}

    s, p = spikes("stored"), spikes("procedural")
    assert s.keys() == p.keys()
    for k in s:
        np.testing.assert_array_equal(p[k], s[k])
    assert sum(int(np.sum(v)) for v in s.values()) > 100
