"""Config keys of the NEST models' parts: [[poisson_inputs]], [[gap_junctions]], projection
``dynamics`` (STP, STDP, stacked) and ``salt``, ``[network] conventions``, ``[run]
record_spikes`` / ``allow_coarse_dt``, bounded distributions and ``FixedTotalNumber``.

Each builds what the equivalent ``NetworkBuilder`` calls build; each malformed value is
refused naming the file, the key path, the value and what is allowed.
"""

from __future__ import annotations

import pathlib

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main

_BASE = """
[network]
conventions = "nest"
[run]
duration = 10.0
seed = 3
record_spikes = ["P"]
[[populations]]
name = "P"
model = "LIF"
size = 12
groups = { E = 8, I = 4 }
i_e = 300.0
[[populations]]
name = "S"
model = "PoissonSource"
size = 6
rate = 50.0
[[projections]]
pre = "E"
post = "P"
connectivity = { generator = "FixedTotalNumber", n = 30 }
weight = { dist = "truncated_normal", loc = 1.0, std = 0.5, low = 0.0, high = 2.0 }
delay = { dist = "clipped", of = { dist = "normal", loc = 1.5, std = 0.75 }, low = 0.1 }
synapse = { model = "Exponential", tau = 5.0 }
output = { model = "COBA", e_rev = 0.0 }
dynamics = [
    { model = "TsodyksMarkram", U = 0.2, tau_rec = 200.0 },
    { model = "PairSTDP", w_max = 2.0 },
]
salt = 40
[[projections]]
pre = "S"
post = "P"
connectivity = { generator = "FixedInDegree", k = 2 }
weight = 2.0
synapse = { model = "Exponential", tau = 5.0 }
output = { model = "COBA", e_rev = 0.0 }
dynamics = { model = "TsodyksMarkram", U = 0.5, tau_rec = 800.0 }
[[poisson_inputs]]
target = "I"
rate = "8 kHz"
weight = 0.5
synapse = { model = "Exponential", tau = 5.0 }
output = { model = "COBA", e_rev = 0.0 }
[[gap_junctions]]
target = "I"
connectivity = { generator = "FixedProbability", p = 0.5 }
weight = "0.2 nS"
"""


def _identical(a, b) -> bool:
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    same = ta == tb and len(la) == len(lb)
    return same and all(
        np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb, strict=True)
    )


def test_new_parts_build_what_the_builder_calls_build():
    cfg = ns.config.loads(_BASE)
    key = jax.random.key(3)
    b = ns.NetworkBuilder(key=key, conventions="nest")
    b.add_population("P", ns.neurons.LIF(12, i_e=300.0), groups={"E": 8, "I": 4})
    b.add_population("S", ns.neurons.PoissonSource(6, rate=50.0))
    coba = {"synapse": ns.synapses.Exponential(5.0), "output": ns.synapses.COBA(0.0)}
    b.connect(
        "E",
        "P",
        ns.connectivity.FixedTotalNumber(30),
        weight=ns.init.TruncatedNormal(1.0, 0.5, low=0.0, high=2.0),
        delay=ns.init.Clipped(ns.init.Normal(1.5, 0.75), low=0.1),
        dynamics=ns.plasticity.Stack(
            ns.plasticity.TsodyksMarkram(U=0.2, tau_rec=200.0),
            ns.plasticity.PairSTDP(w_max=2.0),
        ),
        key=jax.random.fold_in(key, 40),
        **coba,
    )
    b.connect(
        "S",
        "P",
        ns.connectivity.FixedInDegree(2),
        weight=2.0,
        dynamics=ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=800.0),
        **coba,
    )
    b.add_poisson_input("I", rate_hz=8000.0, weight=0.5, **coba)
    b.gap_junctions("I", ns.connectivity.FixedProbability(0.5), weight=0.2)
    assert _identical(cfg.network, b.build())
    assert [p.name for p in cfg.network.poisson_inputs] == ["poisson0->I"]
    assert cfg.network.gap_junctions[0].name == "gap:I"


