"""The structural connectome: weights, tract lengths, labels and centres of brain regions."""

from __future__ import annotations

import numpy as np

__all__ = ["Connectome"]

_NORMALIZE = ("max", "row_sum")


def _square(name: str, value, n: int | None, fix: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric (n, n) matrix, got {value!r:.80}") from err
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {arr.shape} ({fix})")
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"{name} has shape {arr.shape} but weights are ({n}, {n}); they must describe the "
            f"same regions ({fix})"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must be finite, got {arr[i, j]} at [{i}, {j}] "
            f"({int(bad.sum())} entries; {fix})"
        )
    if (arr < 0).any():
        i, j = np.argwhere(arr < 0)[0]
        raise ValueError(
            f"{name} must be >= 0, got {arr[i, j]:g} at [{i}, {j}] ({int((arr < 0).sum())} "
            f"entries; {fix})"
        )
    arr.setflags(write=False)
    return arr


def _labels(labels, n: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"R{i}" for i in range(n))
    if isinstance(labels, str):
        raise ValueError(f"labels must be a sequence of {n} strings, got the string {labels!r}")
    out = tuple(labels)
    if len(out) != n:
        raise ValueError(f"labels has {len(out)} entries but there are {n} regions")
    for k, lab in enumerate(out):
        if not isinstance(lab, (str, np.str_)) or not str(lab).strip():
            raise ValueError(f"labels[{k}] must be a non-empty string, got {lab!r}")
    out = tuple(str(x).strip() for x in out)
    if len(set(out)) != n:
        dup = sorted({x for x in out if out.count(x) > 1})
        raise ValueError(f"labels must be unique, got duplicates {dup[:5]}")
    return out


