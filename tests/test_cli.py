"""The command line: outputs, and one-line errors without traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest

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
        "group_rates_hz",
        "cv_isi",
        "compile_s",
        "run_s",
        "device",
        "jax_version",
    ):
        assert key in summary
    assert summary["n"] == 200 and summary["seed"] == 3
    assert set(summary["group_rates_hz"]) == {"E", "I"}
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
