"""Trust checks of the kernel cache: private directories, owned files, recorded SHA-256.

Used by :mod:`neurosim.ops._build` (see its docstring for the policy): a shared library is
loaded into this process only from a directory nobody else can write to, from a regular file
owned by the user, and only if its SHA-256 equals the one recorded when it was built.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "CacheSecurityError",
    "check_private_dir",
    "make_private_dirs",
    "sha256_fd",
    "hash_path",
    "recorded_hash",
    "check_file",
    "open_nofollow",
    "write_private",
    "open_verified",
    "cdll_verified",
]


class CacheSecurityError(RuntimeError):
    """The kernel cache (directory or library) could be written by someone else."""


def _uid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _describe(mode: int) -> str:
    return stat.filemode(mode)


def check_private_dir(path: Path) -> None:
    """Raise :class:`CacheSecurityError` unless only the current user can write to ``path``.

    ``path`` must be a directory owned by the current user without group/other write
    permission; each directory above it must be owned by the user or root and be either not
    writable by group/others or sticky (``/tmp``). Symlinks in ``path`` are resolved first.
    """
    uid = _uid()
    if uid < 0:  # pragma: no cover - no POSIX ownership (Windows): nothing to check
        return
    real = Path(os.path.realpath(path))
    st = os.stat(real)
    if not stat.S_ISDIR(st.st_mode):
        raise CacheSecurityError(f"kernel cache {real} is not a directory")
    if st.st_uid != uid:
        raise CacheSecurityError(
            f"kernel cache directory {real} is owned by uid {st.st_uid}, not by you "
            f"(uid {uid}); set NEUROSIM_CACHE_DIR to a directory of your own"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheSecurityError(
            f"kernel cache directory {real} is writable by group or others "
            f"({_describe(st.st_mode)}); run `chmod go-w {real}` or set NEUROSIM_CACHE_DIR "
            "to a private directory"
        )
    for parent in real.parents:
        pst = os.stat(parent)
        if pst.st_uid not in (uid, 0):
            raise CacheSecurityError(
                f"{parent} (above the kernel cache {real}) is owned by uid {pst.st_uid}; "
                "set NEUROSIM_CACHE_DIR to a directory under one you own"
            )
        writable = pst.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if writable and not pst.st_mode & stat.S_ISVTX:
            raise CacheSecurityError(
                f"{parent} (above the kernel cache {real}) is writable by group or others "
                f"without the sticky bit ({_describe(pst.st_mode)}); set NEUROSIM_CACHE_DIR "
                "to a private directory"
            )


def make_private_dirs(path: Path) -> None:
    """Create the missing directories of ``path`` with mode 0700 (each one, not only the last)."""
    missing = []
    p = Path(os.path.abspath(path))
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass


def sha256_fd(fd: int) -> str:
    h = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, 1 << 20):
        h.update(chunk)
    os.lseek(fd, 0, os.SEEK_SET)
    return h.hexdigest()


def hash_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def open_nofollow(path: Path) -> int:
    """``os.open(path, O_RDONLY)`` refusing a symlink (:class:`CacheSecurityError`)."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise CacheSecurityError(f"{path} is a symbolic link; delete it") from None
        raise


def recorded_hash(target: Path) -> str | None:
    """The SHA-256 recorded for ``target`` when it was built, or None if there is none."""
    hp = hash_path(target)
    try:
        fd = open_nofollow(hp)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        check_file(hp, st)
        return os.read(fd, 256).decode("ascii", "replace").strip()
    finally:
        os.close(fd)


def check_file(path: Path, st: os.stat_result) -> None:
    uid = _uid()
    if not stat.S_ISREG(st.st_mode):
        raise CacheSecurityError(f"{path} is not a regular file")
    if uid >= 0 and st.st_uid != uid:
        raise CacheSecurityError(f"{path} is owned by uid {st.st_uid}, not by you (uid {uid})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheSecurityError(
            f"{path} is writable by group or others ({_describe(st.st_mode)}); delete it"
        )


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically through a private (0600) temporary file."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def open_verified(target: Path) -> tuple[int, str]:
    """Open ``target``, check owner, mode and SHA-256 through the descriptor; ``(fd, hash)``."""
    expected = recorded_hash(target)
    if expected is None:
        raise CacheSecurityError(f"no recorded SHA-256 for {target}")
    fd = open_nofollow(target)
    try:
        check_file(target, os.fstat(fd))
        digest = sha256_fd(fd)
    except BaseException:
        os.close(fd)
        raise
    if digest != expected:
        os.close(fd)
        raise CacheSecurityError(
            f"SHA-256 of {target} ({digest[:16]}...) differs from the one recorded when it "
            f"was built ({expected[:16]}...); the file was changed after the build. Delete "
            f"{target.parent} to rebuild"
        )
    return fd, digest


def cdll_verified(target: Path):
    """``ctypes.CDLL`` of the verified library (the very file that was hashed)."""
    fd, digest = open_verified(target)
    try:
        via_fd = f"/proc/self/fd/{fd}"
        path = via_fd if os.path.exists(via_fd) else str(target)
        return ctypes.CDLL(path), digest
    finally:
        os.close(fd)