def test_new_parts_round_trip_through_dump():
    cfg = ns.config.loads(_BASE)
    text = ns.config.dumps(cfg)
    assert 'conventions = "nest"' in text and "[[gap_junctions]]" in text
    assert '\n    { model = "PairSTDP", w_max = 2.0 },\n' in text  # a stack: one rule a line
    assert ns.config.loads(text).spec == cfg.spec


def test_conventions_table_and_record_spikes_reach_the_run(tmp_path):
    text = _BASE.replace(
        'conventions = "nest"', 'conventions = { delay = "total", refractory = "nest" }'
    )
    cfg = ns.config.loads(text)
    conv = cfg.network.conventions
    assert (conv.delay, conv.refractory, conv.spike_time) == ("total", "nest", "start")
    res = cfg.simulate()
    assert res.spikes_recorded == ("P",) and res.n_spikes > 0
    # the CLI writes the populations [run] record_spikes names: here the source's too
    (tmp_path / "net.toml").write_text(text.replace('["P"]', '"all"'))
    assert main(["run", str(tmp_path / "net.toml"), "--out", str(tmp_path / "o"), "--no-plot"]) == 0
    indices = np.load(pathlib.Path(tmp_path / "o" / "spikes.npz"))["indices"]
    assert indices.max() >= 12  # S's neurons are 12..17


_DYN = '{ model = "TsodyksMarkram", U = 0.5, tau_rec = 800.0 }'
_POISSON_RATE = 'rate = "8 kHz"'
_GAP_W = 'weight = "0.2 nS"'
_TN = '{ dist = "truncated_normal", loc = 1.0, std = 0.5, low = 0.0, high = 2.0 }'

