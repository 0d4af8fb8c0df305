"""Host-side pieces shared by the simulation drivers (spiking networks and rate models).

Both drivers run one compiled ``while_loop`` per chunk: the executable is compiled ahead of
time once per structure and shapes (and timed), a progress bar appears for long runs, and a
runtime fault either raises :class:`neurosim.SimulationError` (carrying the partial result) or
is returned with a warning.
"""

from __future__ import annotations

import time
import warnings
from typing import Literal

import jax

from ._validate import check_literal

__all__ = ["OnFault", "check_on_fault", "compile_cached", "progress_bar", "finish", "HashableTree"]

OnFault = Literal["raise", "return"]
"""What a driver does with a runtime fault: ``"raise"`` a :class:`neurosim.SimulationError`
carrying the partial result, or ``"return"`` the partial result with a ``RuntimeWarning``."""

_MAX_CACHED = 32


class HashableTree:
    """Hashable wrapper of the non-array part of a pytree (a static jit argument).

    Models may hold dicts (unhashable inside an equinox module), so equality and hashing go
    through the flattened tree: its structure and its (hashable) non-array leaves.
    """

    def __init__(self, tree):
        self.tree = tree
        leaves, treedef = jax.tree.flatten(tree)
        self._key = (treedef, tuple(leaves))

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, HashableTree) and self._key == other._key


def _avals_key(tree):
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, tuple((x.shape, str(x.dtype)) for x in leaves)


def compile_cached(cache: dict, fn, n_static: int, static_args: tuple, dynamic_args: tuple):
    """``(executable, compile_seconds)`` of ``fn(*static_args, *dynamic_args)``.

    ``fn``'s arguments 1..``n_static`` (after the first dynamic argument, by convention the
    array part of a model) are static: the call is ``fn(dynamic_args[0], *static_args,
    *dynamic_args[1:])``. Compiled once per static values and argument shapes/dtypes; a hit
    costs nothing (``compile_seconds = 0``), so changing parameter values never recompiles.
    """
    key = (fn, static_args, _avals_key(dynamic_args))
    hit = cache.get(key)
    if hit is not None:
        return hit, 0.0
    t0 = time.perf_counter()
    jitted = jax.jit(fn, static_argnums=tuple(range(1, 1 + n_static)))
    exe = jitted.lower(dynamic_args[0], *static_args, *dynamic_args[1:]).compile()
    seconds = time.perf_counter() - t0
    if len(cache) >= _MAX_CACHED:
        cache.pop(next(iter(cache)))
    cache[key] = exe
    return exe, seconds


def progress_bar(n_steps: int, dt: float, show: bool | None):
    """A tqdm bar on stderr: always (``True``), never (``False``), or for runs > 2 s (``None``)."""
    if show is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(
        total=n_steps,
        unit="step",
        desc=f"simulating {n_steps * dt:g} ms",
        delay=0.0 if show else 2.0,
        leave=False,
        dynamic_ncols=True,
    )


def check_on_fault(on_fault) -> OnFault:
    """Validate the ``on_fault`` option of a driver (:data:`OnFault`) and return it.

    Called by every driver before it compiles or runs anything, so a typo fails at once.

    Example:
        >>> check_on_fault("return")
        'return'
    """
    return check_literal("on_fault", on_fault, OnFault)


def finish(result, on_fault: OnFault):
    """Return ``result``, or raise/warn if its status is ``"fault"`` (per ``on_fault``)."""
    check_on_fault(on_fault)
    if result.status == "fault":
        from .network import SimulationError

        if on_fault == "raise":
            raise SimulationError(result.message, result)
        warnings.warn(result.message, RuntimeWarning, stacklevel=3)
    return result
