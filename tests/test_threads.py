"""CPU thread pools (neurosim._threads, `neurosim run --threads`)."""

import os
import subprocess
import sys

import jax.numpy as jnp
import pytest

from neurosim._threads import set_cpu_threads
from neurosim.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = """
import collections, json, os, sys
from neurosim._threads import set_cpu_threads
n = set_cpu_threads(int(sys.argv[1]))
import jax.numpy as jnp
x = jnp.ones((256, 256)); (x @ x).block_until_ready()
names = collections.Counter(
    open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task"))
print(json.dumps({"n": n, "eigen": names.get("tf_XLAEigen", 0),
                  "affinity": sorted(os.sched_getaffinity(0))}))
"""


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and at least 2 cores",
)
@pytest.mark.parametrize("n", [1, 2])
def test_pool_sized_and_affinity_given_back(n):
    import json

    before = sorted(os.sched_getaffinity(0))
    out = subprocess.run([sys.executable, "-c", PROBE, str(n)], capture_output=True, text=True,
                         check=True, cwd=ROOT)  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["n"] == n
    assert got["eigen"] == n  # XLA's intra-op (Eigen) pool has exactly n threads
    assert got["affinity"] == before  # not pinned: every core still usable


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_bad_thread_counts(bad):
    with pytest.raises(ValueError, match="threads"):
        set_cpu_threads(bad)


def test_too_late_once_jax_has_started():
    jnp.zeros(1).block_until_ready()
    with pytest.raises(RuntimeError, match="before the first JAX computation"):
        set_cpu_threads(1)


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_cli_refuses_bad_threads(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["run", "coba", "--threads", value, "--out", str(tmp_path)])
    assert e.value.code == 2 and "--threads" in capsys.readouterr().err


def test_cli_explicit_threads_after_jax_started_is_a_clear_error(tmp_path, capsys):
    jnp.zeros(1).block_until_ready()
    with pytest.raises(SystemExit) as e:
        main(["run", "coba", "--n", "40", "--duration", "1", "--threads", "1",
              "--out", str(tmp_path)])  # fmt: skip
    assert e.value.code == 2
    assert "before the first JAX computation" in capsys.readouterr().err


def test_cli_run_records_its_threads(tmp_path):
    import json

    out = tmp_path / "o"
    subprocess.run([sys.executable, "-m", "neurosim.cli", "run", "coba", "--n", "40",
                    "--duration", "1", "--threads", "1", "--no-plot", "--out", str(out)],
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    assert json.loads((out / "summary.json").read_text())["cpu_threads"] == 1
