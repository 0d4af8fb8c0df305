"""One process of the 2-process run in test_distributed.py (env: NEUROSIM_COORDINATOR, ...).

Joins the job with :func:`neurosim.distributed.initialize`, simulates COBA (64 neurons, 30 ms)
over the devices of all processes and writes the raster it got to ``argv[1]`` (npz).
"""

from __future__ import annotations

import sys

import jax
import numpy as np

import neurosim as ns

ns.distributed.initialize()
net = ns.models.coba(n=64, key=jax.random.key(0))
mesh = ns.distributed.make_mesh()
res = ns.distributed.simulate(net, 30.0, 0.1, key=jax.random.key(1), mesh=mesh)
np.savez(sys.argv[1], indices=res.spike_indices, times=res.spike_times, n_devices=mesh.size)
jax.distributed.shutdown()
