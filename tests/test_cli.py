"""The command line: outputs, and one-line errors without traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurosim as ns
from neurosim import cli


def test_run_writes_outputs(tmp_path):
    out = tmp_path / "o"
    code = cli.main(
        ["run", "coba", "--n", "200", "--duration", "50", "--out", str(out), "--seed", "3"]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "model",
        "n",
        "duration_ms",
        "dt_ms",
        "seed",
        "n_spikes",
        "rate_hz",
        "rates_hz",
        "cv_isi",
        "compile_s",
        "run_s",
        "device",
        "jax_version",
    ):
        assert key in summary
    assert summary["n"] == 200 and summary["seed"] == 3 and set(summary["rates_hz"]) == {"E", "I"}
    # What was simulated, stated: whole steps of dt, and the pre-flight checks.
    assert summary["n_steps"] == 500 and summary["simulated_ms"] == pytest.approx(50.0)
    assert summary["checks"]["fastest_tau_ms"] == 5.0  # COBA's excitatory synapse
    assert summary["checks"]["memory_estimate_bytes"] > 0
    spikes = np.load(out / "spikes.npz")
    assert spikes["times_ms"].shape == spikes["indices"].shape
    assert spikes["indices"].size == summary["n_spikes"]
    assert np.all(np.diff(spikes["times_ms"]) >= 0)
    assert (out / "raster.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "nosuch"], "unknown model"),
        (["run", "coba", "--duration", "0"], "--duration"),
        (["run", "coba", "--duration", "-5"], "--duration"),
        (["run", "coba", "--n", "0"], "--n"),
        (["run", "coba", "--dt", "0"], "--dt"),
        (["run", "coba", "--dt", "2"], "--dt"),
        (["run", "coba", "--out", "/proc/forbidden/x"], "not writable"),
        (["run", "coba", "--n", "many"], "invalid int"),
    ],
)
def test_bad_arguments_one_line_error(args, fragment, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in err


def test_no_traceback_from_the_installed_command(tmp_path):
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurosim.cli",
            "run",
            "coba",
            "--n",
            "1",
            "--duration",
            "5",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1 and "n must be" in p.stderr


# -- reliability of the arguments (issue 16) ------------------------------------------------


def _one_line_error(args, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("seed", ["4294967296", "-1", "9223372036854775808", "1e3", "x"])
def test_seed_outside_32_bits_is_refused(seed, capsys):
    err = _one_line_error(["run", "coba", "--seed", seed], capsys)
    assert "--seed" in err and "4294967295" in err and repr(seed) in err


def test_seed_range_edges_are_accepted():
    p = cli._parser()
    for seed in (0, cli.SEED_MAX):
        assert p.parse_args(["run", "coba", "--seed", str(seed)]).seed == seed


@pytest.mark.parametrize(
    "duration, dt, suggestion", [("10.05", "0.1", "10 or 10.1"), ("0.15", "0.1", "0.1 or 0.2")]
)
def test_duration_not_whole_steps_is_refused(duration, dt, suggestion, capsys):
    err = _one_line_error(["run", "coba", "--duration", duration, "--dt", dt], capsys)
    assert "not a whole number of --dt" in err and suggestion in err


@given(k=st.integers(1, 10**6), dt=st.sampled_from([0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0]))
@settings(max_examples=200, deadline=None)
def test_whole_steps_accepts_every_multiple_and_refuses_half_steps(k, dt):
    """No JAX: the check is arithmetic. k*dt (as a float) is k steps; (k + 1/2)*dt is refused."""
    assert cli._whole_steps(k * dt, dt) == k
    with pytest.raises(SystemExit):
        cli._whole_steps((k + 0.5) * dt, dt)


@given(seed=st.integers(-(2**70), 2**70))
@settings(max_examples=100, deadline=None)
def test_seed_parsing_property(seed):
    p = cli._parser()
    if 0 <= seed <= cli.SEED_MAX:
        assert p.parse_args(["run", "coba", "--seed", str(seed)]).seed == seed
    else:
        with pytest.raises(SystemExit):
            p.parse_args(["run", "coba", "--seed", str(seed)])


@pytest.mark.parametrize(
    "model, dt, tau, limit",
    [
        ("coba", "1", "kinetics.tau = 5 ms", "0.5 ms"),  # the 5 ms excitatory synapse
        ("cobahh", "1", "<action potential> = 2 ms", "0.2 ms"),  # the HH spike itself
        ("cobahh", "0.25", "<action potential> = 2 ms", "0.2 ms"),  # 32 Hz instead of 41
    ],
)
def test_dt_too_coarse_for_the_model_is_refused(model, dt, tau, limit, capsys):
    err = _one_line_error(["run", model, "--dt", dt, "--duration", "10"], capsys)
    assert "fastest time constant" in err and tau in err and f"({limit})" in err
    assert "--allow-coarse-dt" in err


def test_allow_coarse_dt_runs_with_a_warning(tmp_path, capsys):
    out = tmp_path / "o"
    args = ["run", "coba", "--n", "20", "--duration", "1.2", "--dt", "0.6", "--no-plot"]
    assert cli.main([*args, "--allow-coarse-dt", "--out", str(out)]) == 0
    assert "warning" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_steps"] == 2 and summary["checks"]["dt_over_tau"] == pytest.approx(0.12)


def test_too_large_n_is_refused_with_the_estimate_before_building(capsys):
    err = _one_line_error(["run", "coba", "--n", "1000000000"], capsys)
    assert "needs an estimated" in err and "available" in err and "--n" in err


def test_memory_refusal_and_run_time_estimate(monkeypatch, capsys):
    import argparse

    import jax

    from neurosim import _preflight

    tiny = ns.models.coba(n=16, key=jax.random.key(0), connectivity="procedural")
    args = argparse.Namespace(n=4000, duration=1000.0, dt=0.1)
    monkeypatch.setattr(cli, "LONG_RUN_S", 0.0)
    info = cli._check_size(args, tiny, 10_000, "stored")
    err = capsys.readouterr().err
    assert "estimated run time" in err and info["run_s_estimate"] > 0
    monkeypatch.setattr(_preflight, "available_memory", lambda: (1 << 20, "test"))
    monkeypatch.setattr(_preflight, "device_memory", lambda d: None)
    with pytest.raises(SystemExit):
        cli._check_size(args, tiny, 10_000, "stored")
    err = capsys.readouterr().err
    assert "1 MiB available (test)" in err and "--connectivity procedural" in err


def test_memory_estimate_covers_a_built_network():
    """The estimate's parts bound the real arrays of a small stored COBA (and not wildly)."""
    import jax

    from neurosim import _preflight

    n = 200
    net = ns.models.coba(n=n, key=jax.random.key(0), connectivity="stored")
    per = _preflight.state_bytes_per_neuron(net, jax.random.key(1), 0.1)
    state = sum(np.asarray(x).nbytes for x in jax.tree.leaves(net.init_state(jax.random.key(1))))
    conn = sum(p.conn.nbytes() for p in net.projections)
    est = _preflight.estimate_memory(
        n, 100, 0.1, state_per_neuron=per, synapse_bytes=ns.models.stored_synapse_bytes(n)
    )
    assert est["state"] >= state
    assert conn <= est["synapses"] <= 4 * conn


def test_version_and_help_show_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"neurosim {ns.__version__}"
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # help text wraps lines
    assert e.value.code == 0
    for default in ("(default: 4000)", "(default: 1000.0)", "(default: 0.1)", "(default: 0)"):
        assert default in out
