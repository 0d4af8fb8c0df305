"""One network sharded over devices and processes: identical to one device.

Sharded runs need several devices, which JAX fixes at start-up, so each check runs
``tests/sharded_cases.py`` in a subprocess with ``--xla_force_host_platform_device_count=8``
(one process, meshes of 1, 2, 4 and 8 of those devices) and reads its JSON lines. What must
hold (DESIGN.md §5): spike rasters bitwise identical; float state equal to float rounding
(each neuron sums its synaptic inputs in the same order, but XLA may fuse the per-block
programs differently: a few ulps, ``<= 1e-6`` relative); gradients equal to rounding of
reordered sums (the backward pass of the exchange adds per-device partial sums).
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.distributed._layout import layout, synapse_delay_steps_min
from neurosim.distributed._partition import local_networks, merge_state, split_state

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _cases(case: str, counts: str, x64: bool = False, timeout: int = 900) -> list[dict]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
    }
    if x64:
        env["JAX_ENABLE_X64"] = "1"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "sharded_cases.py"), case, counts],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _check_identical(rows, counts):
    assert [r["devices"] for r in rows] == counts
    for r in rows:
        assert r["n_spikes_ref"] > 20, r  # the raster is not trivially empty
        assert r["raster_equal"], r
        assert r["history_equal"], r
        assert r["state_rel_diff"] <= 1e-6, r


@pytest.mark.slow
def test_coba_two_devices_identical():
    _check_identical(_cases("coba", "2"), [2])


@pytest.mark.slow
@pytest.mark.parametrize("case", ["coba", "delays", "brain"])
def test_identical_on_1_2_4_8_devices(case):
    rows = _cases(case, "1,2,4,8")
    _check_identical(rows, [1, 2, 4, 8])
    if case == "delays":  # min delay 0.5 ms at dt 0.1: one exchange per 6 steps
        assert rows[0]["interval"] == 6


@pytest.mark.slow
def test_nest_conventions_and_poisson_inputs_identical_on_1_2_3_4_devices():
    rows = _cases("nest_poisson", "1,2,3,4")  # 3: the 16 I neurons in padded blocks of 6
    _check_identical(rows, [1, 2, 3, 4])
    assert rows[0]["interval"] == 2  # latencies of at least one step (NEST): every 2 steps


@pytest.mark.slow
@pytest.mark.long  # 15-30 min of compiles on 2 cores: `make test-long`, not in CI
def test_potjans_diesmann_identical_on_1_2_4_devices():
    # 1 % microcircuit: Poisson background, NEST conventions, 8 populations none of which
    # 4 divides (207, 58, ..., 11 neurons): every block structure is padded
    _check_identical(_cases("pd", "1,2,4", timeout=3600), [1, 2, 4])  # 15-30 min: compiles


@pytest.mark.slow
def test_rate_populations_and_readouts_identical_on_1_2_3_4_devices():
    # replicated nodes and readouts; 3 devices: blocks of 14 that the regions cut across
    _check_identical(_cases("multiscale", "1,2,3,4"), [1, 2, 3, 4])


@pytest.mark.slow
def test_procedural_connectivity_identical_on_1_2_3_4_8_devices():
    _check_identical(_cases("procedural", "1,2,3,4,8"), [1, 2, 3, 4, 8])


def test_procedural_with_per_synapse_delays_is_a_clear_error():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(8))
    b.connect("P", "P", ns.connectivity.FixedProbability(0.5, procedural=True), weight=1.0,
              synapse=ns.synapses.Exponential(5.0), delay=ns.init.Uniform(0.5, 2.0))  # fmt: skip
    net = b.build()
    with pytest.raises(ValueError, match="'P->P' is procedural with per-synapse delays.*stored"):
        layout(net, 2, 0.1)
    homogeneous = ns.models.coba(n=8, key=jax.random.key(0), connectivity="procedural")
    lay = layout(homogeneous, 2, 0.1)
    local = local_networks(homogeneous, lay)
    assert local[1].projections[0].conn is homogeneous.projections[0].conn  # whole rows
    assert local[1].projections[0].post_slice == homogeneous.projections[0].post_slice


@pytest.mark.slow  # ~13 s on the loaded 2-core machine (building and initialising)
def test_multiscale_parts_are_replicated_in_the_local_networks():
    from sharded_cases import multiscale

    net, _, _ = multiscale()
    lay = layout(net, 3, 0.1)
    assert lay.block == (14,) and lay.cross_delay == net.plan(0.1).cross_delay
    for loc in local_networks(net, lay):
        assert loc.rate_populations is net.rate_populations and loc.readouts is net.readouts
        assert loc.cross is net.cross and loc.node_couplings is net.node_couplings
    st = net.init_state(jax.random.key(0), 0.1)
    back = merge_state(net, lay, split_state(net, lay, st))
    for f in ("nodes", "node_input", "node_history", "node_fault", "cross", "readouts"):
        for a, b in zip(jax.tree.leaves(getattr(st, f)), jax.tree.leaves(getattr(back, f)),
                        strict=True):  # fmt: skip
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_nest_delay_rule_sets_the_exchange_interval():
    from sharded_cases import nest_poisson

    net, _, _ = nest_poisson()
    assert net.poisson_inputs and net.conventions.spike_time == "end"
    ee = net.projections[0]
    m = synapse_delay_steps_min(ee, 0.1)
    assert m >= 1
    assert synapse_delay_steps_min(ee, 0.1, (1, 0)) == m - 1  # onto Delta under NEST
    assert synapse_delay_steps_min(ee, 0.1, (0, m + 3)) == m + 3  # the minimum latency
    # NEST: homogeneous Delta projection 0.3 ms -> 3 - 1 ring steps; exchange every
    # min(latencies) + 1 steps
    lay = layout(net, 2, 0.1)
    assert lay.delay_steps[3] == 2
    assert lay.interval == 1 + min(2, m, synapse_delay_steps_min(net.projections[2], 0.1))


@pytest.mark.slow
def test_coba_4k_identical():
    # the must-show of issue 12: COBA 4000 (in-degree 80) bitwise on 1, 2, 4 and 8 devices
    _check_identical(_cases("coba4k", "1,2,4,8", timeout=3000), [1, 2, 4, 8])


@pytest.mark.slow
def test_grad_through_sharded_run_equals_one_device():
    # float64: the only difference left is the order of the per-device partial sums of the
    # exchange's transpose (~1e-16 per term, ~1e3 terms), far below 1e-10.
    rows = _cases("grad", "1,2,4,8", x64=True)
    for r in rows:
        assert r["grad_norm"] > 1.0, r
        assert r["grad_rel_diff"] <= 1e-10, r


def test_sharded_record_spikes_and_stamps_equal_simulate():
    """Both drivers make their result with ``ns.network.simulation_result``: for every
    ``record_spikes`` choice the sharded run (2 forced CPU devices) records the same
    populations and the same spikes as ``ns.simulate``, stamped by the same conventions
    (NEST: ``(step + 1) * dt``); a replicated spike source is left out by default."""
    rows = _cases("record", "2", timeout=600)
    assert len(rows) == 2 * 5
    expected = {"null": ["P"], '"all"': ["X", "P"], '"X"': ["X"], '["P"]': ["P"], "[]": []}
    for r in rows:
        want = expected[json.dumps(r["record_spikes"])]
        assert r["recorded_ref"] == want, r
        assert r["recorded"] == want and r["recorded_via_mesh"] == want, r
        assert all(n > 5 for n in r["n_spikes_ref"].values()), r  # not trivially empty
        assert r["raster_equal"], r
        assert r["rate_hz_equal"], r
    # End-of-step stamps (NEST): the source's first spike is a whole step later than ours.
    t = {r["conventions"]: r["first_time_ref"] for r in rows if r["record_spikes"] == "X"}
    assert abs(t["nest_stamps"] - t["default"] - 0.1) < 1e-9, t


def test_sharded_simulate_checks_its_arguments_like_simulate():
    net = ns.models.coba(n=8, key=jax.random.key(0))
    mesh = ns.distributed.make_mesh(1)
    key = jax.random.key(1)
    for kwargs, match in (
        (dict(duration=-1.0), "duration"),
        (dict(dt=0.0), "dt"),
        (dict(on_fault="ignore"), "on_fault must be one of"),
        (dict(record_spikes="nope"), "record_spikes names populations"),
        (dict(record_spikes=3), "record_spikes must be None, 'all'"),
    ):
        args = {"duration": 1.0, "dt": 0.1, **kwargs}
        with pytest.raises(ValueError, match=match):
            ns.distributed.simulate(net, args.pop("duration"), args.pop("dt"), key=key,
                                    mesh=mesh, **args)  # fmt: skip
    with pytest.raises(TypeError, match="jax.random.key"):
        ns.distributed.simulate(net, 1.0, 0.1, key=0, mesh=mesh)


def test_total_latency_delays_are_sharded():
    # refused before issue 12's round; now the latency rule sets the exchange interval
    b = ns.NetworkBuilder(key=jax.random.key(0), conventions="nest")
    b.add_population("P", ns.neurons.LIF(8))
    b.connect("P", "P", ns.connectivity.FixedProbability(0.5), weight=1.0,
              synapse=ns.synapses.Exponential(5.0), delay=0.0)  # fmt: skip
    assert layout(b.build(), 2, 0.1).interval == 2  # NEST: at least one step of latency


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_same_raster_as_one(tmp_path):
    port = _free_port()
    procs = []
    for pid in range(2):
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
            "NEUROSIM_COORDINATOR": f"127.0.0.1:{port}",
            "NEUROSIM_NUM_PROCESSES": "2",
            "NEUROSIM_PROCESS_ID": str(pid),
        }
        out = tmp_path / f"p{pid}.npz"
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "sharded_hosts.py"), str(out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
    try:
        logs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, logs, strict=True):
        assert p.returncode == 0, err[-4000:]
    net = ns.models.coba(n=64, key=jax.random.key(0))
    ref = ns.simulate(net, 30.0, 0.1, key=jax.random.key(1), progress=False)
    for pid in range(2):
        got = np.load(tmp_path / f"p{pid}.npz")
        assert int(got["n_devices"]) == 4  # 2 processes x 2 devices
        assert ref.spike_indices.size > 10
        np.testing.assert_array_equal(got["indices"], ref.spike_indices)
        np.testing.assert_array_equal(got["times"], ref.spike_times)


# -- bad input ---------------------------------------------------------------------------
def test_uneven_population_is_padded_and_merges_back():
    """50 neurons on 4 devices: blocks of 13, the last with 2 padding places (copies of
    neuron 49); splitting a state and merging it back gives the state."""
    net = ns.models.coba(n=50, key=jax.random.key(0))
    lay = layout(net, 4, 0.1)
    assert lay.block == (13,) and lay.padded(0)
    np.testing.assert_array_equal(lay.rows(0, 3), [39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
                                                   49, 49])  # fmt: skip
    local = local_networks(net, lay)
    assert all(loc.populations[0].n == 13 for loc in local)
    n_syn = sum(int(np.sum(np.asarray(loc.projections[0].conn.indices) < 13)) for loc in local)
    assert n_syn == net.projections[0].conn.nnz  # every synapse on exactly one device
    state = net.init_state(jax.random.key(1), 0.1)
    sh = split_state(net, lay, state)
    assert sh.net.neurons[0]["v"].shape == (4, 13)
    back = merge_state(net, lay, sh)
    for a, b in zip(jax.tree.leaves(state.neurons), jax.tree.leaves(back.neurons), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_more_devices_than_neurons_is_a_clear_error():
    net = ns.models.coba(n=4, key=jax.random.key(0))
    with pytest.raises(ValueError, match="4 neurons, fewer than the 8 devices"):
        layout(net, 8, 0.1)


def test_min_delay_checks():
    net = ns.models.coba(n=8, key=jax.random.key(0))  # delay 0: exchange every step
    assert layout(net, 2, 0.1).interval == 1
    with pytest.raises(ValueError, match="at least one step"):
        layout(net, 2, 0.1, min_delay=0.05)
    with pytest.raises(ValueError, match="longer than the network's minimum delay"):
        layout(net, 2, 0.1, min_delay=0.2)
    with pytest.raises(ValueError, match="multiple of dt"):
        layout(net, 2, 0.1, min_delay=0.15)
    assert layout(net, 2, 0.1, min_delay=0.1).interval == 1


def test_unsupported_parts_and_bad_mesh():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(4))
    b.connect("P", "P", ns.connectivity.FixedProbability(0.5), weight=1.0,
              synapse=ns.synapses.Exponential(5.0), backend="auto",
              dynamics=ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=800.0))  # fmt: skip
    with pytest.raises(ValueError, match="with dynamics"):
        layout(b.build(), 2, 0.1)
    net = ns.models.coba(n=8, key=jax.random.key(0))
    with pytest.raises(ValueError, match="1-D jax.sharding.Mesh"):
        ns.distributed.simulate(net, 1.0, key=jax.random.key(0), mesh="cpu")
    with pytest.raises(ValueError, match="n_devices must be in"):
        ns.distributed.make_mesh(len(jax.devices()) + 1)


def test_initialize_validates_before_touching_jax(monkeypatch):
    for k in ("NEUROSIM_COORDINATOR", "NEUROSIM_NUM_PROCESSES", "NEUROSIM_PROCESS_ID"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ValueError, match="coordinator"):
        ns.distributed.initialize(num_processes=2, process_id=0)
    with pytest.raises(ValueError, match=r"process_id must lie in \[0, 2\)"):
        ns.distributed.initialize("127.0.0.1:1", num_processes=2, process_id=2)
    with pytest.raises(ValueError, match="host:port"):
        ns.distributed.initialize("localhost", num_processes=1, process_id=0)


@pytest.mark.slow
def test_one_device_run_equals_run():
    """In-process (one CPU device): sharded ``run`` == ``ns.run`` (spikes and state)."""
    net = ns.models.coba(n=16, key=jax.random.key(0))
    s0 = net.init_state(jax.random.key(1), 0.1)
    s0 = eqx_set_v(s0, s0.neurons[0]["v"] + 4.0)
    key = jax.random.key(2)
    s1, out = ns.run(net, s0, 30, 0.1, key=key)
    t1, spikes = ns.distributed.run(net, s0, 30, 0.1, key=key, mesh=ns.distributed.make_mesh(1))
    assert float(out.spikes["P"].sum()) > 0
    np.testing.assert_array_equal(np.asarray(out.spikes["P"]), np.asarray(spikes["P"]))
    np.testing.assert_allclose(s1.neurons[0]["v"], t1.neurons[0]["v"], rtol=1e-6, atol=1e-6)


def eqx_set_v(state, v):
    import equinox as eqx

    return eqx.tree_at(lambda s: s.neurons[0]["v"], state, v)


@pytest.mark.slow
def test_one_device_run_of_a_multiscale_network_equals_run():
    """In-process (one CPU device): sharded ``run`` with replicated nodes and readouts."""
    from sharded_cases import multiscale

    net, _, _ = multiscale()
    s0 = net.init_state(jax.random.key(1), 0.1)
    key = jax.random.key(2)
    s1, out = ns.run(net, s0, 100, 0.1, key=key)
    t1, spikes = ns.distributed.run(net, s0, 100, 0.1, key=key, mesh=ns.distributed.make_mesh(1))
    assert float(out.spikes["P"].sum()) > 0
    np.testing.assert_array_equal(np.asarray(out.spikes["P"]), np.asarray(spikes["P"]))
    for f in ("nodes", "node_input", "readout_values"):
        for a, b in zip(jax.tree.leaves(getattr(s1, f)), jax.tree.leaves(getattr(t1, f)),
                        strict=True):  # fmt: skip
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
