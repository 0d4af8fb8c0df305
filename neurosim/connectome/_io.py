"""Reading and writing connectome files: plain text/CSV, TVB's zip layout, the tvb-data package."""

from __future__ import annotations

import bz2
import gzip
import importlib.resources
import importlib.util
import io
import pathlib
import zipfile

import numpy as np

__all__ = ["read_matrix", "read_centres", "read_tvb_layout", "tvb_data_zip", "write_tvb_layout"]

TVB_DATA_REGIONS = (66, 68, 76, 96, 192)
_FILES = ("weights", "tract_lengths", "centres")


def _decode(raw: bytes, name: str) -> str:
    if name.endswith(".bz2"):
        raw = bz2.decompress(raw)
    elif name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _read_text(path) -> str:
    p = pathlib.Path(path)
    if not p.is_file():
        raise ValueError(f"no such file: {str(p)!r}")
    return _decode(p.read_bytes(), p.name)


def _sep(text: str, delimiter):
    if delimiter is not None:
        return delimiter
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return "," if "," in first else None


def _parse_matrix(text: str, delimiter, what: str, source: str) -> np.ndarray:
    sep = _sep(text, delimiter)
    rows = []
    for ln in text.splitlines():
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        cells = [c for c in (ln.split(sep) if sep else ln.split()) if c.strip() != ""]
        try:
            rows.append([float(c) for c in cells])
        except ValueError as err:
            raise ValueError(
                f"{what} file {source!r} must hold numbers only, got line {ln.strip()[:60]!r}"
            ) from err
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError(
            f"{what} file {source!r} must hold a matrix with equal-length rows, got row lengths "
            f"{sorted({len(r) for r in rows})}"
        )
    return np.asarray(rows, dtype=np.float64)


def _parse_centres(text: str, delimiter, source: str):
    sep = _sep(text, delimiter)
    labels, pos = [], []
    for ln in text.splitlines():
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in (ln.split(sep) if sep else ln.split()) if c.strip() != ""]
        try:
            float(cells[0])
            lab, nums = None, cells[:3]
        except ValueError:
            lab, nums = cells[0], cells[1:4]
        try:
            xyz = [float(c) for c in nums]
        except ValueError as err:
            raise ValueError(
                f"centres file {source!r}: cannot read x y z in {ln.strip()!r}"
            ) from err
        if len(xyz) != 3:
            raise ValueError(f"centres file {source!r}: need 'label x y z' or 'x y z', got {ln!r}")
        labels.append(lab)
        pos.append(xyz)
    if any(lab is None for lab in labels) and not all(lab is None for lab in labels):
        raise ValueError(f"centres file {source!r}: some lines have a label and some do not")
    return np.asarray(pos, np.float64), (None if labels[0] is None else labels)


def read_matrix(path, delimiter=None, what: str = "matrix") -> np.ndarray:
    """A numeric matrix from a whitespace- or comma-separated text file (.bz2/.gz allowed)."""
    return _parse_matrix(_read_text(path), delimiter, what, str(path))


def read_centres(path, delimiter=None):
    """``(centres (n, 3) mm, labels or None)`` from a ``label x y z`` / ``x y z`` file."""
    return _parse_centres(_read_text(path), delimiter, str(path))


def _members(path):
    """``{stem: (name, bytes)}`` for weights/tract_lengths/centres in a zip file or directory."""
    p = pathlib.Path(path) if isinstance(path, str) else path
    found = {}
    if isinstance(p, pathlib.Path) and p.is_dir():
        for f in sorted(p.rglob("*")):
            stem = f.name.split(".")[0]
            if stem in _FILES and stem not in found and f.is_file():
                found[stem] = (f.name, f.read_bytes())
        return found
    try:
        with p.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as z:
            for name in sorted(z.namelist()):
                base = name.rsplit("/", 1)[-1]
                stem = base.split(".")[0]
                if stem in _FILES and stem not in found and not name.endswith("/"):
                    found[stem] = (base, z.read(name))
    except (FileNotFoundError, IsADirectoryError) as err:
        raise ValueError(f"no such connectome zip file or directory: {str(path)!r}") from err
    except zipfile.BadZipFile as err:
        raise ValueError(f"{str(path)!r} is not a zip file (TVB layout expected)") from err
    return found


def read_tvb_layout(path):
    """``(weights, tract_lengths, centres, labels)`` from TVB's zip/directory layout."""
    found = _members(path)
    missing = [f for f in ("weights", "tract_lengths") if f not in found]
    if missing:
        raise ValueError(
            f"{str(path)!r} lacks {missing} (TVB layout: weights.txt, tract_lengths.txt, "
            f"centres.txt); found {sorted(found)}"
        )
    src = str(path)
    w = _parse_matrix(_decode(found["weights"][1], found["weights"][0]), None, "weights", src)
    lengths = _parse_matrix(
        _decode(found["tract_lengths"][1], found["tract_lengths"][0]), None, "tract_lengths", src
    )
    pos, labels = None, None
    if "centres" in found:
        pos, labels = _parse_centres(_decode(found["centres"][1], found["centres"][0]), None, src)
    return w, lengths, pos, labels


def tvb_data_zip(n_regions: int):
    """The installed ``tvb_data/connectivity/connectivity_<n>.zip`` (a readable resource)."""
    if isinstance(n_regions, bool) or n_regions not in TVB_DATA_REGIONS:
        raise ValueError(
            f"n_regions must be one of {TVB_DATA_REGIONS} (tvb-data), got {n_regions!r}"
        )
    if importlib.util.find_spec("tvb_data") is None:
        raise ImportError(
            "TVB's sample connectomes need the tvb-data package (GPL data, not bundled with "
            "neurosim): pip install neurosim[data]  (or: pip install tvb-data)"
        )
    res = importlib.resources.files("tvb_data") / "connectivity" / f"connectivity_{n_regions}.zip"
    if not res.is_file():
        raise ImportError(
            f"the installed tvb-data has no connectivity/connectivity_{n_regions}.zip; "
            "reinstall it: pip install --force-reinstall tvb-data"
        )
    return res


def write_tvb_layout(con, directory) -> None:
    """Write ``weights.txt``, ``tract_lengths.txt`` and ``centres.txt`` (TVB's text layout)."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    np.savetxt(d / "weights.txt", con.weights, fmt="%.17g")
    np.savetxt(d / "tract_lengths.txt", con.tract_lengths, fmt="%.17g")
    if con.centres is not None:
        lines = [
            f"{lab} {x:.17g} {y:.17g} {z:.17g}"
            for lab, (x, y, z) in zip(con.labels, con.centres, strict=True)
        ]
        (d / "centres.txt").write_text("\n".join(lines) + "\n")
