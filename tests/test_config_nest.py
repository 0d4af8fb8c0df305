"""The NEST validation models as configs: ``examples/configs/potjans_diesmann.toml`` and
``brunel2000.toml``.

The reference is the built-in model (``ns.models``, ``neurosim run MODEL``). The helpers
below write, from the model's published parameters (``potjans_diesmann_parameters``,
``brunel2000_parameters``), the config a given scale needs; the shipped files must be that
config at the CLI's default scale, and at a small scale the config must build the built-in
network and give its spikes bit for bit.
"""

from __future__ import annotations

import json
import pathlib

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim.cli import main
from neurosim.models import _brunel as bru
from neurosim.models import _potjans_diesmann as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "examples" / "configs"


def pd14_spec(scale=0.1, k_scale=None, background="poisson", dt=0.1, seed=0) -> dict:
    """The config of ``ns.models.potjans_diesmann(scale, k_scale, background)``."""
    p = pd.potjans_diesmann_parameters(scale, k_scale, background)
    syn, out = {"model": "Exponential", "tau": pd.TAU_SYN}, {"model": "CUBA"}
    pops = [
        {
            "name": name,
            "model": "LIF",
            "size": int(p["sizes"][i]),
            "tau_m": pd.TAU_M,
            "e_l": pd.E_L,
            "v_th": pd.V_TH,
            "v_reset": pd.V_RESET,
            "t_ref": pd.T_REF,
            "g_l": pd.C_M / pd.TAU_M,
            "i_e": float(p["dc"][i]),
            "v_init": {
                "dist": "normal",
                "loc": float(pd.V0_OPTIMIZED[0][i]),
                "std": float(pd.V0_OPTIMIZED[1][i]),
            },
        }
        for i, name in enumerate(pd.PD14_POPULATIONS)
    ]
    projections, drive = [], []
    for i, post in enumerate(pd.PD14_POPULATIONS):
        for j, pre in enumerate(pd.PD14_POPULATIONS):
            if p["n_synapses"][i, j] == 0:
                continue
            w = float(p["weight"][i, j])
            d = pd.DELAY_EXC if j % 2 == 0 else pd.DELAY_INH
            weight = {"dist": "truncated_normal", "loc": w, "std": abs(w) * pd.W_REL_STD}
            weight["low" if w > 0 else "high"] = 0.0
            projections.append(
                {
                    "pre": pre,
                    "post": post,
                    "connectivity": {
                        "generator": "FixedTotalNumber",
                        "n": int(p["n_synapses"][i, j]),
                    },
                    "weight": weight,
                    "delay": {
                        "dist": "truncated_normal",
                        "loc": d,
                        "std": d * pd.DELAY_REL_STD,
                        "low": 0.5 * dt,
                    },
                    "synapse": syn,
                    "output": out,
                    "salt": 8 * i + j,
                }
            )
        if background == "poisson":
            drive.append(
                {
                    "name": f"bg->{post}",
                    "target": post,
                    "rate": float(p["k_ext"][i]) * pd.BG_RATE,
                    "weight": p["weight_ext"],
                    "synapse": syn,
                    "output": out,
                }
            )
    return {
        "network": {"name": "potjans_diesmann", "conventions": "nest"},
        "run": {"dt": dt, "duration": 1000.0, "seed": seed},
        "populations": pops,
        "projections": projections,
        "poisson_inputs": drive,
    }


def brunel_spec(g=5.0, eta=2.0, J=0.1, scale=1.0, seed=0) -> dict:
    """The config of ``ns.models.brunel2000(g, eta, J, scale=scale)``."""
    p = bru.brunel2000_parameters(g, eta, J, scale=scale)
    syn, out = {"model": "Delta"}, {"model": "VoltageJump"}

    def projection(pre, k, w, salt):
        return {
            "pre": pre,
            "post": "P",
            "connectivity": {"generator": "FixedInDegree", "k": k, "allow_multapses": True},
            "weight": w,
            "delay": p["delay"],
            "synapse": syn,
            "output": out,
            "salt": salt,
        }

    return {
        "network": {"name": "brunel2000", "conventions": "nest"},
        "run": {"dt": 0.1, "duration": 1000.0, "seed": seed},
        "populations": [
            {
                "name": "P",
                "model": "LIF",
                "size": p["n_e"] + p["n_i"],
                "groups": {"E": p["n_e"], "I": p["n_i"]},
                "tau_m": bru.TAU_M,
                "e_l": 0.0,
                "v_th": bru.THETA,
                "v_reset": bru.V_R,
                "t_ref": bru.T_REF,
                "v_init": {"dist": "uniform", "low": 0.0, "high": bru.THETA},
            }
        ],
        "projections": [
            projection("E", p["c_e"], J, 1),
            projection("I", p["c_i"], -g * J, 2),
        ],
        "poisson_inputs": [
            {
                "name": "bg->P",
                "target": "P",
                "rate": p["c_e"] * p["nu_ext"],
                "weight": J,
                "synapse": syn,
                "output": out,
            }
        ],
    }


