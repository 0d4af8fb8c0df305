"""Results, states and networks on disk: ``.npz`` archives of arrays plus JSON metadata.

Nothing here pickles: every file is a NumPy ``.npz`` (zip of ``.npy`` arrays, compressed)
whose metadata is one JSON string stored as a unicode array, and every load uses
``allow_pickle=False``. Pytrees (states, networks) are flattened with their key paths; a
load rebuilds the tree against a structure the caller supplies (``like=``) and refuses a file
whose paths, shapes or dtypes do not match.
"""

from __future__ import annotations

import json
import os

import equinox as eqx
import jax
import numpy as np

__all__ = [
    "save_result",
    "load_result",
    "save_state",
    "load_state",
    "save_network",
    "load_network",
]

_META = "__meta__"
FORMAT = "neurosim-npz-1"


def _write(path, arrays: dict, meta: dict) -> None:
    """Write ``arrays`` and ``meta`` to exactly ``path`` (numpy would append ``.npz``)."""
    arrays = {**arrays, _META: np.asarray(json.dumps({"format": FORMAT, **meta}))}
    with open(os.fspath(path), "wb") as f:
        np.savez_compressed(f, **arrays)


def _read(path, kind: str) -> tuple[dict, dict]:
    with np.load(os.fspath(path), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    if _META not in arrays:
        raise ValueError(f"{os.fspath(path)!r} is not a neurosim file (no metadata)")
    meta = json.loads(str(arrays.pop(_META)))
    if meta.get("kind") != kind:
        raise ValueError(
            f"{os.fspath(path)!r} holds a {meta.get('kind')!r}, not a {kind!r}; "
            f"use load_{meta.get('kind')}"
        )
    return arrays, meta


def _version() -> str:
    from .. import __version__

    return __version__


# -- pytrees ----------------------------------------------------------------------------------
def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _flatten(tree) -> tuple[dict, list[dict]]:
    """Array leaves as ``{"a0": ..., ...}`` and per leaf ``{"path", "key_impl"}``."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    arrays, entries = {}, []
    for i, (path, leaf) in enumerate(leaves):
        entry = {"path": jax.tree_util.keystr(path), "key_impl": None}
        if _is_key(leaf):
            entry["key_impl"] = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        arrays[f"a{i}"] = np.asarray(leaf)
        entries.append(entry)
    return arrays, entries


def _spec(leaf) -> tuple[tuple[int, ...], str]:
    if _is_key(leaf):
        leaf = jax.eval_shape(jax.random.key_data, leaf)
    return tuple(int(s) for s in np.shape(leaf)), str(np.dtype(leaf.dtype))


def _unflatten(template, arrays: dict, entries: list[dict], what: str, path):
    """Rebuild ``template``'s structure with the file's leaves, checking each one."""
    pairs, treedef = jax.tree_util.tree_flatten_with_path(template)
    want = [jax.tree_util.keystr(p) for p, _ in pairs]
    have = [e["path"] for e in entries]
    if want != have:
        missing = sorted(set(want) - set(have))[:3]
        extra = sorted(set(have) - set(want))[:3]
        raise ValueError(
            f"{os.fspath(path)!r} does not fit this {what}: it holds {len(have)} arrays, the "
            f"{what} has {len(want)}; missing {missing or 'none'}, unexpected {extra or 'none'} "
            f"(was it saved from another network or model?)"
        )
    leaves = []
    for i, ((_, ref), e) in enumerate(zip(pairs, entries, strict=True)):
        a = arrays[f"a{i}"]
        shape, dtype = _spec(ref)
        if tuple(a.shape) != shape or str(a.dtype) != dtype:
            raise ValueError(
                f"{os.fspath(path)!r} does not fit this {what} at {e['path']}: the file has "
                f"{a.dtype}{list(a.shape)}, the {what} needs {dtype}{list(shape)} (another size, "
                "dt or precision?)"
            )
        x = jax.numpy.asarray(a)
        if e["key_impl"] is not None:
            x = jax.random.wrap_key_data(x, impl=e["key_impl"])
        leaves.append(x)
    return jax.tree_util.tree_unflatten(treedef, leaves)


# -- states -----------------------------------------------------------------------------------
def save_state(state, path, *, dt: float | None = None) -> None:
    """Write a :class:`neurosim.NetworkState` (or any pytree of arrays) to ``path`` (``.npz``).

    Args:
        state: the state, e.g. ``result.final_state``.
        path: file to write (exactly this name).
        dt: the time step (ms) the state was made for; stored so that :func:`load_state` can
            rebuild the structure from a network without being told.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> ns.io.save_state(net.init_state(jax.random.key(1), 0.1), "s.npz", dt=0.1)
    """
    arrays, entries = _flatten(state)
    _write(path, arrays, {"kind": "state", "leaves": entries, "dt": dt, "version": _version()})


def load_state(path, like, *, dt: float | None = None):
    """Read a state written by :func:`save_state`.

    The structure comes from ``like``: a state of the same network, or the network itself
    (its ``init_state(key, dt)`` structure, with ``dt`` from the file unless given). A file
    whose array paths, shapes or dtypes differ is refused with a ``ValueError`` naming the
    first difference.

    Args:
        path: the file.
        like: a :class:`neurosim.Network` or a state with the wanted structure.
        dt: time step (ms) when ``like`` is a network and the file has none.

    Returns:
        The state (device arrays); with ``like`` a network, checked by ``like.check_state``.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> ns.io.save_state(net.init_state(jax.random.key(1), 0.1), "s.npz", dt=0.1)
        >>> st = ns.io.load_state("s.npz", like=net)
    """
    from ..network import Network

    arrays, meta = _read(path, "state")
    if isinstance(like, Network):
        dt = meta.get("dt") if dt is None else dt
        if dt is None:
            raise ValueError(
                f"{os.fspath(path)!r} does not record dt; pass load_state(..., dt=...) or a "
                "state as like="
            )
        template = jax.eval_shape(lambda: like.init_state(jax.random.key(0), float(dt)))
        state = _unflatten(template, arrays, meta["leaves"], "network's state", path)
        like.check_state(state, float(dt))
        return state
    return _unflatten(like, arrays, meta["leaves"], "state", path)


# -- networks ---------------------------------------------------------------------------------
def save_network(net, path) -> None:
    """Write the array leaves of a network (weights, parameters, connectivity) to ``path``.

    Only values are stored, not the structure: populations, models and projections come from
    the Python code that builds the network, and :func:`load_network` puts the file's values
    into such a network. Use it to keep trained or fitted parameters.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> ns.io.save_network(net, "net.npz")
        >>> net2 = ns.io.load_network("net.npz", like=net)
    """
    dyn, _ = eqx.partition(net, eqx.is_array)
    arrays, entries = _flatten(dyn)
    _write(
        path,
        arrays,
        {"kind": "network", "leaves": entries, "type": type(net).__name__, "version": _version()},
    )


def load_network(path, like):
    """``like`` with its array leaves replaced by the values in ``path`` (see :func:`save_network`).

    Raises ``ValueError`` when the file's arrays (paths, shapes, dtypes) do not match ``like``'s.
    """
    arrays, meta = _read(path, "network")
    dyn, static = eqx.partition(like, eqx.is_array)
    dyn = _unflatten(dyn, arrays, meta["leaves"], "network", path)
    return eqx.combine(dyn, static)


# -- results ----------------------------------------------------------------------------------
def save_result(result, path, *, metadata: dict | None = None) -> None:
    """Write a :class:`neurosim.SimulationResult` to ``path`` (compressed ``.npz`` + JSON).

    Stored: spike times (ms) and global indices, every trace and its sample times, status and
    message, timings, ``t_start``/``duration``/``dt``/``n_steps``, population index ranges and
    ``metadata`` (JSON-serialisable). Not stored: the final state (use :func:`save_state`)
    and the network (use :func:`save_network`).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> res = ns.simulate(net, 5.0, 0.1, key=jax.random.key(1))
        >>> ns.io.save_result(res, "res.npz", metadata={"model": "coba"})
        >>> ns.io.load_result("res.npz").n_spikes == res.n_spikes
        True
    """
    arrays = {
        "spike_times": np.asarray(result.spike_times, np.float64),
        "spike_indices": np.asarray(result.spike_indices, np.int64),
    }
    names = list(result.traces)
    for i, name in enumerate(names):
        arrays[f"trace{i}"] = np.asarray(result.traces[name])
        arrays[f"trace_times{i}"] = np.asarray(result.trace_times[name], np.float64)
    net = result.network
    meta = {
        "kind": "result",
        "version": _version(),
        "traces": names,
        "t_start": float(result.t_start),
        "duration": float(result.duration),
        "dt": float(result.dt),
        "n_steps": int(result.n_steps),
        "compile_s": float(result.compile_s),
        "run_s": float(result.run_s),
        "status": str(result.status),
        "message": str(result.message),
        "devices": [str(d) for d in result.devices],
        "spikes_recorded": None if result.spikes_recorded is None else list(result.spikes_recorded),
        "index_ranges": {k: list(v) for k, v in net.index_ranges().items()} if net else {},
        "metadata": metadata or {},
    }
    _write(path, arrays, meta)


def load_result(path, *, network=None):
    """Read a result written by :func:`save_result`.

    Returns a :class:`neurosim.SimulationResult` with ``final_state=None`` and ``network``
    as given (pass the network to use ``result.spikes(name)`` and the rate properties); the
    saved ``metadata`` dict and index ranges are on ``result.metadata``.
    """
    from ..network import SimulationResult

    arrays, meta = _read(path, "result")
    names = meta["traces"]
    res = SimulationResult(
        spike_times=arrays["spike_times"],
        spike_indices=arrays["spike_indices"],
        traces={n: arrays[f"trace{i}"] for i, n in enumerate(names)},
        trace_times={n: arrays[f"trace_times{i}"] for i, n in enumerate(names)},
        final_state=None,
        network=network,
        t_start=meta["t_start"],
        duration=meta["duration"],
        dt=meta["dt"],
        n_steps=meta["n_steps"],
        compile_s=meta["compile_s"],
        run_s=meta["run_s"],
        status=meta["status"],
        message=meta["message"],
        devices=meta["devices"],
        spikes_recorded=None
        if meta.get("spikes_recorded") is None
        else tuple(meta["spikes_recorded"]),
    )
    res.metadata = {**meta["metadata"], "index_ranges": meta["index_ranges"]}
    return res
