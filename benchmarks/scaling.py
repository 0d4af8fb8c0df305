"""Strong and weak scaling of one sharded network on 1/2/4/8 forced CPU devices.

    PYTHONPATH=. python benchmarks/scaling.py [--duration 60] [--strong 2048] [--weak 256]

Each device count runs in its own subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (JAX fixes its devices at start-up).
Workload: COBA (Brette et al. 2007; in-degree 80), with the benchmark's delay (0 ms beyond
the one-step minimum: spikes exchanged every step) and with 1.4 ms (exchanged every 15 steps).
Strong scaling keeps ``n`` fixed; weak scaling keeps ``n / N`` fixed.

Honest label: the forced "devices" are threads of one process sharing this machine's CPU
cores (2 here, also loaded by other jobs), so the run times measure the *overhead* of the
sharded program (partitioned delivery, packing, all_gather, per-device loop) and the bytes
measure the *communication volume*; neither is a speed-up measurement.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

_WORKER = r"""
import dataclasses, json, sys, time
import jax, neurosim as ns
n, duration, delay = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
net = ns.models.coba(n=n, key=jax.random.key(0))
if delay:
    net = dataclasses.replace(net, projections=tuple(
        dataclasses.replace(p, delay=delay) for p in net.projections))
D = len(jax.devices())
mesh = ns.distributed.make_mesh(D)
lay, _ = ns.distributed.shard(net, mesh, 0.1)
t0 = time.perf_counter()
# chunks of 100 steps: the first chunk's call (compile included) is reported as compile_s,
# run_s covers the other chunks
res = ns.distributed.simulate(net, duration, 0.1, key=jax.random.key(1), mesh=mesh,
                              chunk_steps=100)
wall = time.perf_counter() - t0
print(json.dumps(dict(devices=D, n=n, delay_ms=delay, interval=lay.interval,
    run_s=res.run_s, wall_s=wall, compile_s=res.compile_s, steps=res.n_steps - 100,
    rate_hz=res.spike_indices.size / n / (duration / 1000.0),
    bytes_sent_per_exchange=lay.bytes_per_exchange(),
    bytes_received_per_step=lay.bytes_received_per_step(),
    exchanges_per_step=1.0 / lay.interval)))
"""


def _one(devices: int, n: int, duration: float, delay: float) -> dict:
    env = {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "JAX_PLATFORMS": "cpu",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER, str(n), str(duration), str(delay)],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="biological ms per run")
    ap.add_argument("--strong", type=int, default=2048, help="neurons (strong scaling)")
    ap.add_argument("--weak", type=int, default=256, help="neurons per device (weak scaling)")
    ap.add_argument("--devices", default="1,2,4,8")
    ap.add_argument("--json", default=None, help="write the rows here")
    ap.add_argument("--delays", default="0,1.4", help="projection delays (ms) to run")
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.devices.split(",")]
    rows = []
    for study in ("strong", "weak"):
        for delay in [float(x) for x in args.delays.split(",")]:
            for d in counts:
                n = args.strong if study == "strong" else args.weak * d
                r = _one(d, n, args.duration, delay)
                r["study"] = study
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, COBA, dt 0.1 ms, "
          f"{args.duration:g} ms per run, the first 10 ms (compile) excluded\n")  # fmt: skip
    print(
        "| study | N dev | n | delay (ms) | exchange every | run (s) | ms/step | rate (Hz) "
        "| B sent/device/exchange | B received/device/step |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['study']} | {r['devices']} | {r['n']} | {r['delay_ms']:g} | "
            f"{r['interval']} steps | {r['run_s']:.2f} | {1e3 * r['run_s'] / r['steps']:.3f} | "
            f"{r['rate_hz']:.1f} | {r['bytes_sent_per_exchange']} | "
            f"{r['bytes_received_per_step']:.1f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r
                       for r in rows], f, indent=1)  # fmt: skip


if __name__ == "__main__":
    main()
