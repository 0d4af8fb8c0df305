"""``neurosim run brunel2000|potjans_diesmann``: contract outputs, NEST-model options."""

import json
import re

import numpy as np
import pytest

from neurosim import cli


@pytest.mark.slow
def test_run_brunel2000_writes_the_contract_outputs(tmp_path):
    out = tmp_path / "b"
    args = ["run", "brunel2000", "--scale", "0.01", "--g", "6", "--eta", "4", "--duration",
            "20", "--out", str(out), "--no-plot"]  # fmt: skip
    assert cli.main(args) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["model"] == "brunel2000" and s["n"] == 125  # N_E = 100, N_I = 25
    assert set(s["rates_hz"]) == {"E", "I"}  # the Poisson pool is not recorded
    assert s["checks"]["model_options"] == {"g": 6.0, "eta": 4.0, "J": 0.1, "scale": 0.01}
    z = np.load(out / "spikes.npz")
    assert z["indices"].size == s["n_spikes"] and np.all(z["indices"] < 125)
    assert np.all(np.diff(z["times_ms"]) >= 0)


@pytest.mark.parametrize(
    "args,match",
    [
        (["potjans_diesmann", "--scale", "2"], "scale must lie in \\(0, 1\\]"),
        (["potjans_diesmann", "--scale", "0.01", "--k-scale", "0"], "k_scale must lie"),
        (["brunel2000", "--J", "0"], "J must be > 0"),
    ],
)
def test_nest_model_options_refused_in_one_line(tmp_path, capsys, args, match):
    with pytest.raises(SystemExit) as e:
        cli.main(["run", *args, "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurosim: error:") and "\n" not in err
    assert re.search(match, err)
