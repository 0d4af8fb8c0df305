"""Build, cache and register the compiled CPU kernels (XLA FFI) on first use.

The C++ sources in ``neurosim/ops/csrc/`` are compiled lazily, once per machine, with the
system C++ compiler against the XLA FFI headers shipped with jaxlib
(``jax.ffi.include_dir()``). The shared library is cached in a per-user directory keyed by
the hash of the sources, the compiler command and the jaxlib version, so a new neurosim or
jaxlib rebuilds it and an unchanged one loads it in milliseconds. Several processes may build
at once (a lock file serialises them; the library is written under a temporary name and
renamed atomically).

Loading a shared library runs its code in this process, so the cache is trusted only when
nobody else can write to it (see :func:`check_private_dir`):

* the cache directory must be owned by the current user and not writable by group or
  others; every directory above it must be owned by the user or root and not writable by
  group or others unless it has the sticky bit (as ``/tmp`` does). Missing directories are
  created with mode ``0700``;
* the library is built into a private temporary file (mode ``0700``) in that directory and
  renamed into place atomically; its SHA-256 is recorded next to it (``<library>.sha256``);
* before ``ctypes`` loads it, the library file must be a regular file (not a symlink) owned
  by the user and not writable by group or others, and its SHA-256 must equal the recorded
  one. The bytes hashed are the bytes loaded: the file is opened once, checked through that
  descriptor and loaded as ``/proc/self/fd/N`` where available.

A cache that fails a check is refused (the kernels are reported unavailable, with the reason,
and the pure-JAX backend is used); a library whose recorded hash is missing (a cache from an
older neurosim) is rebuilt.

When no compiler or headers are available the kernels are reported unavailable and the event
operators fall back to the pure-JAX ``"loop"`` backend with a one-time warning.

Environment variables:
    ``NEUROSIM_CACHE_DIR``: cache directory (default ``$XDG_CACHE_HOME/neurosim`` or
        ``~/.cache/neurosim``); kernels go to its ``kernels/`` subdirectory.
    ``NEUROSIM_DISABLE_FFI``: set to ``1`` to never build or use the compiled kernels.
    ``CXX``: the C++ compiler (default ``c++``, then ``g++``, then ``clang++``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import jax

from ._cache import (
    CacheSecurityError,
    cdll_verified,
    check_file,
    check_private_dir,
    hash_path,
    make_private_dirs,
    open_nofollow,
    recorded_hash,
    sha256_fd,
    write_private,
)

__all__ = [
    "ffi_available",
    "ffi_status",
    "load_kernels",
    "cache_dir",
    "check_private_dir",
    "CacheSecurityError",
]

_SRC_DIR = Path(__file__).parent / "csrc"
# -ffp-contract=off: no fused multiply-adds, so every ISA clone rounds like the pure-JAX
# reference (product, then sum). No -march=native: the binary is cached and may be shared;
# the hot loops carry target_clones (AVX-512 / AVX2 / baseline, picked at load time).
# -fno-trapping-math: loops with selects between float values vectorise (GCC keeps them
# scalar otherwise); no value changes, FP exception flags are never read.
_FLAGS = (
    "-O3",
    "-DNDEBUG",
    "-std=c++17",
    "-shared",
    "-fPIC",
    "-fno-math-errno",
    "-ffp-contract=off",
    "-fno-trapping-math",
    "-w",
)
# Handler symbols exported by csrc/*.cc -> FFI target names registered with XLA.
_TARGETS = {
    "NeurosimCsrEvent": "neurosim_csr_event",
    "NeurosimEllEvent": "neurosim_ell_event",
    "NeurosimNonFinite": "neurosim_nonfinite",
    "NeurosimStdpUpdate": "neurosim_stdp_update",
    "NeurosimStdpDeliverUpdate": "neurosim_stdp_deliver_update",
    "NeurosimStpDeliver": "neurosim_stp_deliver",
    "NeurosimProceduralEvent": "neurosim_procedural_event",
    "NeurosimCsrDelay": "neurosim_csr_delay",
    "NeurosimLifStep": "neurosim_lif_step",
}
_LOCK = threading.Lock()
_STATE: dict = {}  # "ok": bool, "reason": str, "path": str, "lib": CDLL
_REGISTERED: set[str] = set()  # FFI target names registered in this process


def cache_dir() -> Path:
    """Directory holding compiled kernels (``NEUROSIM_CACHE_DIR`` overrides it)."""
    root = os.environ.get("NEUROSIM_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = os.path.join(xdg, "neurosim") if xdg else os.path.join("~", ".cache", "neurosim")
    return Path(os.path.expanduser(root)) / "kernels"


def _compiler() -> str | None:
    cxx = os.environ.get("CXX")
    if cxx:
        return shutil.which(cxx) or (cxx if os.path.isfile(cxx) else None)
    for name in ("c++", "g++", "clang++"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _build_key(cxx: str, include: str, sources: list[Path]) -> str:
    import jaxlib

    h = hashlib.sha256()
    for src in sources:
        h.update(src.name.encode())
        h.update(src.read_bytes())
    h.update(" ".join(_FLAGS).encode())
    h.update(os.path.basename(cxx).encode())
    h.update(jaxlib.__version__.encode())
    h.update(include.encode())
    return h.hexdigest()[:20]


def _compile(cxx: str, include: str, sources: list[Path], target: Path) -> None:
    """Compile ``sources`` into ``target`` atomically (private temporary file + rename).

    The SHA-256 of the built library is recorded in ``<target>.sha256`` before the library
    appears under its final name.
    """
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    cmd = [cxx, *_FLAGS, "-I", include, *map(str, sources), "-o", tmp]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}"
            )
        os.chmod(tmp, 0o700)  # the linker may recreate the output with the umask's mode
        lfd = open_nofollow(Path(tmp))
        try:
            check_file(Path(tmp), os.fstat(lfd))
            digest = sha256_fd(lfd)
        finally:
            os.close(lfd)
        write_private(hash_path(target), (digest + "\n").encode())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _locked_build(cxx: str, include: str, sources: list[Path], target: Path) -> None:
    """Build ``target`` unless it exists with a recorded hash; a lock keeps builders to one."""
    if target.exists() and recorded_hash(target) is not None:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: rely on the atomic rename alone
        fcntl = None
    lock_path = target.with_suffix(".lock")
    lock_fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(lock_fd, "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (target.exists() and recorded_hash(target) is not None):
                _compile(cxx, include, sources, target)
        finally:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _load() -> dict:
    if os.environ.get("NEUROSIM_DISABLE_FFI", "").strip() not in ("", "0"):
        return {"ok": False, "reason": "disabled by NEUROSIM_DISABLE_FFI", "quiet": True}
    sources = sorted(_SRC_DIR.glob("*.cc"))
    if not sources:
        return {"ok": False, "reason": f"no kernel sources in {_SRC_DIR}"}
    cxx = _compiler()
    if cxx is None:
        return {"ok": False, "reason": "no C++ compiler found (set CXX or install g++)"}
    try:
        include = jax.ffi.include_dir()
    except Exception as e:  # pragma: no cover - very old or unusual jaxlib
        return {"ok": False, "reason": f"XLA FFI headers unavailable: {e}"}
    if not os.path.isfile(os.path.join(include, "xla", "ffi", "api", "ffi.h")):
        return {"ok": False, "reason": f"XLA FFI headers not found under {include}"}
    directory = cache_dir()
    headers = sorted(_SRC_DIR.glob("*.h"))  # part of the cache key, not compiled alone
    target = directory / f"libneurosim_ops-{_build_key(cxx, include, sources + headers)}.so"
    try:
        make_private_dirs(directory)
        check_private_dir(directory)
        _locked_build(cxx, include, sources, target)
        lib, digest = cdll_verified(target)
        for symbol, name in _TARGETS.items():
            if name not in _REGISTERED:
                capsule = jax.ffi.pycapsule(getattr(lib, symbol))
                jax.ffi.register_ffi_target(name, capsule, platform="cpu")
                _REGISTERED.add(name)
    except CacheSecurityError as e:
        return {"ok": False, "reason": f"refusing the kernel cache: {e}"}
    except Exception as e:
        return {"ok": False, "reason": f"building the CPU kernels failed: {e}"}
    return {"ok": True, "reason": "", "path": str(target), "lib": lib, "sha256": digest}


def load_kernels() -> bool:
    """Build (once) and register the CPU kernels; True if they can be used."""
    with _LOCK:
        if not _STATE:
            _STATE.update(_load())
            if not _STATE["ok"] and not _STATE.get("quiet"):
                warnings.warn(
                    f"neurosim: compiled CPU event kernels unavailable ({_STATE['reason']}); "
                    "using the pure-JAX 'loop' backend (slower). Set NEUROSIM_DISABLE_FFI=1 to "
                    "silence this.",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return _STATE["ok"]


def host_library():
    """The loaded kernel library with ctypes signatures of its host helpers, or None."""
    if not load_kernels():
        return None
    lib = _STATE["lib"]
    if not _STATE.get("host_ready"):
        lib.neurosim_count_bits.restype = ctypes.c_int64
        lib.neurosim_count_bits.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        lib.neurosim_unpack_bits.restype = ctypes.c_int64
        lib.neurosim_unpack_bits.argtypes = (
            [ctypes.c_void_p]
            + [ctypes.c_int64] * 3
            + [
                ctypes.c_void_p,
                ctypes.c_void_p,
                ctypes.c_int64,
            ]
        )
        lib.neurosim_procedural_selfcheck.restype = ctypes.c_int64
        lib.neurosim_procedural_selfcheck.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int64,
        ]
        _STATE["host_ready"] = True
    return lib


def ffi_available() -> bool:
    """True if the compiled CPU kernels are built and registered (builds them on first call)."""
    return load_kernels()


def ffi_status() -> dict:
    """``{"available", "reason", "path", "sha256"}`` of the compiled CPU kernels."""
    ok = load_kernels()
    return {
        "available": ok,
        "reason": _STATE.get("reason", ""),
        "path": _STATE.get("path", ""),
        "sha256": _STATE.get("sha256", ""),
    }


def _reset_for_tests() -> None:
    """Forget the load result so the next call re-evaluates the environment (tests only).

    Targets already registered with XLA stay registered.
    """
    with _LOCK:
        _STATE.clear()
