"""Results, states and networks on disk (npz + JSON), NWB export, and the CLI's files."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile

import equinox as eqx
import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim import cli

DT = 0.1
RECORD = ["P.v", "P.exc.g", ns.Trace("I.v", indices=[0, 2], every=5)]


@pytest.fixture(scope="module")
def run():
    net = ns.models.coba(n=40, key=jax.random.key(0))
    res = ns.simulate(net, 30.0, DT, key=jax.random.key(1), record=RECORD)
    assert res.n_spikes > 0
    return net, res


def test_nwb_round_trip(run, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    net, res = run
    path = tmp_path / "r.nwb"
    res.to_nwb(path, metadata={"model": "coba", "seed": 0})
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        units = f.units
        assert list(units.id[:]) == list(range(40))  # all neurons, id = global index
        for j in range(40):  # spike times per unit (s) vs a plain selection of the result's
            want = np.sort(res.spike_times[res.spike_indices == j]) * 1e-3
            np.testing.assert_array_equal(np.asarray(units["spike_times"][j]), want)
        assert list(units["population"][:]) == ["P"] * 40
        assert list(units["group"][:]) == ["E"] * 32 + ["I"] * 8
        assert list(units["local_index"][:]) == list(range(40))
        units_of = {"P.v": "mV", "P.exc.g": "nS", "I.v": "mV"}
        for name, unit in units_of.items():
            ts = f.acquisition[name]
            assert ts.unit == unit
            np.testing.assert_array_equal(ts.data[:], res.traces[name])
            np.testing.assert_allclose(ts.timestamps[:], res.trace_times[name] * 1e-3, rtol=1e-15)
        notes = json.loads(f.notes)
        assert notes["model"] == "coba" and notes["dt_ms"] == DT and notes["status"] == "ok"
        assert notes["neurosim_version"] == ns.__version__
    ns.io.to_nwb(res, tmp_path / "s.nwb", all_neurons=False)
    with pynwb.NWBHDF5IO(str(tmp_path / "s.nwb"), "r") as io:
        ids = io.read().units.id[:]
    np.testing.assert_array_equal(ids, np.unique(res.spike_indices))


def test_trace_units():
    cuba = ns.models.cuba(n=20, key=jax.random.key(0))
    assert ns.io.trace_unit(cuba, "E.exc.g") == "pA"  # current-based receptor
    assert ns.io.trace_unit(cuba, "E.v") == "mV"
    assert ns.io.trace_unit(cuba, "E.refractory") == "steps"
    hh = ns.models.cobahh(n=20, key=jax.random.key(0))
    assert ns.io.trace_unit(hh, "P.m") == "a.u."
    assert ns.io.trace_unit(hh, "P.inh.g") == "nS"
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(4))
    b.connect("P", "P", ns.connectivity.AllToAll(), weight=1.0,
              synapse=ns.synapses.Exponential(5.0), receptor="exc")  # fmt: skip
    b.add_readout("rate", ns.network.PopulationRate(), source="P")
    b.add_readout("lfp", ns.network.SynapticLFP(("exc",)), source="P")
    b.add_readout("bold", ns.bold.BOLDReadout(tr=None), source="rate")
    b.add_readout("bold_frac", ns.bold.BOLDReadout(tr=None, V0=0.04), source="rate")
    net = b.build()
    units = {"rate": "Hz", "lfp": "pA", "bold": "%", "bold_frac": "a.u.", "bold.q": "a.u."}
    assert {k: ns.io.trace_unit(net, k) for k in units} == units


def test_result_round_trip(run, tmp_path):
    net, res = run
    path = tmp_path / "res.npz"
    res.save(path, metadata={"model": "coba"})
    with np.load(path, allow_pickle=False) as z:  # no object arrays anywhere
        assert all(z[k].dtype != object for k in z.files)
        assert zipfile.ZipFile(path).infolist()[0].compress_type == zipfile.ZIP_DEFLATED
    back = ns.io.load_result(path, network=net)
    np.testing.assert_array_equal(back.spike_times, res.spike_times)
    np.testing.assert_array_equal(back.spike_indices, res.spike_indices)
    assert list(back.traces) == list(res.traces)
    for k in res.traces:
        np.testing.assert_array_equal(back.traces[k], res.traces[k])
        np.testing.assert_array_equal(back.trace_times[k], res.trace_times[k])
    for attr in ("status", "message", "t_start", "duration", "dt", "n_steps", "run_s"):
        assert getattr(back, attr) == getattr(res, attr)
    assert back.group_rates_hz == res.group_rates_hz
    assert back.metadata["model"] == "coba" and back.metadata["index_ranges"]["I"] == [32, 40]
    with pytest.raises(ValueError, match="not a 'state'"):
        ns.io.load_state(path, like=net)


@pytest.mark.slow
def test_state_round_trip_continues_bitwise(run, tmp_path):
    net, res = run
    key = jax.random.key(1)
    first = ns.simulate(net, 15.0, DT, key=key)
    ns.io.save_state(first.final_state, tmp_path / "s.npz", dt=DT)
    state = ns.io.load_state(tmp_path / "s.npz", like=net)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(first.final_state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    like_state = ns.io.load_state(tmp_path / "s.npz", like=first.final_state)
    assert jax.tree.structure(like_state) == jax.tree.structure(first.final_state)
    second = ns.simulate(net, 15.0, DT, key=key, state=state)
    whole = ns.simulate(net, 30.0, DT, key=key)  # = the uninterrupted run
    np.testing.assert_array_equal(
        np.concatenate([first.spike_times, second.spike_times]), whole.spike_times
    )
    np.testing.assert_array_equal(
        np.concatenate([first.spike_indices, second.spike_indices]), whole.spike_indices
    )
    other = ns.models.coba(n=60, key=jax.random.key(0))
    with pytest.raises(ValueError, match="does not fit"):
        ns.io.load_state(tmp_path / "s.npz", like=other)


def test_network_round_trip(run, tmp_path):
    net, _ = run
    e_rev = net.populations[0].receptors[0].output.e_rev
    changed = eqx.tree_at(lambda n: n.populations[0].receptors[0].output.e_rev, net, e_rev + 5.0)
    ns.io.save_network(changed, tmp_path / "n.npz")
    back = ns.io.load_network(tmp_path / "n.npz", like=net)  # structure from net, values file
    for a, b in zip(
        jax.tree.leaves(eqx.filter(back, eqx.is_array)),
        jax.tree.leaves(eqx.filter(changed, eqx.is_array)),
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    other = ns.models.coba(n=60, key=jax.random.key(0))
    with pytest.raises(ValueError, match="does not fit this network"):
        ns.io.load_network(tmp_path / "n.npz", like=other)


@pytest.mark.slow
def test_cli_nwb_compressed_no_stale_files_segments_bitwise(tmp_path):
    pytest.importorskip("pynwb")
    out = tmp_path / "o"
    out.mkdir()
    (out / "raster.png").write_bytes(b"old")  # a previous run's file
    argv = ["run", "coba", "--n", "100", "--duration", "250", "--seed", "2", "--out", str(out)]
    assert cli.main([*argv, "--no-plot", "--format", "nwb"]) == 0
    assert not (out / "raster.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["n_steps"] == 2500  # two segments of <= 2000
    z = zipfile.ZipFile(out / "spikes.npz")
    assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    d = np.load(out / "spikes.npz", allow_pickle=False)
    net = ns.models.coba(n=100, key=jax.random.key(2))
    ref = ns.simulate(net, 250.0, DT, key=jax.random.fold_in(jax.random.key(2), 1))
    np.testing.assert_array_equal(d["times_ms"], ref.spike_times)
    np.testing.assert_array_equal(d["indices"], ref.spike_indices)
    assert (out / "result.nwb").stat().st_size > 0


@pytest.mark.slow
def test_cli_sigint_writes_partial_result(tmp_path):
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "neurosim.cli", "run", "coba", "--n", "50"]
    cmd += ["--duration", "1000000", "--no-plot", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = []
    reader = threading.Thread(target=lambda: err.extend(iter(proc.stderr.readline, "")))
    reader.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120 and not any("simulating" in e for e in err):
        time.sleep(0.2)  # the progress bar shows once the loop has run ~2 s
    proc.send_signal(signal.SIGINT)
    try:
        stdout, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
        reader.join(timeout=10)
    assert proc.returncode == 130, "".join(err)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "SIGINT" in summary["message"]
    assert 0 < summary["simulated_ms"] < 1000000
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "interrupted"
    d = np.load(out / "spikes.npz", allow_pickle=False)
    assert d["indices"].size == summary["n_spikes"]
    # The spikes written are the uninterrupted run's up to where it stopped.
    net = ns.models.coba(n=50, key=jax.random.key(0))
    ref = ns.simulate(
        net, summary["simulated_ms"], DT, key=jax.random.fold_in(jax.random.key(0), 1)
    )
    np.testing.assert_array_equal(d["times_ms"], ref.spike_times)
    np.testing.assert_array_equal(d["indices"], ref.spike_indices)
