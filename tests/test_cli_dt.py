"""``neurosim run``'s time-step check counts only time constants with a dt error (issue 13).

An LIF with the ``Exact`` integrator (its default) and its current-based receptors with
linear kinetics are integrated by the Rotter-Diesmann propagators (docs/integration.md): a
0.5 ms synapse at dt = 0.1 ms has no dt error, so it neither refuses nor warns. The same
synapse held over the step (an ``Euler``/``ExpEuler`` membrane, or a ``COBA`` output) is
refused with the message it always had.
"""

import json

import pytest

from neurosim import cli

NET = """
[network]
name = "tiny"

[run]
dt = 0.1
duration = 2.0
seed = 1

[[populations]]
name = "E"
model = "LIF"
size = 4
{integrator}

[[poisson_inputs]]
target = "E"
rate = "20 kHz"
weight = "{weight}"
synapse = {{ model = "{kinetics}", tau = 0.5 }}
output = {{ {output} }}
"""
OUTPUTS = {"CUBA": ('model = "CUBA"', "40 pA"), "COBA": ('model = "COBA", e_rev = 0.0', "2 nS")}


def _config(tmp_path, integrator="", kinetics="Exponential", output="CUBA", extra=""):
    path = tmp_path / "net.toml"
    table, weight = OUTPUTS[output]
    text = NET.format(integrator=integrator, kinetics=kinetics, output=table, weight=weight)
    path.write_text(text + extra)
    return str(path)


@pytest.mark.parametrize("kinetics", ["Exponential", "Alpha"])
def test_exactly_integrated_fast_synapses_run_without_a_warning(kinetics, tmp_path, capsys):
    out = tmp_path / "o"
    net = _config(tmp_path, kinetics=kinetics)
    assert cli.main(["run", net, "--out", str(out), "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "inaccurate" not in err
    checks = json.loads((out / "summary.json").read_text())["checks"]
    assert checks["fastest_tau_ms"] is None  # nothing with a dt error to bound


@pytest.mark.parametrize(
    "integrator, output",
    [
        ('integrator = "Euler"', "CUBA"),  # the current held over an Euler membrane step
        ('integrator = "ExpEuler"', "CUBA"),  # held over an exact membrane step
        ("", "COBA"),  # exact membrane, but the conductance is held over the step
    ],
)
def test_held_fast_time_constants_are_still_refused(integrator, output, tmp_path, capsys):
    net = _config(tmp_path, integrator=integrator, output=output)
    with pytest.raises(SystemExit) as e:
        cli.main(["run", net, "--out", str(tmp_path / "o"), "--no-plot"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "neurosim: error: --dt 0.1 ms is 0.2 of the fastest time constant of tiny "
        "(populations[0].receptors[0].kinetics.tau = 0.5 ms); at most 1/10 of it (0.05 ms) "
        "gives accurate results: use a smaller --dt, or --allow-coarse-dt to run anyway"
    ]


def test_only_the_inexact_population_bounds_dt(tmp_path, capsys):
    """Next to an exact population with a 0.5 ms synapse, an Euler one with a 1.5 ms synapse
    sets the limit (0.15 ms): dt = 0.1 ms runs, with the 1/20 warning naming it."""
    extra = """
[[populations]]
name = "H"
model = "LIF"
size = 2
integrator = "Euler"

[[poisson_inputs]]
target = "H"
rate = "1 kHz"
weight = "40 pA"
synapse = { model = "Exponential", tau = 1.5 }
output = { model = "CUBA" }
"""
    out = tmp_path / "o"
    assert cli.main(["run", _config(tmp_path, extra=extra), "--out", str(out), "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert "populations[1].receptors[0].kinetics.tau = 1.5 ms" in err and "above 1/20" in err
    checks = json.loads((out / "summary.json").read_text())["checks"]
    assert checks["fastest_tau_ms"] == 1.5
    assert checks["where"] == "populations[1].receptors[0].kinetics.tau"
