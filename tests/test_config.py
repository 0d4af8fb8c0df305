"""Networks from config files (ns.config, ``neurosim run net.toml``).

The built-in models shipped as configs give bitwise the spikes of ``neurosim run MODEL`` with
the same seed (at a small size: the test edits sizes and the connection probability 80/n the
way ``ns.models`` computes them); ``load(dump(x))`` builds the same network (bitwise spikes and
traces); every malformed config is refused with the file, the key path and the fix.
"""

from __future__ import annotations

import copy
import json
import pathlib

import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "examples" / "configs"


def _small(model: str, n: int) -> dict:
    """The example config of a built-in model at size ``n``, as ``ns.models`` sizes it."""
    spec = copy.deepcopy(ns.config.read(CONFIGS / f"{model}.toml"))
    n_e = min(max(int(round(0.8 * n)), 1), n - 1)
    spec["populations"][0].update(size=n, groups={"E": n_e, "I": n - n_e})
    for p in spec["projections"]:
        p["connectivity"]["p"] = min(1.0, 80.0 / n)
    return spec


def _spikes(out) -> tuple[np.ndarray, np.ndarray]:
    d = np.load(pathlib.Path(out) / "spikes.npz")
    return d["times_ms"], d["indices"]


def test_every_example_config_is_valid():
    found = sorted(p.name for p in CONFIGS.glob("*.toml"))
    assert {"coba.toml", "cuba.toml", "cobahh.toml", "multiscale.toml"} <= set(found)
    for p in CONFIGS.glob("*.toml"):
        spec = ns.config.read(p)
        assert spec["network"]["name"] == p.stem


@pytest.mark.parametrize(
    "model", [pytest.param(m, marks=pytest.mark.slow) for m in ("coba", "cuba", "cobahh")]
)
def test_builtin_config_gives_the_builtin_spikes(model, tmp_path, capsys):
    n = 100
    ns.config.dump(_small(model, n), tmp_path / "net.toml")
    common = ["--duration", "30", "--seed", "7", "--no-plot"]
    assert main(["run", str(tmp_path / "net.toml"), "--out", str(tmp_path / "a"), *common]) == 0
    argv = ["run", model, "--n", str(n), "--out", str(tmp_path / "b"), *common]
    assert main([*argv, "--connectivity", "stored"]) == 0
    (ta, ia), (tb, ib) = _spikes(tmp_path / "a"), _spikes(tmp_path / "b")
    assert ia.size > 0
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(ia, ib)
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    for k in ("model", "n", "duration_ms", "dt_ms", "n_steps", "seed", "n_spikes", "rates_hz"):
        assert sa[k] == sb[k], k
    assert sa["config"] == str(tmp_path / "net.toml") and sa["status"] == "ok"


@pytest.mark.slow
def test_round_trip_small_network_is_bitwise():
    cfg = ns.config.loads(_GOOD)
    again = ns.config.loads(ns.config.dumps(cfg))
    assert again.spec == cfg.spec
    a, b = cfg.simulate(), again.simulate()
    assert a.n_spikes > 0
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_indices, b.spike_indices)
    import equinox as eqx

    assert eqx.tree_equal(cfg.network, again.network)


@pytest.mark.slow
def test_round_trip_is_bitwise(tmp_path):
    """load(dump(x)) is the same spec and the same network: spikes and traces bit for bit."""
    cfg = ns.config.load(CONFIGS / "multiscale.toml").with_run(duration=20.0)
    ns.config.dump(cfg, tmp_path / "copy.toml")
    again = ns.config.load(tmp_path / "copy.toml")
    assert again.spec == cfg.spec
    a, b = cfg.simulate(), again.simulate()
    assert a.n_spikes > 0 and set(a.traces) == {"wong.S_e", "rate_E", "lfp", "bold"}
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_indices, b.spike_indices)
    for k in a.traces:
        np.testing.assert_array_equal(a.traces[k], b.traces[k])


@pytest.mark.slow
def test_config_equals_the_same_builder_calls():
    """A config builds what the NetworkBuilder calls it describes build (a reference in Python)."""
    cfg = ns.config.loads(
        """
        [run]
        seed = 5
        [[populations]]
        name = "src"
        model = "PoissonSource"
        size = 20
        rate = "0.04 kHz"
        [[populations]]
        name = "P"
        model = "LIF"
        size = 10
        i_e = "0.1 nA"
        [[projections]]
        pre = "src"
        post = "P"
        connectivity = { generator = "FixedInDegree", k = 5 }
        weight = { dist = "uniform", low = 1.0, high = 2.0 }
        delay = { dist = "uniform", low = 0.0, high = "2 ms" }
        synapse = { model = "Exponential", tau = "0.005 s" }
        output = { model = "COBA", e_rev = 0.0 }
        """
    )
    import jax

    b = ns.NetworkBuilder(key=jax.random.key(5))
    b.add_population("src", ns.neurons.PoissonSource(20, rate=40.0))
    b.add_population("P", ns.neurons.LIF(10, i_e=100.0))
    b.connect(
        "src",
        "P",
        ns.connectivity.FixedInDegree(5),
        weight=ns.init.Uniform(1.0, 2.0),
        delay=ns.init.Uniform(0.0, 2.0),
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
    )
    import equinox as eqx

    assert eqx.tree_equal(cfg.network, b.build())


