"""Interrupted runs resumed bitwise (issue 13): config runs stream spikes and traces per
segment, ``--resume`` refuses another config, and a real SIGINT then ``--resume``.

The config is 20 exactly integrated LIF neurons under Poisson input, 498 steps of 0.1 ms in
segments of 100 (the last one ends inside a block of the ``every = 4`` trace), compared with
one ``ns.simulate`` call of the same config (default chunking: no segments at all).
"""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim import _cli_stream, cli

CONFIG = """
[network]
name = "tiny_rec"

[run]
dt = 0.1
duration = 49.8
seed = 3
record = [{ target = "E.v", indices = [0, 1, 2], every = 4 }]

[[populations]]
name = "E"
model = "LIF"
size = 20

[[poisson_inputs]]
target = "E"
rate = "12 kHz"
weight = "40 pA"
synapse = { model = "Exponential", tau = 2.0 }
output = { model = "CUBA" }
"""
SEGMENT = ["--segment-steps", "100", "--no-plot"]
BUILT_IN = ["run", "coba", "--n", "64", "--duration", "50", *SEGMENT]


class Crash(BaseException):
    """Stands for the process dying (nothing may catch it)."""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """``(path, reference)``: the config file and its uninterrupted one-call result."""
    path = tmp_path_factory.mktemp("cfg") / "net.toml"
    path.write_text(CONFIG)
    ref = ns.config.load(path).simulate(progress=False)
    assert ref.n_spikes > 20 and ref.traces["E.v"].shape == (125, 3)  # 124 blocks + 2 steps
    return str(path), ref


def _progress(out):
    with open(os.path.join(out, "stream", "progress.json")) as f:
        return json.load(f)


def _crash_after(monkeypatch, n_segments):
    original = _cli_stream.Stream._write_segment

    def write(self, k, *a, **kw):
        original(self, k, *a, **kw)
        if k + 1 == n_segments:
            raise Crash

    monkeypatch.setattr(_cli_stream.Stream, "_write_segment", write)


def _assert_same(out, ref, traces=True):
    """``out``'s spikes (and ``result.npz`` traces) are ``ref``'s, bit for bit."""
    d = np.load(os.path.join(out, "spikes.npz"), allow_pickle=False)
    np.testing.assert_array_equal(d["times_ms"], ref.spike_times)
    np.testing.assert_array_equal(d["indices"], ref.spike_indices)
    if traces:
        got = ns.io.load_result(os.path.join(out, "result.npz"))
        assert set(got.traces) == set(ref.traces)
        for name in ref.traces:
            np.testing.assert_array_equal(got.traces[name], ref.traces[name])
            np.testing.assert_array_equal(got.trace_times[name], ref.trace_times[name])


def test_config_run_streams_traces_and_resumes_bitwise(tmp_path, monkeypatch, config):
    path, ref = config
    out = str(tmp_path / "o")
    _crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        cli.main(["run", path, "--out", out, *SEGMENT])
    monkeypatch.undo()
    assert _progress(out)["segments"] == 2
    # Each finished segment holds its own 25 trace samples (100 steps / every 4) and spikes.
    seg = [np.load(os.path.join(out, "stream", f"seg-{k:06d}.npz")) for k in range(2)]
    np.testing.assert_array_equal(
        np.concatenate([s["trace/E.v"] for s in seg]), ref.traces["E.v"][:50]
    )
    np.testing.assert_array_equal(
        np.concatenate([s["trace_times/E.v"] for s in seg]), ref.trace_times["E.v"][:50]
    )
    assert cli.main(["run", path, "--resume", out, *SEGMENT]) == 0
    _assert_same(out, ref)
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["status"] == "ok" and summary["resumed_from_ms"] == pytest.approx(20.0)
    assert not os.path.exists(os.path.join(out, "stream"))


