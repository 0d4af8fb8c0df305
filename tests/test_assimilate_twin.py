"""The whole-brain twin (ns.assimilate.RWWTwin / twin_experiment) and `neurosim assimilate`."""

import json

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main


def _twin(obs="abs", update_neural=False):
    W = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]])
    L = np.full((3, 3), 20.0)
    return ns.assimilate.RWWTwin(W, L, 100.0, obs, update_neural=update_neural)


@pytest.mark.parametrize("obs,update_neural", [("abs", False), ("z", False), ("abs", True)])
def test_get_put_round_trip(obs, update_neural):
    tw = _twin(obs, update_neural)
    m = tw.init_member(jax.random.key(0), np.array([0.30, 0.32, 0.34]), 0.03)
    x = tw.get(m)
    D = 3 + 1 + 4 * 3 + (3 + 1 if obs == "z" else 0) + (3 if update_neural else 0)
    assert x.shape == (D,)
    x2 = x + 0.01 * np.arange(D)  # distinct values land in distinct slots
    np.testing.assert_allclose(tw.get(tw.put(m, x2)), x2, rtol=1e-6)
    loc_xy, loc_yy = tw.localisation(update_g=False)
    assert loc_xy.shape == (D, 3) and loc_yy.shape == (3, 3)
    assert float(loc_xy[3].sum()) == 0.0  # G fixed: its row sees no observation


@pytest.mark.parametrize("obs,update_neural", [("abs", False), ("z", True)])
def test_rtps_vector_puts_params_and_states_in_their_slots(obs, update_neural):
    tw = _twin(obs, update_neural)
    m = tw.init_member(jax.random.key(0), np.full(3, 0.32), 0.03)
    a = np.asarray(tw.rtps_vector(0.25, 0.75))
    assert a.shape == tw.get(m).shape
    params = np.zeros(a.shape, bool)
    params[:4] = True  # I_o (3) and G
    if obs == "z":
        params[16:20] = True  # the affine readout (offsets, log-scale)
    np.testing.assert_array_equal(a[params], 0.25)
    np.testing.assert_array_equal(a[~params], 0.75)


def test_put_clips_physical_ranges():
    tw = _twin(update_neural=True)
    m = tw.init_member(jax.random.key(0), np.full(3, 0.32), 0.03)
    x = np.asarray(tw.get(m)).copy()
    x[4 + 3 : 4 + 12] = -1.0  # f, v, q negative
    x[-3:] = 2.0  # S above 1
    m2 = tw.put(m, x)
    assert float(m2["bold"].f.min()) == pytest.approx(1e-5)
    assert float(m2["rate"].nodes[0]["S"].max()) == 1.0


@pytest.mark.parametrize(
    "field,value",
    [("obs", "pct"), ("g_mode", "x"), ("members", 1), ("regions", 77), ("tr", 805.0),
     ("duration", 0.0), ("burn_in", 100.0), ("rtps_params", 1.5), ("rtps_states", -0.1),
     ("g_grid", 1), ("g_seeds", 0)],
)  # fmt: skip
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        ns.assimilate.TwinConfig(**{field: value}).check()


def test_cli_rejects_bad_config(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"members": 4, "bogus": 1}))
    assert main(["assimilate", "--config", str(cfg), "--out", str(tmp_path)]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["assimilate", "--members", "1", "--out", str(tmp_path)]) == 2
    assert "members" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_assimilate_tiny(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"regions": 3, "members": 4, "tr": 100.0, "fc_duration": 0.6,
                               "spinup": 0.2, "burn_in": 0.2, "seed": 3}))  # fmt: skip
    out = tmp_path / "out"
    assert main(["assimilate", "--config", str(cfg), "--duration", "0.6", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    saved = json.loads((out / "summary.json").read_text())
    assert saved["config"]["duration"] == 0.6 and saved["config"]["regions"] == 3  # flag won
    assert summary["n_windows"] == 6 and summary["n_regions"] == 3
    est = np.load(out / "estimates.npz")
    assert est["io_mean"].shape == (6, 3) and est["observed"].shape == (6, 3)
    assert np.all((est["io_hat"] > 0.28) & (est["io_hat"] < 0.36))  # inside the bounds
    assert np.all(est["io_lo"] <= est["io_mean"]) and np.all(est["io_mean"] <= est["io_hi"])
    # the oracle re-runs the truth with the same keys: the same series up to float32 rounding
    assert summary["oracle_truth_max_abs_diff"] < 1e-4 * max(1.0, np.abs(est["observed"]).max())
    assert (out / "assimilate.png").stat().st_size > 0