def _identical(a, b) -> bool:
    """Same tree structure and static fields, every leaf bitwise equal (``eqx.tree_equal``
    takes ~30 s on the microcircuit's hundreds of leaves)."""
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)

    def data(x):
        if jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key):
            return np.asarray(jax.random.key_data(x))
        return np.asarray(x)

    same = ta == tb and len(la) == len(lb)
    return same and all(np.array_equal(data(x), data(y)) for x, y in zip(la, lb, strict=True))


def _same(a: dict, b: dict) -> None:
    """Two normalised specs are equal (what differs is named)."""
    for section in set(a) | set(b):
        assert a.get(section) == b.get(section), section


def test_shipped_configs_are_the_builtin_models_at_the_cli_defaults():
    """The files hold the built-in models' parameters at ``neurosim run MODEL``'s defaults
    (potjans_diesmann --scale 0.1, brunel2000 --scale 1 --g 5 --eta 2 --J 0.1)."""
    shipped = ns.config.read(CONFIGS / "potjans_diesmann.toml")
    _same(shipped, ns.config.from_spec(pd14_spec(0.1)).spec)
    n_syn = pd.potjans_diesmann_parameters(0.1)["n_synapses"]
    assert len(shipped["projections"]) == np.count_nonzero(n_syn) == 55  # 9 pairs have none
    assert len(shipped["poisson_inputs"]) == 8
    shipped = ns.config.read(CONFIGS / "brunel2000.toml")
    _same(shipped, ns.config.from_spec(brunel_spec()).spec)


@pytest.mark.parametrize("name", ["potjans_diesmann", "brunel2000"])
def test_shipped_configs_round_trip(name, tmp_path):
    cfg = ns.config.load(CONFIGS / f"{name}.toml")
    ns.config.dump(cfg, tmp_path / "copy.toml")
    assert ns.config.load(tmp_path / "copy.toml").spec == cfg.spec


def test_small_potjans_diesmann_config_builds_the_builtin_network():
    spec = pd14_spec(0.01, 0.02, seed=3)
    net = ns.config.from_spec(spec).network
    ref = ns.models.potjans_diesmann(0.01, 0.02, key=jax.random.key(3))
    assert _identical(net, ref)
    assert net.conventions == ns.network.Conventions.nest()


def test_small_brunel_config_builds_the_builtin_network():
    net = ns.config.from_spec(brunel_spec(6.0, 4.0, scale=0.02, seed=2)).network
    ref = ns.models.brunel2000(6.0, 4.0, scale=0.02, key=jax.random.key(2))
    assert _identical(net, ref)


def _spikes(out) -> tuple[np.ndarray, np.ndarray]:
    d = np.load(pathlib.Path(out) / "spikes.npz")
    return d["times_ms"], d["indices"]


@pytest.mark.parametrize(
    "model, spec, options",
    [
        pytest.param(
            "potjans_diesmann",
            pd14_spec(0.01, seed=4),
            ["--scale", "0.01"],
            marks=pytest.mark.slow,  # ~70 s on 2 cores: two compiles of 55 projections
        ),
        ("brunel2000", brunel_spec(scale=0.02, seed=4), ["--scale", "0.02"]),
    ],
    ids=["potjans_diesmann", "brunel2000"],
)
def test_config_run_gives_the_builtin_spikes(model, spec, options, tmp_path):
    """``neurosim run net.toml`` and ``neurosim run MODEL`` at the same scale and seed
    (the microcircuit's networks are bitwise equal in the fast tier above)."""
    ns.config.dump(spec, tmp_path / "net.toml")
    common = ["--duration", "30", "--seed", "4", "--no-plot"]
    assert main(["run", str(tmp_path / "net.toml"), "--out", str(tmp_path / "a"), *common]) == 0
    assert main(["run", model, *options, "--out", str(tmp_path / "b"), *common]) == 0
    (ta, ia), (tb, ib) = _spikes(tmp_path / "a"), _spikes(tmp_path / "b")
    assert ia.size > 0
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(ia, ib)
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    for k in ("n", "n_steps", "seed", "n_spikes", "rates_hz"):
        assert sa[k] == sb[k], k


@pytest.mark.slow
def test_shipped_potjans_diesmann_builds_the_builtin_network():
    """The file itself, at its scale 0.1 (7,717 neurons, ~3 million synapses)."""
    net = ns.config.load(CONFIGS / "potjans_diesmann.toml").network
    assert _identical(net, ns.models.potjans_diesmann())
