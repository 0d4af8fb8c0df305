"""`neurosim assimilate --twin spiking` (twin b on the command line): flags, errors, a tiny run."""

import json

import numpy as np
import pytest

from neurosim.cli import main


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--twin", "spiking", "--obs", "z"], "--obs"),  # a rate-twin flag
        (["--twin", "spiking", "--g-mode", "enkf"], "--g-mode"),
        (["--neurons", "100"], "--neurons"),  # a spiking-twin flag without --twin spiking
        (["--twin", "spiking", "--estimate", "AMPA,KAINATE"], "estimate"),
        (["--twin", "spiking", "--members", "1"], "members"),
        (["--twin", "spiking", "--spread", "0.7"], "spread"),
    ],
)
def test_bad_requests_exit_2_naming_the_flag(tmp_path, capsys, argv, word):
    assert main(["assimilate", *argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurosim: error:") and word in err
    assert not (tmp_path / "o" / "summary.json").exists()


def test_config_file_fields_are_checked_against_the_chosen_twin(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"fc_duration": 10.0}))  # a rate-twin field
    argv = ["assimilate", "--twin", "spiking", "--config", str(cfg), "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "fc_duration" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:filter divergence")  # 2 members, 2 windows: expected
@pytest.mark.slow  # builds and runs 2 regions x 100 neurons x 2 members (~20-40 s)
def test_tiny_spiking_twin_writes_its_files(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["assimilate", "--twin", "spiking", "--regions", "2", "--neurons", "100",
            "--members", "2", "--duration", "1.6", "--burn-in", "0", "--settle-ms", "100",
            "--estimate", "AMPA,GABA_A", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["twin"] == "spiking" and summary["n_windows"] == 2 == last["n_windows"]
    assert summary["config"]["estimate"] == ["AMPA", "GABA_A"]
    assert summary["n_neurons"] == 200 and summary["members"] == 2
    z = np.load(out / "estimates.npz")
    assert z["h_true"].shape == z["h_hat"].shape == (2, 2)  # receptors x regions
    assert z["observed"].shape == z["forecast"].shape == (2, 2)  # windows x regions
    assert np.all(np.isfinite(z["forecast"])) and np.all((z["h_hat"] > 0.5) & (z["h_hat"] < 1.5))
    assert (out / "assimilate.png").stat().st_size > 0
