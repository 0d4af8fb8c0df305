"""--connectivity auto|stored|procedural: the choice rule and the command line end to end."""

import json

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim import cli


def test_resolve_connectivity_rule():
    resolve = ns.models.resolve_connectivity
    assert resolve("coba", 4000, "stored") == {"connectivity": "stored"}
    assert resolve("cuba", 4000, "procedural") == {"connectivity": "procedural"}
    need = ns.models.stored_synapse_bytes(10**6)  # 80 M synapses x 4 bytes + row pointers
    assert need == 4 * 80 * 10**6 + 4 * (10**6 + 2)
    # auto: procedural when the stored synapses exceed 25 % of the available memory
    assert resolve("coba", 10**6, "auto", available=4 * need - 4) == {"connectivity": "procedural"}
    assert resolve("coba", 10**6, "auto", available=4 * need + 4) == {"connectivity": "stored"}
    assert resolve("coba", 4000, "auto") == {"connectivity": "stored"}  # 1.3 MB: fits
    with pytest.raises(ValueError, match="connectivity must be one of"):
        resolve("coba", 4000, "magic")
    with pytest.raises(ValueError, match="unknown model"):
        resolve("nosuch", 4000, "auto")


def test_models_accept_connectivity_names():
    net = ns.models.coba(n=100, key=jax.random.key(0), connectivity="procedural")
    assert all(isinstance(p.conn, ns.ops.ProceduralBernoulli) for p in net.projections)
    net = ns.models.cobahh(n=100, key=jax.random.key(0), connectivity="auto")
    assert all(isinstance(p.conn, ns.ops.CSR) for p in net.projections)
    with pytest.raises(ValueError, match="connectivity must be"):
        ns.models.cuba(n=100, connectivity="sometimes")


def test_cli_procedural_equals_stored(tmp_path):
    runs = {}
    for choice in ("stored", "procedural"):
        out = tmp_path / choice
        args = ["run", "coba", "--n", "200", "--duration", "30", "--out", str(out)]
        assert cli.main([*args, "--no-plot", "--connectivity", choice]) == 0
        runs[choice] = (json.loads((out / "summary.json").read_text()), np.load(out / "spikes.npz"))
    (s_sum, s_spk), (p_sum, p_spk) = runs["stored"], runs["procedural"]
    assert s_sum["connectivity"] == "stored" and p_sum["connectivity"] == "procedural"
    assert p_sum["n_spikes"] == s_sum["n_spikes"] > 0
    np.testing.assert_array_equal(p_spk["indices"], s_spk["indices"])
    np.testing.assert_array_equal(p_spk["times_ms"], s_spk["times_ms"])


def test_cli_rejects_unknown_connectivity(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "coba", "--connectivity", "cloud"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "--connectivity" in err and "\n" not in err


def test_bench_row_reports_build_and_memory():
    from neurosim import bench

    row = bench.run_case("coba", 200, 20.0, repeats=0, connectivity="procedural")
    assert row["connectivity"] == "procedural" and row["synapse_mb"] < 0.01
    assert row["build_peak_mb"] >= 0 and row["peak_rss_mb"] > 0 and row["run_s_all"]
    assert row["compile_s"] > 0 and row["first_call_s"] >= row["compile_s"]
    stored = bench.run_case("coba", 200, 20.0, repeats=1, connectivity="stored")
    assert stored["n_spikes"] == row["n_spikes"] and stored["synapse_mb"] > 0
