"""Readers for event data sets the user supplies (nothing is downloaded).

* SHD / SSC (Cramer et al. 2022, *IEEE TNNLS* 33:2744): HDF5 files with ``spikes/times``
  (per sample, seconds), ``spikes/units`` (per sample, channel indices) and ``labels``.
  Needs ``h5py`` (optional dependency).
* N-MNIST (Orchard et al. 2015, *Front. Neurosci.* 9:437): one binary file per sample, 5 bytes
  per event: x (8 bits), y (8 bits), polarity (1 bit) and a 23-bit timestamp (µs), big-endian;
  the directory holds one sub-directory per label (``Train/3/00012.bin``).
"""

from __future__ import annotations

import pathlib

import numpy as np

from .._validate import check_positive, check_size

__all__ = ["load_shd", "read_nmnist", "events_to_frames", "load_nmnist"]


def _bin(times_ms, units, n_steps, dt, n_units, clip):
    out = np.zeros((n_steps, n_units), np.uint8 if clip else np.uint16)
    steps = np.floor(np.asarray(times_ms) / dt).astype(np.int64)
    units = np.asarray(units, np.int64)
    keep = (steps >= 0) & (steps < n_steps) & (units >= 0) & (units < n_units)
    np.add.at(out, (steps[keep], units[keep]), 1)
    return np.minimum(out, 1) if clip else out


def load_shd(
    path,
    *,
    n_steps: int = 100,
    dt: float = 10.0,
    n_units: int = 700,
    max_samples: int | None = None,
    clip: bool = True,
):
    """Read a Spiking Heidelberg Digits / Spiking Speech Commands HDF5 file into dense bins.

    Args:
        path: the ``.h5`` file (e.g. ``shd_train.h5``, downloaded by the user).
        n_steps: number of time bins; spikes after ``n_steps * dt`` are dropped.
        dt: bin width (ms).
        n_units: number of input channels (700 for SHD/SSC).
        max_samples: read only the first samples.
        clip: cap counts per bin at 1 (spike trains); else counts.

    Returns:
        ``(spikes, labels)``: ``(N, n_steps, n_units)`` uint8/uint16 and ``(N,)`` int32.
    """
    check_size("n_steps", n_steps)
    check_positive("dt", dt, "ms")
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("load_shd needs h5py: pip install h5py (or neurosim[train])") from e
    with h5py.File(path, "r") as f:
        for k in ("spikes/times", "spikes/units", "labels"):
            if k not in f:
                raise ValueError(f"{path}: no dataset {k!r}; is this an SHD/SSC file?")
        times, units = f["spikes/times"], f["spikes/units"]
        labels = np.asarray(f["labels"], np.int32)
        n = len(labels) if max_samples is None else min(len(labels), int(max_samples))
        x = np.stack(
            [
                _bin(np.asarray(times[i]) * 1e3, units[i], n_steps, dt, n_units, clip)
                for i in range(n)
            ]
        )
    return x, labels[:n]


def read_nmnist(path) -> dict:
    """Events of one N-MNIST sample file: dict of ``x``, ``y``, ``p`` (0/1) and ``t_us``."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise ValueError(f"{path}: {raw.size} bytes is not a multiple of 5 (N-MNIST events)")
    ev = raw.reshape(-1, 5).astype(np.uint32)
    return {
        "x": ev[:, 0].astype(np.int32),
        "y": ev[:, 1].astype(np.int32),
        "p": (ev[:, 2] >> 7).astype(np.int32),
        "t_us": (((ev[:, 2] & 0x7F) << 16) | (ev[:, 3] << 8) | ev[:, 4]).astype(np.int64),
    }


def events_to_frames(
    events: dict,
    *,
    n_steps: int,
    dt: float,
    sensor=(34, 34),
    polarity: bool = True,
    clip: bool = True,
):
    """Bin events into ``(n_steps, [2,] W * H)`` spike arrays (flattened ``p, x, y`` order).

    ``dt`` is the bin width in ms; events at ``t >= n_steps * dt`` are dropped. With
    ``polarity=False`` both polarities share one channel per pixel.
    """
    check_size("n_steps", n_steps)
    check_positive("dt", dt, "ms")
    w, h = sensor
    pix = events["x"] * h + events["y"]
    if polarity:
        pix = events["p"] * (w * h) + pix
    n_units = (2 if polarity else 1) * w * h
    return _bin(events["t_us"] / 1e3, pix, n_steps, dt, n_units, clip)


def load_nmnist(
    root,
    *,
    n_steps: int = 100,
    dt: float = 3.0,
    sensor=(34, 34),
    polarity: bool = True,
    max_per_class: int | None = None,
):
    """Read an N-MNIST directory (``root/<label>/*.bin``) into dense spike bins.

    Returns:
        ``(spikes, labels)``: ``(N, n_steps, 2 * 34 * 34)`` uint8 and ``(N,)`` int32, in
        label then file-name order.
    """
    root = pathlib.Path(root)
    classes = sorted(
        (d for d in root.iterdir() if d.is_dir() and d.name.isdigit()), key=lambda d: int(d.name)
    )
    if not classes:
        raise ValueError(f"{root}: no label sub-directories (0, 1, ...) with .bin files")
    xs, ys = [], []
    for d in classes:
        files = sorted(d.glob("*.bin"))[:max_per_class]
        for f in files:
            ev = read_nmnist(f)
            xs.append(
                events_to_frames(ev, n_steps=n_steps, dt=dt, sensor=sensor, polarity=polarity)
            )
            ys.append(int(d.name))
    return np.stack(xs), np.asarray(ys, np.int32)
