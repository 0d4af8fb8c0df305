"""Where a COBA step's time goes: the full step against variants with one phase removed.

Usage (from the repository root, one core, single-threaded XLA):
    taskset -c 0 python benchmarks/step_profile.py --n 4000,40000 --repeats 5

For each size it builds ``ns.models.coba(n)`` (stored CSR, dt = 0.1 ms) and times ``simulate``
for ``--duration`` ms (the compiled chunk loop, as ``neurosim run`` does), in these variants,
interleaved round by round (the minimum over rounds is reported: noisy shared machines):

- ``full``: the step as shipped (populations that qualify take the fused step,
  :mod:`neurosim.network._fused`);
- ``unfused``: the pure-JAX phases (neuron update, event kernel, receptor decay as separate
  XLA ops: the step before the fused kernel);
- ``no-record``: ``record_spikes=()`` (no bit-packing of spikes into the chunk buffer);
- ``no-fault``: the per-step non-finite check replaced by the old fault step;
- ``no-delivery``: unfused, every projection's ``event_matvec`` replaced by zeros (the neuron
  update, receptor decay, recording and fault check only; without synaptic input every neuron
  fires at the bias-driven rate, which the elementwise phases do not depend on);
- ``kernel``: the event kernels of the unfused step alone, a loop of ``g = g * a + spikes @ W``
  per projection over spike vectors recorded from the network itself (64 steps, cycled),
  minus the same loop with the delivery replaced by zeros.

Per-step times are ``seconds / steps`` (wall-clock ``run_s`` of each run, or with
``--cpu-time`` the process's CPU seconds, which other jobs' load does not inflate); the table
is printed and, with ``--json``, written as JSON lines. Differences between variants are the
phase costs (they interact a little: removing a phase can change what XLA fuses).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout's neurosim

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.network import _simulate, _step  # noqa: E402  (benchmark: patches a phase)

DT = 0.1
POOL = 64
_CACHES: dict = {}
CPU_TIME = [False]  # --cpu-time: process CPU seconds (robust to other jobs' load)


@contextlib.contextmanager
def patched(variant: str):
    saved = (_step.event_matvec, _step.faults, _step.fused_populations, _simulate._COMPILED)
    if variant not in _CACHES:
        jax.clear_caches()  # jit's trace cache would hand back another variant's trace
    _simulate._COMPILED = _CACHES.setdefault(variant, {})  # one executable per variant
    if variant in ("unfused", "no-delivery"):
        _step.fused_populations = lambda net, plan: {}
    if variant == "no-delivery":
        _step.event_matvec = lambda conn, s, backend="auto": jnp.zeros((conn.n_post,), s.dtype)
    if variant == "no-fault":
        _step.faults = lambda net, state, *a: (state.fault_step, ())
    try:
        yield
    finally:
        _step.event_matvec, _step.faults, _step.fused_populations, _simulate._COMPILED = saved


def sim_seconds(net, duration, variant):
    rec = () if variant == "no-record" else None
    with patched(variant):
        c0 = time.process_time()
        res = ns.simulate(net, duration, DT, key=jax.random.key(1), record_spikes=rec,
                          progress=False)  # fmt: skip
        cpu = time.process_time() - c0
    return (cpu if CPU_TIME[0] else res.run_s), res.compile_s, res.rate_hz


def spike_pool(net, steps: int = 200) -> jax.Array:
    """``POOL`` spike vectors of the network itself (after ``steps - POOL`` steps)."""
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, steps, DT, key=jax.random.key(1))
    return out.spikes["P"][-POOL:]


def kernel_fn(net, steps: int, deliver: bool):
    projs = net.projections

    def run(conns, pool):
        def body(i, gs):
            s = pool[i % POOL]
            new = []
            for pr, c, g in zip(projs, conns, gs, strict=True):
                src = s[pr.pre_slice[0] : pr.pre_slice[1]]
                x = ns.ops.event_matvec(c, src) if deliver else jnp.zeros_like(g) + src[0]
                new.append(g * 0.99 + x)
            return tuple(new)

        init = tuple(jnp.zeros((pr.conn.n_post,), jnp.float32) for pr in projs)
        return jax.lax.fori_loop(0, steps, body, init)

    return jax.jit(run)


def kernel_seconds(net, steps: int, repeats: int) -> float:
    pool = spike_pool(net)
    conns = tuple(pr.conn for pr in net.projections)
    f, base = kernel_fn(net, steps, True), kernel_fn(net, steps, False)
    jax.block_until_ready((f(conns, pool), base(conns, pool)))
    clock = time.process_time if CPU_TIME[0] else time.perf_counter
    best, best_base = np.inf, np.inf
    for _ in range(repeats):
        t0 = clock()
        jax.block_until_ready(f(conns, pool))
        best = min(best, clock() - t0)
        t0 = clock()
        jax.block_until_ready(base(conns, pool))
        best_base = min(best_base, clock() - t0)
    return max(best - best_base, 0.0), best, best_base


VARIANTS = ("full", "unfused", "no-record", "no-fault", "no-delivery")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="4000,40000")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms of biology per run")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--json", default=None)
    ap.add_argument("--cpu-time", action="store_true", help="time by process CPU seconds")
    args = ap.parse_args(argv)
    CPU_TIME[0] = args.cpu_time
    variants = args.variants.split(",")
    steps = int(round(args.duration / DT))
    rows = []
    for n in [int(x) for x in args.n.split(",")]:
        net = ns.models.coba(n)
        _CACHES.clear()  # a new size: each variant traces afresh (see patched)
        best, rate = {v: np.inf for v in variants}, {}
        for v in variants:
            sim_seconds(net, args.duration, v)  # compile
        for _ in range(args.repeats):
            for v in variants:
                run_s, _, r = sim_seconds(net, args.duration, v)
                best[v], rate[v] = min(best[v], run_s), r
        k, k_with, k_base = kernel_seconds(net, steps, args.repeats)
        row = dict(n=n, steps=steps, **{f"{v}_s": round(best[v], 4) for v in variants},
                   kernel_s=round(k, 4), kernel_loop_s=round(k_with, 4),
                   kernel_base_s=round(k_base, 4),
                   rates={v: round(r, 2) for v, r in rate.items()})  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| n | " + " | ".join(variants) + " | kernel alone | (us/step) |")
    print("|---" * (len(variants) + 3) + "|")
    for r in rows:
        us = [1e6 * r[f"{v}_s"] / r["steps"] for v in variants]
        k_us = 1e6 * r["kernel_s"] / r["steps"]
        print(f"| {r['n']:,} | " + " | ".join(f"{u:.2f}" for u in us) + f" | {k_us:.2f} | |")
    if args.json:
        with open(args.json, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