def test_connectome_file_paths_follow_the_dumped_file(tmp_path):
    (tmp_path / "data").mkdir()
    np.savetxt(tmp_path / "data" / "w.txt", [[0.0, 2.0, 1.0], [1.0, 0.0, 0.0], [3.0, 1.0, 0.0]])
    np.savetxt(tmp_path / "data" / "l.txt", np.full((3, 3), 30.0))
    (tmp_path / "net.toml").write_text(
        """
        [[rate_populations]]
        name = "nodes"
        model = "ReducedWongWang"
        size = 3
        [[couplings]]
        pre = "nodes"
        post = "nodes"
        model = "LinearCoupling"
        G = 0.2
        connectome = { weights = "data/w.txt", tract_lengths = "data/l.txt" }
        velocity = 3.0
        """
    )
    cfg = ns.config.load(tmp_path / "net.toml")
    (tmp_path / "elsewhere").mkdir()
    ns.config.dump(cfg, tmp_path / "elsewhere" / "copy.toml")
    text = (tmp_path / "elsewhere" / "copy.toml").read_text()
    assert '"../data/w.txt"' in text
    coupling = cfg.network.node_couplings[0].coupling
    again = ns.config.load(tmp_path / "elsewhere" / "copy.toml").network.node_couplings[0]
    w = np.loadtxt(tmp_path / "data" / "w.txt")
    w = w / w.sum(axis=1, keepdims=True)  # default normalize = "row_sum" (no diagonal here)
    np.testing.assert_allclose(np.asarray(coupling.weights), w, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(again.coupling.weights), coupling.weights)


_GOOD = """
[run]
duration = 10.0
[[populations]]
name = "P"
model = "LIF"
size = 20
groups = { E = 16, I = 4 }
i_e = 300.0
v_init = { dist = "uniform", low = -65.0, high = -50.0 }
[[projections]]
pre = "E"
post = "P"
connectivity = { generator = "FixedProbability", p = 0.1 }
weight = 1.0
synapse = { model = "Exponential", tau = 5.0 }
output = { model = "COBA", e_rev = 0.0 }
delay = 1.0
"""

# (what is changed in _GOOD, the key path the error must name, text of the fix it must give)
MALFORMED = [
    ('model = "LIF"', 'model = "LIFF"', "populations[0].model", "did you mean 'LIF'"),
    ("size = 20", "size = 20\ntau_mm = 3.0", "populations[0].tau_mm", "did you mean 'tau_m'"),
    ("size = 20", 'size = "twenty"', "populations[0].size", "must be an integer"),
    ("size = 20\n", "", "populations[0]", "missing required key 'size'"),
    ("size = 20", "size = -5", "populations[0].size", "must be an integer >= 1, got -5"),
    ("p = 0.1", "p = 1.5", "projections[0].connectivity.p", "must be <= 1, got 1.5"),
    ('pre = "E"', 'pre = "Ex"', "projections[0].pre", "did you mean 'E'"),
    (
        "groups = { E = 16, I = 4 }",
        "groups = { P = 16, I = 4 }",
        "populations[0].groups.P",
        "duplicate name 'P'",
    ),
    (
        "delay = 1.0",
        'delay = "1 mV"',
        "projections[0].delay",
        "is a voltage, but 'delay' is a time; use ms or s",
    ),
    (
        '"FixedProbability"',
        '"FixedProb"',
        "projections[0].connectivity.generator",
        "did you mean 'FixedProbability'",
    ),
    ("delay = 1.0", "delay = -1.0", "projections[0].delay", "must be >= 0 ms, got -1"),
    ("weight = 1.0", "weight = = 1.0", "line 15, column", "TOML syntax error"),
    (", e_rev = 0.0 }", " }", "projections[0].output", "COBA needs parameter 'e_rev'"),
    (
        "duration = 10.0",
        'duration = 10.0\nrecord = ["Q.v"]',
        "run.record[0].target",
        "'Q' is not a defined name",
    ),
    ("[run]", "[runn]", "runn", "did you mean 'run'"),
]


