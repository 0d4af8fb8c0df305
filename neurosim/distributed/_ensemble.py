"""Ensembles and parameter sweeps over devices: the member axis sharded with ``NamedSharding``.

Members (assimilation ensemble members, sweep values) are independent simulations, so they
are ``vmap``-ped into one compiled function and their leading axis is split over the devices
of a :class:`jax.sharding.Mesh` (``PartitionSpec(axis)`` on the member axis, everything else
replicated). XLA then runs each device's members locally; only what couples members (the
ensemble mean and covariance of an assimilation update) communicates. Per-member results are
the same computation as on one device (bitwise under ``jax_threefry_partitionable``, the
default, for random draws too); reductions over members may differ in summation order
(~1e-7 relative in float32).

Member counts that the mesh does not divide: :func:`sweep` pads the member axis (repeating
the last member) and drops the padding from the result, because members never interact;
:func:`shard_members` (used by ``run_filter(mesh=...)``) raises, because padding would change
an ensemble's statistics.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["member_mesh", "member_sharding", "shard_members", "sweep"]


def member_mesh(devices=None, axis: str = "members") -> Mesh:
    """A 1-D mesh over ``devices`` (default: all of ``jax.devices()``) named ``axis``.

    Example:
        >>> from neurosim.distributed._ensemble import member_mesh
        >>> member_mesh().axis_names
        ('members',)
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("devices must hold at least one device, got an empty list")
    return Mesh(np.asarray(devices), (axis,))


def _axis(mesh, axis):
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"mesh must be a jax.sharding.Mesh (e.g. member_mesh()), got {type(mesh).__name__}"
        )
    if axis is None:
        if len(mesh.axis_names) != 1:
            raise ValueError(f"mesh has axes {mesh.axis_names}: pass axis= to name the member axis")
        axis = mesh.axis_names[0]
    if axis not in mesh.axis_names:
        raise ValueError(f"axis={axis!r} is not an axis of the mesh {mesh.axis_names}")
    return axis, mesh.shape[axis]


def member_sharding(mesh: Mesh, axis: str | None = None) -> NamedSharding:
    """``NamedSharding`` splitting the leading (member) axis over mesh axis ``axis``.

    Example:
        >>> from neurosim.distributed._ensemble import member_mesh, member_sharding
        >>> member_sharding(member_mesh()).spec
        PartitionSpec('members',)
    """
    axis, _ = _axis(mesh, axis)
    return NamedSharding(mesh, PartitionSpec(axis))


def _members(tree) -> int:
    leaves = [x for x in jax.tree.leaves(tree) if hasattr(x, "shape")]
    if not leaves or any(jnp.ndim(x) == 0 for x in leaves):
        raise ValueError(
            "every array leaf must have the member axis first; got leaf shapes "
            f"{[tuple(jnp.shape(x)) for x in leaves]}"
        )
    sizes = {jnp.shape(x)[0] for x in leaves}
    if len(sizes) != 1:
        raise ValueError(f"leaves disagree on the number of members: {sorted(sizes)}")
    return sizes.pop()


def shard_members(tree, mesh: Mesh, *, axis: str | None = None):
    """Place every array leaf of ``tree`` (member axis first) split over the mesh's devices.

    Args:
        tree: pytree of arrays with a common leading member axis ``E``.
        mesh: the device mesh; ``axis`` names the member axis (default: its only axis).

    Raises:
        ValueError: if the mesh's axis size does not divide ``E`` (an ensemble's statistics
            would change with padding members: use a multiple of the device count).

    Example:
        >>> import jax.numpy as jnp
        >>> from neurosim.distributed._ensemble import member_mesh, shard_members
        >>> x = shard_members(jnp.zeros((8, 3)), member_mesh())
    """
    axis, n_dev = _axis(mesh, axis)
    E = _members(tree)
    if E % n_dev:
        raise ValueError(
            f"the ensemble has {E} members, which the {n_dev} devices of mesh axis {axis!r} do "
            f"not divide; use a multiple of {n_dev} members (e.g. {E + (-E) % n_dev}) or a "
            "mesh over fewer devices"
        )
    sharding = NamedSharding(mesh, PartitionSpec(axis))
    return jax.tree.map(lambda x: jax.device_put(x, sharding) if hasattr(x, "shape") else x, tree)


def _pad(tree, n: int):
    if n == 0:
        return tree
    return jax.tree.map(lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], n, axis=0)]), tree)


def sweep(fn: Callable, params, *args, mesh: Mesh | None = None, axis: str | None = None, **kwargs):
    """``jax.vmap(fn)`` over the leading axis of ``params``, sharded over ``mesh``'s devices.

    ``fn(param, *args, **kwargs)`` is one member (e.g. a network simulation with one
    parameter value, through ``ns.run``); ``args``/``kwargs`` are shared by all members
    (closed over: constants of the compiled function, e.g. a network or a step count).
    With ``mesh=None`` this is ``jax.jit(jax.vmap(fn))`` on the default device.
    A member count that the devices do not divide is padded with copies of the last member,
    whose results are dropped (members are independent, so the others are unaffected).

    Args:
        fn: per-member function; its outputs get the member axis first.
        params: pytree of arrays, member axis first (``E`` values).
        mesh: device mesh (e.g. :func:`member_mesh`); ``axis`` names its member axis.

    Returns:
        ``fn``'s outputs stacked over members, ``E`` first (sharded over the mesh).

    Example:
        >>> import jax.numpy as jnp
        >>> from neurosim.distributed._ensemble import member_mesh, sweep
        >>> sweep(lambda w, x: w * x, jnp.arange(6.0), 2.0, mesh=member_mesh()).tolist()
        [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    """
    E = _members(params)
    mapped = jax.vmap(lambda p: fn(p, *args, **kwargs))
    if mesh is None:
        return jax.jit(mapped)(params)
    axis, n_dev = _axis(mesh, axis)
    pad = (-E) % n_dev
    sharding = NamedSharding(mesh, PartitionSpec(axis))
    padded = shard_members(_pad(params, pad), mesh, axis=axis)
    out = jax.jit(mapped, out_shardings=sharding)(padded)
    return out if pad == 0 else jax.tree.map(lambda x: x[:E], out)