# (what is changed in _BASE, the key path the error must name, text of what is allowed)
MALFORMED = [
    ('"nest"', '"NEST"', "network.conventions", "must be one of ['default', 'nest']"),
    ('"nest"', "2", "network.conventions", 'must be "default", "nest" or a table'),
    ('"nest"', '{ delay = "half" }', "network.conventions.delay", "['extra', 'total']"),
    ('"nest"', '{ delays = "total" }', "network.conventions.delays", "did you mean 'delay'"),
    ('["P"]', "3", "run.record_spikes", 'must be true, false, "all" or a list'),
    ('["P"]', '["E"]', "run.record_spikes[0]", "'E' is not a spiking population"),
    ('["P"]', '"every"', "run.record_spikes", "must be one of ['all']"),
    ("seed = 3", 'seed = 3\nallow_coarse_dt = "yes"', "run.allow_coarse_dt", "true or false"),
    ("salt = 40", "salt = -1", "projections[0].salt", "must be an integer >= 0, got -1"),
    ("salt = 40", "salt = 4294967296", "projections[0].salt", "must be < 2**32"),
    ("salt = 40", "salt = 1.5", "projections[0].salt", "must be an integer, got 1.5"),
    (_DYN, "3", "projections[1].dynamics", "must be a table"),
    (_DYN, "[]", "projections[1].dynamics", "at least one rule"),
    (_DYN, '{ model = "Tsodyks" }', "projections[1].dynamics.model", "'TsodyksMarkram'"),
    (_DYN, '{ model = "TsodyksMarkram", tau_rec = 1.0 }', "dynamics", "needs parameter 'U'"),
    (
        '{ model = "PairSTDP", w_max = 2.0 }',
        '{ model = "PairSTDP", interaction = "nearst" }',
        "projections[0].dynamics[1].interaction",
        "must be one of ['all_to_all', 'nearest'], got 'nearst' (did you mean 'nearest'?)",
    ),
    (
        '{ model = "PairSTDP", w_max = 2.0 }',
        '{ model = "PairSTDP", tau_pluss = 2.0 }',
        "projections[0].dynamics[1].tau_pluss",
        "did you mean 'tau_plus'",
    ),
    (_DYN, '{ model = "TsodyksMarkram", U = 0.5, tau_rec = "1 mV" }', "tau_rec", "is a time"),
    (_POISSON_RATE, "rate = -5.0", "poisson_inputs[0].rate", "must be >= 0 Hz, got -5"),
    (_POISSON_RATE, 'rate = "5 mV"', "poisson_inputs[0].rate", "but 'rate' is a rate"),
    (_POISSON_RATE, 'rate = { dist = "uniform" }', "poisson_inputs[0].rate", "not a distrib"),
    (_POISSON_RATE, "rates = 5.0", "poisson_inputs[0].rates", "did you mean 'rate'"),
    ('target = "I"\nrate', 'target = "S"\nrate', "poisson_inputs[0].target", "not a neuron"),
    (
        'weight = 0.5\nsynapse = { model = "Exponential", tau = 5.0 }\n',
        'weight = "1 mV"\n',
        "poisson_inputs[0]",
        'give synapse = { model = "Exponential"',
    ),
    ("weight = 0.5", 'weight = "1 mV"', "poisson_inputs[0].weight", "is a conductance"),
    (_GAP_W, "weight = -1.0", "gap_junctions[0].weight", "must be >= 0 nS, got -1"),
    ("p = 0.5", "p = 2.0", "gap_junctions[0].connectivity.p", "must be <= 1, got 2"),
    (
        'target = "I"\nconnectivity',
        'target = "Q"\nconnectivity',
        "gap_junctions[0].target",
        "'Q' is not a neuron",
    ),
    (_GAP_W, "weight = true", "gap_junctions[0].weight", "must be a number"),
    ("n = 30", "n = -1", "projections[0].connectivity.n", "must be an integer >= 0, got -1"),
    ("n = 30", "n = 2.5", "projections[0].connectivity.n", "must be an integer, got 2.5"),
    ("n = 30", "m = 30", "projections[0].connectivity.m", "allowed here: allow_autapses"),
    (_TN, _TN.replace("low = 0.0", "low = 2.5"), "weight", "needs low < high"),
    (_TN, _TN.replace("low", "lo"), "projections[0].weight.lo", "did you mean 'low'"),
    (_TN, _TN.replace("std = 0.5", "std = -0.5"), "weight.std", "must be >= 0 nS, got -0.5"),
    (
        'of = { dist = "normal", loc = 1.5, std = 0.75 }, low = 0.1',
        'of = { dist = "normal", loc = 1.5, std = 0.75 }',
        "projections[0].delay",
        "must stay >= 0 ms, got {'dist': 'clipped'",
    ),
    ("of = { dist", "of = { kind", "projections[0].delay.of", "must be a distribution table"),
    (
        _TN,
        _TN.replace("high = 2.0", "high = 3.0"),
        "projections[0].weight",
        "PairSTDP needs initial weights in [w_min, w_max] = [0, 2], but weight = ",
    ),
    ('of = { dist = "normal", loc = 1.5, std = 0.75 }', "of = 1.5", "delay.of", "must be a table"),
]


@pytest.mark.parametrize("old, new, path, allowed", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_new_keys_name_file_key_and_fix(old, new, path, allowed):
    assert old in _BASE
    with pytest.raises(ns.config.ConfigError) as err:
        ns.config.loads(_BASE.replace(old, new, 1), source="net.toml")
    message = str(err.value)
    assert message.startswith("net.toml: ") and path in message and allowed in message, message


def test_values_the_constructors_refuse_name_the_dynamics_entry():
    bad = _BASE.replace(_DYN, '{ model = "TsodyksMarkram", U = 1.5, tau_rec = 800.0 }')
    cfg = ns.config.loads(bad, source="net.toml")  # U's range is the constructor's to check
    with pytest.raises(ns.config.ConfigError, match=r"net.toml: projections\[1\].dynamics: "):
        cfg.builder()
    rules = '[{ model = "PairSTDP", w_max = 2.0 }, { model = "TripletSTDP", w_max = 2.0 }]'
    two_rules = _BASE.replace(_DYN, rules)
    with pytest.raises(ns.config.ConfigError, match=r"projections\[1\].dynamics: .*own"):
        ns.config.loads(two_rules, source="net.toml").builder()