@pytest.mark.parametrize("old, new, path, fix", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_config_names_file_key_and_fix(tmp_path, old, new, path, fix):
    assert old in _GOOD
    bad = tmp_path / "bad.toml"
    bad.write_text(_GOOD.replace(old, new, 1))
    with pytest.raises(ns.config.ConfigError) as err:
        ns.config.read(bad)
    message = str(err.value)
    assert message.startswith(f"{bad}: "), message
    assert path in message and fix in message, message


def test_malformed_values_the_constructors_refuse_name_the_entry(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(_GOOD.replace('model = "LIF"', 'model = "LIF"\ntau_m = -2.0'))
    cfg = ns.config.load(bad)  # the schema takes any number; the model refuses it when built
    with pytest.raises(ns.config.ConfigError, match=r"bad.toml: populations\[0\]: tau_m must be"):
        cfg.builder()


def test_cli_refuses_a_malformed_config_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(_GOOD.replace("p = 0.1", "p = 2"))
    with pytest.raises(SystemExit) as e:
        main(["run", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err
    assert err.startswith(f"neurosim: error: {bad}: projections[0].connectivity.p: must be <= 1")
    with pytest.raises(SystemExit) as e:
        main(["run", "--config", str(CONFIGS / "coba.toml"), "--n", "100"])
    assert e.value.code == 2 and "--n is for the built-in models" in capsys.readouterr().err


def test_units_are_converted_to_the_canonical_ones():
    spec = ns.config.loads(
        _GOOD.replace("duration = 10.0", 'duration = "0.25 s"\ndt = "50 us"').replace(
            "weight = 1.0", 'weight = "2 uS"'
        )
    ).spec
    assert spec["run"]["duration"] == 250.0 and spec["run"]["dt"] == pytest.approx(0.05)
    assert spec["projections"][0]["weight"] == 2000.0  # nS


def test_dump_refuses_a_built_network():
    net = ns.config.loads(_RATE).network  # a rate-only network builds in well under a second
    with pytest.raises(TypeError, match="sampled connectivity"):
        ns.config.dumps(net)


@pytest.mark.slow
def test_whole_brain_config_runs_from_the_cli(tmp_path):
    """Rate-only network on tvb-data's 76 regions: traces and BOLD written to result.npz."""
    out = tmp_path / "wb"
    cfg = CONFIGS / "whole_brain.toml"
    assert main(["run", str(cfg), "--duration", "2000", "--out", str(out)]) == 0  # one TR
    res = ns.io.load_result(out / "result.npz")
    assert res.traces["wong.S_e"].shape == (2000, 76) and res.traces["bold"].shape == (1, 76)
    assert np.all(np.isfinite(res.traces["bold"]))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rate_populations"] == ["wong"] and summary["n"] == 0
    assert not (out / "raster.png").exists()  # no spiking population: no raster


def test_docs_name_every_model_a_config_can_use():
    from neurosim.config._registry import KINDS, registry

    text = (ROOT / "docs" / "config.md").read_text()
    skip = {"surrogate", "integrator"}  # named by example; every class of ns.neurons applies
    missing = {n for k in KINDS if k not in skip for n in registry(k) if f"`{n}`" not in text}
    assert not missing, missing


_RATE = """
[[rate_populations]]
name = "w"
model = "ReducedWongWangEI"
size = 2
[[couplings]]
pre = "w"
post = "w"
model = "LinearCoupling"
connectome = { weights = [[0.0, 1.0], [1.0, 0.0]], tract_lengths = [[0.0, 9.0], [9.0, 0.0]] }
velocity = 3.0
[[readouts]]
name = "bold"
model = "BOLD"
source = "w"
variable = "S_e"
"""

RATE_MALFORMED = [
    ('"LinearCoupling"', '"Linear"', "couplings[0].model", "did you mean 'LinearCoupling'"),
    (
        "weights = [[0.0, 1.0], [1.0, 0.0]], tract_lengths = [[0.0, 9.0], [9.0, 0.0]]",
        "tvb_data = 77",
        "couplings[0].connectome.tvb_data",
        "must be one of [66, 68, 76, 96, 192]",
    ),
    (
        ", tract_lengths = [[0.0, 9.0], [9.0, 0.0]]",
        "",
        "couplings[0].velocity",
        "add tract_lengths (mm) or centres (mm)",
    ),
    ('source = "w"', 'source = "ww"', "readouts[0].source", "did you mean 'w'"),
    ('variable = "S_e"', 'variable = "S_q"', "readouts[0]", "no state variable or observable"),
    ("size = 2", "size = 3", "couplings[0]", "give weights of shape (3, 3)"),
    ("size = 2", "size = 2\nnoise = { S_x = 0.1 }", "rate_populations[0]", "unknown state"),
]


@pytest.mark.parametrize("old, new, path, fix", RATE_MALFORMED, ids=[m[2] for m in RATE_MALFORMED])
def test_malformed_rate_configs_name_the_key(old, new, path, fix):
    assert old in _RATE
    with pytest.raises(ns.config.ConfigError) as err:
        ns.config.loads(_RATE.replace(old, new, 1), source="r.toml").builder()
    message = str(err.value)
    assert message.startswith(f"r.toml: {path}") and fix in message, message
    ns.config.loads(_RATE).builder()  # the unchanged config builds