def _centres(centres, n: int) -> np.ndarray | None:
    if centres is None:
        return None
    arr = np.array(centres, dtype=np.float64)
    if arr.shape != (n, 3):
        raise ValueError(f"centres must have shape ({n}, 3) (x, y, z in mm), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("centres must be finite (mm)")
    arr.setflags(write=False)
    return arr


def _hemispheres(hemispheres, n: int) -> np.ndarray | None:
    if hemispheres is None:
        return None
    arr = np.asarray(hemispheres)
    if arr.shape != (n,) or arr.dtype != np.bool_:
        raise ValueError(
            f"hemispheres must be a boolean array of shape ({n},) (True = right hemisphere), "
            f"got dtype {arr.dtype}, shape {arr.shape}"
        )
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def infer_hemispheres(labels) -> np.ndarray | None:
    """Right-hemisphere flags from label conventions, or None if they do not fit one.

    Recognised when every label follows the same convention: a leading ``r``/``l``
    (``rA1``, ``r_frontalpole``; TVB's 66, 68, 76 and 192 region sets) or a trailing ``_R``/``_L``
    (``RM-TCpol_R``; TVB's 96 region set), in either case.
    """
    labs = [str(x) for x in labels]
    low = [x.lower() for x in labs]
    if all(x.endswith(("_r", "_l")) for x in low):
        return np.array([x.endswith("_r") for x in low])
    if all(x[:1] in ("r", "l") and len(x) > 1 for x in low):
        flags = np.array([x[0] == "r" for x in low])
        if flags.any() and not flags.all():
            return flags
    return None


class Connectome:
    """A structural connectome of ``n`` brain regions (host-side NumPy arrays, read-only).

    Orientation: ``weights[i, j]`` is the strength of the connection **from region j to region
    i** (rows are targets, columns sources), so the input of region ``i`` is
    ``sum_j weights[i, j] x_j(t - delay[i, j])`` -- the convention of
    :class:`neurosim.rates.LinearCoupling` and of The Virtual Brain, whose simulator sums
    ``weights[to, from]`` over the "from" axis (``tvb/simulator/coupling.py``,
    ``Coupling.__call__``); TVB's files are therefore read without transposing.

    Args:
        weights: ``(n, n)`` connection strengths (arbitrary units), finite and >= 0.
        tract_lengths: ``(n, n)`` fibre lengths (mm), finite and >= 0; default: Euclidean
            distances between ``centres`` (as TVB does when lengths are missing).
        labels: ``n`` unique region names (default ``R0, R1, ...``).
        centres: ``(n, 3)`` region centres (mm), optional.
        hemispheres: ``(n,)`` booleans, True for the right hemisphere, optional.

    Raises:
        ValueError: naming the field, the offending value and the fix.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> W = np.array([[0.0, 2.0], [1.0, 0.0]])  # 0 -> 1 has weight 1, 1 -> 0 weight 2
        >>> con = ns.connectome.Connectome(W, tract_lengths=[[0, 30.0], [30.0, 0]])
        >>> float(con.delays(velocity=3.0)[0, 1])  # mm / (m/s) = ms
        10.0
    """

    def __init__(self, weights, tract_lengths=None, labels=None, centres=None, hemispheres=None):
        self.weights = _square("weights", weights, None, "weights[i, j] is from j to i, >= 0")
        n = self.weights.shape[0]
        self.centres = _centres(centres, n)
        if tract_lengths is None:
            if self.centres is None:
                raise ValueError(
                    "tract_lengths is None and no centres are given; pass tract_lengths (mm) or "
                    "centres (mm) to use Euclidean distances"
                )
            d = self.centres[:, None, :] - self.centres[None, :, :]
            tract_lengths = np.sqrt(np.sum(d * d, axis=-1))
        self.tract_lengths = _square("tract_lengths", tract_lengths, n, "lengths in mm, >= 0")
        self.labels = _labels(labels, n)
        self.hemispheres = _hemispheres(hemispheres, n)

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_files(
        cls, weights, tract_lengths=None, centres=None, *, labels=None, delimiter=None
    ) -> Connectome:
        """Read plain text/CSV matrices (and optionally centres) from files.

        Args:
            weights: path of an ``(n, n)`` matrix, whitespace- or comma-separated
                (``weights[i, j]`` from j to i); ``.bz2``/``.gz`` compressed files are read too.
            tract_lengths: path of the ``(n, n)`` lengths (mm), optional (then ``centres``).
            centres: path of a centres file, one region per line: ``label x y z`` (TVB's
                ``centres.txt``; extra columns ignored) or ``x y z`` without labels.
            labels: region names (override the centres file's).
            delimiter: column separator (default: ``,`` if the first line has one, else
                whitespace).

        Example:
            >>> import neurosim as ns
            >>> # con = ns.connectome.Connectome.from_files("w.csv", "lengths.csv")
        """
        from ._io import read_centres, read_matrix

        w = read_matrix(weights, delimiter, "weights")
        lengths = (
            None
            if tract_lengths is None
            else read_matrix(tract_lengths, delimiter, "tract_lengths")
        )
        pos, file_labels = (None, None) if centres is None else read_centres(centres, delimiter)
        labels = labels if labels is not None else file_labels
        hemi = None if labels is None else infer_hemispheres(labels)
        return cls(w, lengths, labels=labels, centres=pos, hemispheres=hemi)

    @classmethod
    def from_zip(cls, path) -> Connectome:
        """Read a connectome in TVB's layout: a ``.zip`` file (or a directory).

        The archive holds ``weights.txt``, ``tract_lengths.txt`` and ``centres.txt`` (each
        possibly ``.bz2``-compressed and possibly inside one sub-folder), as in TVB's
        ``connectivity_*.zip``. Hemispheres are inferred from the labels
        (:func:`infer_hemispheres`).
        """
        from ._io import read_tvb_layout

        w, lengths, pos, labels = read_tvb_layout(path)
        hemi = None if labels is None else infer_hemispheres(labels)
        return cls(w, lengths, labels=labels, centres=pos, hemispheres=hemi)

    @classmethod
    def from_tvb_data(cls, n_regions: int = 76) -> Connectome:
        """TVB's sample connectome ``connectivity_<n_regions>.zip`` from the ``tvb-data`` package.

        Read at run time from the installed package (GPL data: nothing is copied into
        neurosim). Available: 66, 68, 76, 96 and 192 regions.

        Raises:
            ImportError: ``tvb-data`` is not installed (``pip install neurosim[data]``).
            ValueError: no such region count.

        Example:
            >>> import neurosim as ns
            >>> ns.connectome.Connectome.from_tvb_data(76).n  # doctest: +SKIP
            76
        """
        from ._io import tvb_data_zip

        return cls.from_zip(tvb_data_zip(n_regions))

    # -- properties -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of regions."""
        return int(self.weights.shape[0])

    @property
    def is_symmetric(self) -> bool:
        """True if the weights are undirected (``W == W.T``)."""
        return bool(np.array_equal(self.weights, self.weights.T))

    def __repr__(self) -> str:
        return (
            f"Connectome(n={self.n}, labels={list(self.labels[:3])}{'...' if self.n > 3 else ''})"
        )

    def summary(self) -> str:
        """Human-readable one-paragraph description (sizes, density, ranges)."""
        w = self.weights
        off = ~np.eye(self.n, dtype=bool)
        nz = w[off] > 0
        lengths = self.tract_lengths[off][nz]
        parts = [
            f"{self.n} regions",
            f"{int(nz.sum())} directed connections ({100 * nz.mean() if nz.size else 0:.1f} % of "
            "region pairs)",
            "symmetric" if self.is_symmetric else "directed (W[i, j] from j to i)",
            f"weights in [{w[off][nz].min() if nz.any() else 0:g}, {w.max():g}]",
            f"{int(np.count_nonzero(np.diag(w)))} self-connections",
        ]
        if lengths.size:
            parts.append(
                f"tract lengths {lengths.min():.1f}-{lengths.max():.1f} mm "
                f"(mean {lengths.mean():.1f} mm over connections)"
            )
        if self.hemispheres is not None:
            parts.append(f"{int(self.hemispheres.sum())} right / "
                         f"{int((~self.hemispheres).sum())} left regions")  # fmt: skip
        return "; ".join(parts)

    # -- derived quantities -----------------------------------------------------------------
    def delays(self, velocity: float) -> np.ndarray:
        """Conduction delays (ms): ``tract_lengths / velocity``.

        Args:
            velocity: conduction velocity (m/s, which is mm/ms), > 0. TVB's default is 3 m/s.
        """
        v = float(velocity)
        if not np.isfinite(v) or v <= 0:
            raise ValueError(
                f"velocity must be a finite conduction velocity > 0 m/s (= mm/ms), got {velocity!r}"
            )
        return self.tract_lengths / v

    def _replace(self, **changes) -> Connectome:
        fields = dict(
            weights=self.weights,
            tract_lengths=self.tract_lengths,
            labels=self.labels,
            centres=self.centres,
            hemispheres=self.hemispheres,
        )
        fields.update(changes)
        return Connectome(**fields)

    def normalized(self, mode: str = "max") -> Connectome:
        """A copy with rescaled weights.

        Args:
            mode: ``"max"``: divide by the largest weight (max 1); ``"row_sum"``: each region's
                inputs sum to 1 (``W[i, :].sum() == 1``; regions without inputs stay 0).
        """
        w = self.weights
        if mode == "max":
            top = w.max()
            out = w / top if top > 0 else w.copy()
        elif mode == "row_sum":
            s = w.sum(axis=1, keepdims=True)
            out = np.divide(w, s, out=np.zeros_like(w), where=s > 0)
        else:
            raise ValueError(f"mode must be one of {_NORMALIZE}, got {mode!r}")
        return self._replace(weights=out)

    def without_self_connections(self) -> Connectome:
        """A copy with the diagonal of the weights set to 0 (self-connections removed)."""
        w = np.array(self.weights)
        np.fill_diagonal(w, 0.0)
        return self._replace(weights=w)

    def index(self, regions) -> np.ndarray:
        """Integer indices of ``regions`` (labels or indices, in the given order)."""
        if isinstance(regions, (str, int, np.integer)):
            regions = [regions]
        pos = {lab: k for k, lab in enumerate(self.labels)}
        out = []
        for r in regions:
            if isinstance(r, (str, np.str_)):
                if r not in pos:
                    raise ValueError(
                        f"unknown region label {r!r}; known: {list(self.labels)[:8]}..."
                    )
                out.append(pos[r])
            elif isinstance(r, (int, np.integer)) and not isinstance(r, bool):
                if not -self.n <= r < self.n:
                    raise ValueError(f"region index {r} out of range for {self.n} regions")
                out.append(int(r) % self.n)
            else:
                raise ValueError(f"regions must be labels or integer indices, got {r!r}")
        idx = np.asarray(out, dtype=np.int64)
        if len(set(idx.tolist())) != idx.size:
            raise ValueError(f"regions are selected twice: {list(regions)}")
        if idx.size == 0:
            raise ValueError("select at least one region")
        return idx

    def subset(self, regions) -> Connectome:
        """The sub-connectome of ``regions`` (labels or indices), in the given order."""
        idx = self.index(regions)
        sub = np.ix_(idx, idx)
        return Connectome(
            self.weights[sub],
            self.tract_lengths[sub],
            labels=[self.labels[k] for k in idx],
            centres=None if self.centres is None else self.centres[idx],
            hemispheres=None if self.hemispheres is None else self.hemispheres[idx],
        )

    def save(self, directory) -> None:
        """Write TVB's text layout into ``directory``: weights, tract_lengths, centres."""
        from ._io import write_tvb_layout

        write_tvb_layout(self, directory)
