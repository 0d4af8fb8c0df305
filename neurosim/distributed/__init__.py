"""One network over many devices and hosts: populations sharded along the neuron axis.

:func:`simulate` and :func:`run` split every spiking population into contiguous blocks over
the devices of a 1-D :class:`jax.sharding.Mesh` (:func:`make_mesh`) with :func:`jax.shard_map`
(uneven sizes end in masked padding); each device owns its block and the synapses onto it, and
spikes are exchanged bit-packed with ``all_gather`` once per minimum delay. Spike sources,
inputs, per-neuron Poisson inputs, rate populations and readouts are replicated (see
``neurosim/distributed/_multiscale.py`` for why the latter are not split along regions).
:func:`initialize` joins several processes (hosts) with :func:`jax.distributed.initialize`.
:func:`sweep` and :func:`shard_members` spread parameter sweeps and ensemble members over
devices. See ``docs/scaling.md``.

Example:
    >>> import jax, neurosim as ns
    >>> net = ns.models.coba(n=64, key=jax.random.key(0))
    >>> mesh = ns.distributed.make_mesh()  # all devices
    >>> res = ns.distributed.simulate(net, 10.0, 0.1, key=jax.random.key(1), mesh=mesh)
"""

from ._ensemble import member_mesh, member_sharding, shard_members, sweep
from ._hosts import initialize
from ._layout import AXIS, Layout, make_mesh
from ._partition import ShardedState
from ._run import run, shard, simulate

__all__ = [
    "AXIS",
    "Layout",
    "ShardedState",
    "initialize",
    "make_mesh",
    "member_mesh",
    "member_sharding",
    "run",
    "shard",
    "shard_members",
    "simulate",
    "sweep",
]
