"""Per-synapse delays: the compiled CPU kernel against the XLA loops on the microcircuit.

``ns.models.potjans_diesmann(0.1, 0.1, "poisson")`` (NEST's N = K = 0.1 setup, every
projection with per-synapse delays) simulated for ``--ms`` of biology twice with the same
key; the second run's wall time is the run time after compilation. ``--xla`` forces the XLA
loops of ``neurosim/network/_delays.py`` (the path before the kernel). Prints the times and
a digest of the spikes (equal digests: the same spikes, spike for spike).

    PYTHONPATH=$PWD python benchmarks/delay_kernel.py [--xla] [--ms 200]
"""

from __future__ import annotations

import argparse
import hashlib
import time
import warnings

import jax
import numpy as np

import neurosim as ns
from neurosim.network import _delays

parser = argparse.ArgumentParser()
parser.add_argument("--xla", action="store_true", help="force the XLA loops (no kernel)")
parser.add_argument("--ms", type=float, default=200.0)
args = parser.parse_args()
if args.xla:
    _delays._use_kernel = lambda *a: False

warnings.filterwarnings("ignore", category=ns.network.DelayRoundingWarning)
net = ns.models.potjans_diesmann(0.1, 0.1, "poisson", key=jax.random.key(100))
jax.block_until_ready(jax.tree_util.tree_leaves(net))
walls = []
for _ in range(2):
    t0 = time.perf_counter()
    res = ns.simulate(net, args.ms, 0.1, key=jax.random.key(1))
    jax.block_until_ready(res.spike_times)
    walls.append(time.perf_counter() - t0)
t = np.asarray(res.spike_times)
i = np.asarray(res.spike_indices)
digest = hashlib.sha256(t.tobytes() + i.tobytes()).hexdigest()[:12]
path = "XLA loops" if args.xla else "kernel"
print(
    f"{path}: {args.ms:g} ms, first call {walls[0]:.1f} s (with compilation), "
    f"second {walls[1]:.1f} s; {t.size} spikes, digest {digest}"
)
