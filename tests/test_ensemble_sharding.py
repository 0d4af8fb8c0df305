"""Ensembles and sweeps sharded over devices equal the one-device results.

The multi-device checks run in a subprocess with 4 forced CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=4``), since the device count is fixed when
JAX starts. Per-member results are the same computation on every device count, so spikes and
per-member states are compared bitwise; what reduces over members (an assimilation update's
ensemble mean and covariance) may sum in another order: float32, a few ulps, so 1e-6.
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurosim.distributed import member_mesh, member_sharding, shard_members, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent(
    """
    import warnings
    import equinox as eqx, jax, jax.numpy as jnp, numpy as np, neurosim as ns
    from neurosim.distributed import member_mesh, shard_members, sweep

    assert jax.device_count() == 4, jax.devices()
    mesh = member_mesh()

    # -- a parameter sweep over a spiking network (vmap over weights through ns.run) --------
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(20, rate=50.0))
    b.add_population("N", ns.neurons.LIF(
        12, tau_m=20.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, v_init=-65.0))
    b.connect("src", "N", ns.connectivity.FixedProbability(0.5), weight=40.0,
              synapse=ns.synapses.Exponential(tau=5.0))
    net = b.build()
    s0 = net.init_state(jax.random.key(1), dt=0.1)

    def member(w):
        net_w = eqx.tree_at(lambda m: m.projections[0].conn.weights, net, w)
        st, out = ns.run(net_w, s0, 150, 0.1, key=jax.random.key(2))
        return out.spikes["N"], st.neurons[1]["v"]

    for E in (8, 6):  # 6: not divisible by 4 devices -> padded, padding dropped
        ws = jnp.linspace(100.0, 300.0, E)
        sp1, v1 = sweep(member, ws)
        sp4, v4 = sweep(member, ws, mesh=mesh)
        assert sp4.shape == sp1.shape == (E, 150, 12), sp4.shape
        assert float(sp1.sum()) > 20, float(sp1.sum())
        np.testing.assert_array_equal(np.asarray(sp4), np.asarray(sp1))
        np.testing.assert_allclose(np.asarray(v4), np.asarray(v1), rtol=0, atol=1e-6)
        if E == 8:
            assert len(sp4.sharding.device_set) == 4, sp4.sharding
            assert {s.data.shape[0] for s in sp4.addressable_shards} == {2}

    # -- the assimilation ensemble: run_filter(mesh=...) == run_filter() ---------------------
    def forecast(m, t, key):
        k1, k2 = jax.random.split(key)
        u = ns.assimilate.random_walk(k1, m[1], 0.02)
        xn = jnp.tanh(u) * m[0] + jax.random.normal(k2)
        return jnp.stack([xn, u]), xn[None]

    rng = np.random.default_rng(0)
    y = jnp.asarray(rng.normal(size=(6, 1)), jnp.float32)
    members = jnp.asarray(rng.normal(size=(8, 2)), jnp.float32)
    for method in ("enkf", "etkf"):
        kw = dict(method=method, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r1 = ns.assimilate.run_filter(forecast, lambda m: m, lambda m, v: v, members, y,
                                          0.1, jax.random.key(3), **kw)
            r4 = ns.assimilate.run_filter(forecast, lambda m: m, lambda m, v: v, members, y,
                                          0.1, jax.random.key(3), mesh=mesh, **kw)
        assert len(r4.members.sharding.device_set) == 4, r4.members.sharding
        for f in ("forecast_mean", "forecast_std", "analysis_mean", "analysis_std"):
            np.testing.assert_allclose(getattr(r4, f), getattr(r1, f), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(r4.members), np.asarray(r1.members),
                                   rtol=1e-6, atol=1e-6)
    try:
        ns.assimilate.run_filter(forecast, lambda m: m, lambda m, v: v, members[:6], y, 0.1,
                                 jax.random.key(3), mesh=mesh, progress=False)
    except ValueError as e:
        assert "6 members" in str(e) and "multiple of 4" in str(e), e
    else:
        raise AssertionError("6 members over 4 devices must raise")
    x = shard_members({"a": jnp.zeros((8, 3)), "b": jnp.ones((8,))}, mesh)
    assert {s.data.shape for s in x["a"].addressable_shards} == {(2, 3)}
    print("OK")
    """
)


@pytest.mark.slow
def test_sharded_sweep_and_ensemble_equal_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["JAX_PLATFORMS"] = "cpu"
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout[-3000:] + p.stderr[-3000:]


def test_one_device_mesh_and_bad_input():
    mesh = member_mesh()
    assert member_sharding(mesh).spec == jax.sharding.PartitionSpec("members")
    ws = jnp.arange(3.0)
    np.testing.assert_array_equal(
        np.asarray(sweep(lambda w, c: w * c + 1, ws, 2.0, mesh=mesh)), [1.0, 3.0, 5.0]
    )
    with pytest.raises(TypeError, match="mesh must be a jax.sharding.Mesh"):
        shard_members(ws, jax.devices())
    with pytest.raises(ValueError, match="axis='x' is not an axis"):
        member_sharding(mesh, axis="x")
    with pytest.raises(ValueError, match="disagree on the number of members"):
        shard_members({"a": jnp.zeros(3), "b": jnp.zeros(4)}, mesh)
    with pytest.raises(ValueError, match="member axis first"):
        sweep(lambda w: w, jnp.float32(1.0))
    with pytest.raises(ValueError, match="at least one device"):
        member_mesh([])
