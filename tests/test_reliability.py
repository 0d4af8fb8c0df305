"""Reliability (issue 16): the kernel cache is trusted only when nobody else can write to it.

The checks run without compiling anything: a fake compiler step writes a fake library, and
``ctypes.CDLL`` is replaced by a recorder, so each test asserts *whether the loader would
load* and what it says. One slow test builds the real kernels into a fresh cache.
"""

import hashlib
import os
import stat
import subprocess
import sys

import pytest

from neurosim.ops import _build, _cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory, the load state forgotten before and after."""
    _build._reset_for_tests()
    root = tmp_path / "cache"
    monkeypatch.setenv("NEUROSIM_CACHE_DIR", str(root))
    monkeypatch.delenv("NEUROSIM_DISABLE_FFI", raising=False)
    yield root / "kernels"
    monkeypatch.undo()
    _build._reset_for_tests()


@pytest.fixture
def no_compile(monkeypatch):
    """Fail the test if the loader tries to compile (it must refuse before building)."""

    def refuse(*a, **k):
        raise AssertionError("the loader compiled despite an untrusted cache")

    monkeypatch.setattr(_build, "_compile", refuse)


@pytest.fixture
def loads(monkeypatch):
    """Record what ctypes would load instead of loading it."""
    calls = []

    class FakeLib:
        def __getattr__(self, name):
            return lambda *a: 0

    def fake_cdll(path):
        with open(path, "rb") as f:  # the path given to dlopen: read what it points at
            calls.append(f.read())
        return FakeLib()

    monkeypatch.setattr(_cache.ctypes, "CDLL", fake_cdll)
    monkeypatch.setattr(_build.jax.ffi, "pycapsule", lambda f: f)
    monkeypatch.setattr(_build.jax.ffi, "register_ffi_target", lambda *a, **k: None)
    monkeypatch.setattr(_build, "_REGISTERED", set())
    return calls


def _fake_compile(payload=b"\x7fELF fake library"):
    def compile_(cxx, include, sources, target):
        # The real _compile's tail: private temporary file, hash recorded, atomic rename.
        tmp = target.with_name(target.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        os.write(fd, payload)
        os.close(fd)
        digest = hashlib.sha256(payload).hexdigest()
        _cache.write_private(_cache.hash_path(target), (digest + "\n").encode())
        os.replace(tmp, target)

    return compile_


def _reason():
    status = _build.ffi_status()
    assert not status["available"]
    return status["reason"]


def _skip_without_compiler():
    if _build._compiler() is None:
        pytest.skip("no C++ compiler: the loader stops before the cache")


def test_new_cache_directories_are_private_and_the_library_hash_is_checked(
    cache, loads, monkeypatch
):
    _skip_without_compiler()
    monkeypatch.setattr(_build, "_compile", _fake_compile())
    assert _build.ffi_status()["available"]
    for d in (cache, cache.parent):
        assert stat.S_IMODE(os.stat(d).st_mode) & 0o077 == 0, oct(os.stat(d).st_mode)
    (lib,) = [p for p in cache.iterdir() if p.suffix == ".so"]
    assert loads == [lib.read_bytes()]  # the verified bytes are the loaded bytes
    recorded = _cache.hash_path(lib).read_text().strip()
    assert recorded == hashlib.sha256(lib.read_bytes()).hexdigest()
    assert _build.ffi_status()["sha256"] == recorded


def test_group_writable_cache_directory_is_refused(cache, no_compile, loads):
    _skip_without_compiler()
    cache.mkdir(parents=True)
    os.chmod(cache, 0o775)
    with pytest.warns(RuntimeWarning, match="kernels unavailable"):
        reason = _reason()
    assert "writable by group or others" in reason and "NEUROSIM_CACHE_DIR" in reason
    assert loads == []


def test_cache_directory_owned_by_someone_else_is_refused(cache, no_compile, loads, monkeypatch):
    _skip_without_compiler()
    monkeypatch.setattr(_cache, "_uid", lambda: os.geteuid() + 1)
    with pytest.warns(RuntimeWarning):
        reason = _reason()
    assert "not by you" in reason and loads == []


def test_writable_parent_without_sticky_bit_is_refused(tmp_path, monkeypatch, no_compile, loads):
    _skip_without_compiler()
    _build._reset_for_tests()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # anyone could rename our directory away and put theirs there
    monkeypatch.setenv("NEUROSIM_CACHE_DIR", str(shared / "mine"))
    monkeypatch.delenv("NEUROSIM_DISABLE_FFI", raising=False)
    try:
        with pytest.warns(RuntimeWarning):
            reason = _reason()
        assert "without the sticky bit" in reason and loads == []
        os.chmod(shared, 0o1777)  # sticky, like /tmp: others cannot rename our entries
        _cache.check_private_dir(shared / "mine" / "kernels")
    finally:
        _build._reset_for_tests()


def test_tampered_library_is_refused_before_loading(cache, loads, monkeypatch):
    _skip_without_compiler()
    monkeypatch.setattr(_build, "_compile", _fake_compile())
    assert _build.ffi_status()["available"]
    (lib,) = [p for p in cache.iterdir() if p.suffix == ".so"]
    loads.clear()
    _build._reset_for_tests()
    lib.write_bytes(b"\x7fELF something else")  # same owner and mode, other bytes
    with pytest.warns(RuntimeWarning):
        reason = _reason()
    assert "SHA-256" in reason and "differs" in reason and loads == []


@pytest.mark.parametrize("attack", ["group-writable", "symlink"])
def test_library_file_not_private_is_refused(cache, loads, monkeypatch, tmp_path, attack):
    _skip_without_compiler()
    monkeypatch.setattr(_build, "_compile", _fake_compile())
    assert _build.ffi_status()["available"]
    (lib,) = [p for p in cache.iterdir() if p.suffix == ".so"]
    loads.clear()
    _build._reset_for_tests()
    if attack == "group-writable":
        os.chmod(lib, 0o770)
        fragment = "writable by group or others"
    else:
        elsewhere = tmp_path / "elsewhere.so"
        elsewhere.write_bytes(lib.read_bytes())
        lib.unlink()
        lib.symlink_to(elsewhere)
        fragment = "symbolic link"
    with pytest.warns(RuntimeWarning):
        reason = _reason()
    assert fragment in reason and loads == []


def test_library_without_recorded_hash_is_rebuilt(cache, loads, monkeypatch):
    """A cache written before hashes were recorded is rebuilt, not trusted."""
    _skip_without_compiler()
    built = []
    fake = _fake_compile(b"\x7fELF rebuilt")

    def counting(*a):
        built.append(a[-1])
        fake(*a)

    monkeypatch.setattr(_build, "_compile", counting)
    assert _build.ffi_status()["available"]
    (lib,) = [p for p in cache.iterdir() if p.suffix == ".so"]
    _cache.hash_path(lib).unlink()
    lib.write_bytes(b"\x7fELF old, unhashed")
    _build._reset_for_tests()
    built.clear()
    loads.clear()
    assert _build.ffi_status()["available"]
    assert built == [lib] and loads == [b"\x7fELF rebuilt"]


@pytest.mark.slow
def test_real_build_records_the_hash_of_a_private_library(tmp_path):
    code = (
        "import neurosim as ns; s = ns.ops.ffi_status(); assert s['available'], s; "
        "print(s['path']); print(s['sha256'])"
    )
    env = dict(os.environ, NEUROSIM_CACHE_DIR=str(tmp_path / "c"))
    env.pop("NEUROSIM_DISABLE_FFI", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if p.returncode != 0 and "no C++ compiler" in p.stderr:
        pytest.skip("no C++ compiler")
    assert p.returncode == 0, p.stderr[-2000:]
    path, digest = p.stdout.split()
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & 0o022 == 0, oct(mode)
    assert not [f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")]
