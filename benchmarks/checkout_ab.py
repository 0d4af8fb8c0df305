"""Back-to-back COBA timings of two neurosim checkouts (before / after a change), fresh processes.

Usage (from the repository root):
    python benchmarks/checkout_ab.py --before /path/to/other/checkout --n 4000 --rounds 3 --reps 3

Alternates ``before`` and ``after`` (default: this checkout), each a fresh process pinned to
one core (``taskset -c 0``) with single-threaded XLA that builds ``coba(n)`` (stored CSR),
compiles with one run, then times ``--reps`` runs of ``simulate(net, 1000 ms, dt=0.1)``; prints
one JSON line per process: median and minimum wall-clock ``run_s``, median process CPU seconds
(which other jobs' load inflates much less), the rate and the spike count.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
ONE_CORE = ["taskset", "-c", "0"] if shutil.which("taskset") else []
_CASE = """
import json, statistics, time, jax, neurosim as ns
n, reps = {n}, {reps}
net = ns.models.coba(n)
ns.simulate(net, 1000.0, 0.1, key=jax.random.key(1), progress=False)
walls, cpus = [], []
for _ in range(reps):
    c0 = time.process_time()
    r = ns.simulate(net, 1000.0, 0.1, key=jax.random.key(1), progress=False)
    cpus.append(time.process_time() - c0)
    walls.append(r.run_s)
print(json.dumps(dict(n=n, wall=statistics.median(walls), wall_min=min(walls),
                      cpu=statistics.median(cpus), rate=round(r.rate_hz, 2),
                      spikes=int(r.n_spikes))))
"""


def run(checkout: str, n: int, reps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": checkout, "OMP_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}  # fmt: skip
    code = _CASE.format(n=n, reps=reps)
    p = subprocess.run(ONE_CORE + [sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, cwd="/")  # fmt: skip
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip().splitlines()[-3:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the other checkout's root")
    ap.add_argument("--after", default=str(ROOT))
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    for _ in range(args.rounds):
        for which, path in (("before", args.before), ("after", args.after)):
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            row = {"which": which, "load": load, **run(path, args.n, args.reps)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