def test_config_resume_refuses_another_config_or_settings(tmp_path, monkeypatch, config, capsys):
    path, _ = config
    out = str(tmp_path / "o")
    _crash_after(monkeypatch, 1)
    with pytest.raises(Crash):
        cli.main(["run", path, "--out", out, *SEGMENT])
    monkeypatch.undo()
    capsys.readouterr()

    def refused(argv) -> str:
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
        return capsys.readouterr().err

    other = tmp_path / "other.toml"
    other.write_text(CONFIG.replace('"40 pA"', '"41 pA"'))
    err = refused(["run", str(other), "--resume", out, *SEGMENT])
    assert f"the config {other}" in err and "SHA-256" in err
    assert f"repeat its settings: neurosim run {path} --duration 49.8 --dt 0.1 --seed 3" in err
    err = refused(["run", path, "--dt", "0.05", "--resume", out, *SEGMENT])
    assert "--dt 0.05 (was 0.1)" in err
    err = refused([*BUILT_IN, "--resume", out])
    assert f"the interrupted run there is the config {path}" in err
    assert _progress(out)["segments"] == 1  # the refused resumes touched nothing
    # The same config, re-formatted and commented, is the same run.
    same = tmp_path / "same.toml"
    same.write_text("# a comment\n" + CONFIG.replace("seed = 3", "seed   =   3"))
    assert cli.main(["run", str(same), "--resume", out, *SEGMENT]) == 0


def test_segment_steps_must_hold_whole_trace_samples(tmp_path, config, capsys):
    path, _ = config
    with pytest.raises(SystemExit) as e:
        cli.main(["run", path, "--out", str(tmp_path / "o"), "--segment-steps", "150"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--segment-steps 150 must be a multiple of 4" in err
    assert "use --segment-steps 148 or 152" in err


_CHILD = """
import sys, time
from neurosim import _cli_stream, cli
original = _cli_stream.Stream._write_segment
def slow(self, *a, **k):  # each segment takes a while to write: SIGINT lands mid-run
    time.sleep(0.4)
    original(self, *a, **k)
_cli_stream.Stream._write_segment = slow
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow  # a CLI subprocess per case (~15 s each on 2 cores)
@pytest.mark.parametrize("kind", ["built-in", "config"])
def test_sigint_marks_the_partial_result_interrupted_and_resume_completes_it(
    kind, tmp_path, config
):
    if kind == "config":
        argv, ref = ["run", config[0], *SEGMENT], config[1]
    else:
        argv = BUILT_IN  # the CLI's network and key: key(seed), fold_in(key(seed), 1)
        net = ns.models.coba(n=64, key=jax.random.key(0))
        key = jax.random.fold_in(jax.random.key(0), 1)
        ref = ns.simulate(net, 50.0, 0.1, key=key, progress=False)
    out = str(tmp_path / "o")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *argv, "--out", out],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 300:
            try:
                if _progress(out)["segments"] >= 1:
                    break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass
            assert proc.poll() is None, "the run ended before it could be interrupted"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["status"] == "interrupted" and "SIGINT" in summary["message"]
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "interrupted"
    done_ms = summary["simulated_ms"]
    assert 10.0 <= done_ms < 49.8 and _progress(out)["steps_done"] == round(done_ms / 0.1)
    # The partial result is the uninterrupted run's up to where it stopped.
    d = np.load(os.path.join(out, "spikes.npz"), allow_pickle=False)
    np.testing.assert_array_equal(d["times_ms"], ref.spike_times[ref.spike_times < done_ms])
    if kind == "config":
        part = ns.io.load_result(os.path.join(out, "result.npz"))
        kept = ref.trace_times["E.v"] <= done_ms + 1e-9
        np.testing.assert_array_equal(part.traces["E.v"], ref.traces["E.v"][kept])
    assert cli.main([*argv, "--resume", out]) == 0
    _assert_same(out, ref, traces=kind == "config")
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["status"] == "ok" and summary["resumed_from_ms"] == pytest.approx(done_ms)
