"""Faults that lose nothing (issues 13 and 16): streamed CLI segments, --resume, a full disk.

Every run here is ``neurosim run coba --n 64 --duration 50 --segment-steps 100`` (5 segments
of 100 steps), compared bit for bit with one uninterrupted run of the same command. The
in-process tests share the compiled chunk; the SIGKILL test runs the CLI in subprocesses.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from neurosim import _cli_stream, cli

ARGS = ["run", "coba", "--n", "64", "--duration", "50", "--segment-steps", "100", "--no-plot"]
SEG_MS = 10.0  # 100 steps of 0.1 ms


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch and handle it)."""


def _spikes(out):
    d = np.load(os.path.join(out, "spikes.npz"), allow_pickle=False)
    return d["times_ms"], d["indices"]


def _progress(out):
    with open(os.path.join(out, "stream", "progress.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run's spikes (and that it leaves no stream behind)."""
    out = str(tmp_path_factory.mktemp("ref"))
    assert cli.main([*ARGS, "--out", out]) == 0
    assert not os.path.exists(os.path.join(out, "stream"))  # finished: segments removed
    times, idx = _spikes(out)
    assert idx.size > 20  # the comparison below is not vacuous
    return times, idx


def _crash_after(monkeypatch, n_segments):
    """Make the run die (like SIGKILL) right after segment ``n_segments`` is committed."""
    original = _cli_stream.Stream._write_segment

    def write(self, k, *a, **kw):
        original(self, k, *a, **kw)
        if k + 1 == n_segments:
            raise Crash

    monkeypatch.setattr(_cli_stream.Stream, "_write_segment", write)


def test_crash_keeps_finished_segments_and_resume_is_bitwise(tmp_path, monkeypatch, reference):
    out = str(tmp_path / "o")
    _crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        cli.main([*ARGS, "--out", out])
    monkeypatch.undo()
    p = _progress(out)
    assert (p["segments"], p["steps_done"]) == (2, 200)
    assert not os.path.exists(os.path.join(out, "summary.json"))
    # The two finished segments on disk are the reference's first 20 ms, bit for bit.
    times, idx = reference
    seg = [np.load(os.path.join(out, "stream", f"seg-{k:06d}.npz")) for k in range(2)]
    got_t = np.concatenate([s["times_ms"] for s in seg])
    np.testing.assert_array_equal(got_t, times[times < 2 * SEG_MS - 1e-9])
    assert cli.main([*ARGS, "--out", "ignored", "--resume", out]) == 0
    t2, i2 = _spikes(out)
    np.testing.assert_array_equal(t2, times)
    np.testing.assert_array_equal(i2, idx)
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["status"] == "ok" and summary["resumed_from_ms"] == pytest.approx(20.0)
    assert summary["n_spikes"] == idx.size and summary["simulated_ms"] == pytest.approx(50.0)
    assert not os.path.exists(os.path.join(out, "stream"))


def _usage(root) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def _small_disk(monkeypatch, root, capacity: int):
    """``root`` on a file system of ``capacity`` bytes: a write that would take more raises
    ENOSPC (its temporary file is removed, as after a real failed write)."""
    original = _cli_stream.atomic_write

    def atomic_write(path, write):
        def limited(tmp):
            write(tmp)
            if _usage(root) > capacity:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp)

        original(path, limited)

    monkeypatch.setattr(_cli_stream, "atomic_write", atomic_write)


def test_full_disk_fails_clearly_keeps_segments_and_resumes(tmp_path, monkeypatch, reference):
    out = str(tmp_path / "o")
    # Measure what two finished segments take, then give the disk room for those, the
    # previous state kept until the commit, and less than a third segment.
    _crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        cli.main([*ARGS, "--out", out])
    monkeypatch.undo()
    two = _usage(out)
    state = os.path.getsize(os.path.join(out, "stream", "state-000001.npz"))
    _small_disk(monkeypatch, out, two + state + 300)
    code = cli.main([*ARGS, "--out", out])  # a fresh run: the old stream is removed first
    assert code == _cli_stream.EXIT_FAILED
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["status"] == "failed"
    msg = summary["message"]
    assert "no space left on device" in msg and "--resume" in msg and "state-000002" in msg
    assert _progress(out)["segments"] == 2 and summary["simulated_ms"] == pytest.approx(20.0)
    assert summary["n_spikes"] == int((reference[0] < 2 * SEG_MS - 1e-9).sum())
    assert sorted(os.listdir(os.path.join(out, "stream"))) == [
        "progress.json",
        "seg-000000.npz",
        "seg-000001.npz",
        "state-000001.npz",
    ]  # the failed segment's files are gone, the committed ones intact
    times, idx = reference
    seg = [np.load(os.path.join(out, "stream", f"seg-{k:06d}.npz")) for k in range(2)]
    np.testing.assert_array_equal(
        np.concatenate([s["indices"] for s in seg]), idx[times < 2 * SEG_MS - 1e-9]
    )
    monkeypatch.undo()  # space freed
    assert cli.main([*ARGS, "--resume", out]) == 0
    t2, i2 = _spikes(out)
    np.testing.assert_array_equal(t2, times)
    np.testing.assert_array_equal(i2, idx)


def test_resume_refuses_other_settings_and_nothing_to_resume(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "o")
    _crash_after(monkeypatch, 1)
    with pytest.raises(Crash):
        cli.main([*ARGS, "--out", out])
    monkeypatch.undo()
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        cli.main([*ARGS[:3], "65", *ARGS[4:], "--resume", out])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--n 65 (was 64)" in err and "neurosim run coba --n 64" in err
    assert _progress(out)["segments"] == 1  # the refused resume touched nothing
    with pytest.raises(SystemExit) as e:
        cli.main([*ARGS, "--resume", str(tmp_path / "empty")])
    assert e.value.code == 2 and "nothing to resume" in capsys.readouterr().err


def test_atomic_write_never_leaves_a_partial_file(tmp_path):
    path = str(tmp_path / "f.json")
    _cli_stream.write_json(path, {"a": 1})

    def half_then_fail(tmp):
        with open(tmp, "w") as f:
            f.write('{"a": ')
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        _cli_stream.atomic_write(path, half_then_fail)
    assert json.loads(open(path).read()) == {"a": 1}  # the old file, whole
    assert os.listdir(tmp_path) == ["f.json"]  # no temporary left behind


_CHILD = """
import sys, time
from neurosim import _cli_stream, cli
original = _cli_stream.Stream._write_segment
def slow(self, *a, **k):  # a segment is simulated, then the process is slow to write it
    time.sleep(0.4)
    original(self, *a, **k)
_cli_stream.Stream._write_segment = slow
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_is_bitwise(tmp_path, reference):
    out = str(tmp_path / "o")
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *ARGS, "--out", out],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 300:
            try:
                if _progress(out)["segments"] >= 2:
                    break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    done = _progress(out)["segments"]
    assert 2 <= done < 5 and not os.path.exists(os.path.join(out, "summary.json"))
    cmd = [sys.executable, "-m", "neurosim.cli", *ARGS, "--resume", out]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    times, idx = reference
    t2, i2 = _spikes(out)
    np.testing.assert_array_equal(t2, times)
    np.testing.assert_array_equal(i2, idx)
    summary = json.loads(open(os.path.join(out, "summary.json")).read())
    assert summary["resumed_from_ms"] == pytest.approx(done * SEG_MS)
