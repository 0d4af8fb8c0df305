"""Operator micro-benchmark: event delivery per step, sizes x connection probability x rate.

Usage (one command; every backend, CSR and ELL, a table on stdout):
    taskset -c 0 python benchmarks/ops_micro.py
    python benchmarks/ops_micro.py --sizes 4000,40000 --in-degree 80,400 --rates 5,20,80 \
        --backends ffi,loop,compact,reference --formats csr,ell --json out.jsonl

What is timed: a compiled ``fori_loop`` of ``--steps`` steps, each ``g = 0.999 g +
event_matvec(W, s_t)`` (a receptor decaying and receiving spikes, as in a network step), with
``s_t`` cycling through 64 pre-drawn spike vectors (each neuron spikes with probability
``rate * dt``, dt = 0.1 ms). The same loop without delivery is timed too and subtracted, so
``us/step`` is the delivery's cost. Compile first, then repeats interleaved across backends;
the minimum is reported (noisy shared machines). ``ns/event`` is per delivered synapse.
The matrix is ``n x n`` with Binomial(n, p) targets per row (p = in_degree / n, targets drawn
with replacement: the benchmark measures delivery, not the generator).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402

DT_MS = 0.1
POOL = 64


def make_csr(n: int, in_degree: float, seed: int) -> ns.ops.CSR:
    rng = np.random.default_rng(seed)
    p = min(1.0, in_degree / n)
    counts = rng.binomial(n, p, size=n)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    targets = rng.integers(0, n, size=int(indptr[-1]), dtype=np.int32)
    for i in range(0, n, 1 << 16):  # sorted rows, like the generators produce
        a, b = indptr[i], indptr[min(i + (1 << 16), n)]
        row = np.repeat(np.arange(min(1 << 16, n - i)), counts[i : i + (1 << 16)])
        targets[a:b] = targets[a:b][np.lexsort((targets[a:b], row))]
    return ns.ops.CSR.from_arrays(indptr, targets, 0.5, n_post=n)


def spike_pool(n: int, rate_hz: float, seed: int) -> jax.Array:
    rng = np.random.default_rng(seed + 1)
    return jnp.asarray((rng.random((POOL, n)) < rate_hz * DT_MS * 1e-3).astype(np.float32))


def loop_fn(backend: str | None, steps: int):
    def run(conn, pool):
        def body(i, g):
            g = 0.999 * g
            if backend is None:
                return g + pool[i % POOL, 0]  # same loop, no delivery (baseline)
            return g + ns.ops.event_matvec(conn, pool[i % POOL], backend=backend)

        return jax.lax.fori_loop(0, steps, body, jnp.zeros((conn.n_post,), jnp.float32))

    return jax.jit(run)


def time_once(fn, conn, pool) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn(conn, pool))
    return time.perf_counter() - t0


def bench_case(conn, pool, backends, repeats: int, budget_s: float, max_steps: int):
    """{backend: seconds per step (baseline subtracted)}; steps sized from a probe run."""
    probe = {}
    for b in backends:
        f = loop_fn(b, 8)
        jax.block_until_ready(f(conn, pool))  # compile
        probe[b] = max(time_once(f, conn, pool) / 8, 1e-7)
    steps = {b: int(np.clip(budget_s / probe[b], 16, max_steps)) for b in backends}
    fns = {b: loop_fn(b, steps[b]) for b in backends}
    base = {s: loop_fn(None, s) for s in set(steps.values())}
    for f in list(fns.values()) + list(base.values()):
        jax.block_until_ready(f(conn, pool))  # compile
    best = {b: np.inf for b in backends}
    best_base = {s: np.inf for s in base}
    for _ in range(repeats):
        for b in backends:
            best[b] = min(best[b], time_once(fns[b], conn, pool))
        for s, f in base.items():
            best_base[s] = min(best_base[s], time_once(f, conn, pool))
    return {b: max(best[b] - best_base[steps[b]], 0.0) / steps[b] for b in backends}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="4000,40000", help="n (n_pre = n_post)")
    ap.add_argument("--in-degree", default="80,400", help="expected synapses per row (p*n)")
    ap.add_argument("--rates", default="5,20,80", help="firing rates (Hz), dt = 0.1 ms")
    ap.add_argument("--backends", default="ffi,loop,compact,reference")
    ap.add_argument("--formats", default="csr,ell")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--budget", type=float, default=0.3, help="seconds per timed loop")
    ap.add_argument("--max-steps", type=int, default=5000)
    ap.add_argument("--json", default=None, help="also write rows as JSON lines here")
    args = ap.parse_args(argv)
    backends = args.backends.split(",")
    status = ns.ops.ffi_status()
    print(
        f"# jax {jax.__version__}, device {jax.devices()[0]}, compiled kernels: "
        f"{'yes' if status['available'] else 'NO (' + status['reason'] + ')'}"
    )
    head = (
        f"{'n':>7} {'k':>5} {'rate':>5} {'spk/step':>8} {'fmt':>4} {'backend':>9} "
        f"{'us/step':>9} {'ns/event':>9} {'vs loop':>8}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    for n in map(int, args.sizes.split(",")):
        for k in map(float, args.in_degree.split(",")):
            csr = make_csr(n, k, seed=n)
            for fmt in args.formats.split(","):
                conn = csr if fmt == "csr" else csr.to_ell()
                for rate in map(float, args.rates.split(",")):
                    pool = spike_pool(n, rate, seed=n)
                    per_step = float(np.asarray(pool).sum(axis=1).mean())
                    events = per_step * csr.nnz / n
                    res = bench_case(
                        conn, pool, backends, args.repeats, args.budget, args.max_steps
                    )
                    for b in backends:
                        us = res[b] * 1e6
                        ratio = res["loop"] / res[b] if "loop" in res and res[b] > 0 else np.nan
                        row = dict(
                            n=n,
                            in_degree=k,
                            rate_hz=rate,
                            spikes_per_step=round(per_step, 2),
                            format=fmt,
                            backend=b,
                            us_per_step=round(us, 3),
                            ns_per_event=round(us * 1e3 / max(events, 1e-9), 3),
                            speedup_vs_loop=round(float(ratio), 2),
                        )
                        rows.append(row)
                        print(
                            f"{n:>7} {k:>5.0f} {rate:>5.0f} {per_step:>8.1f} {fmt:>4} {b:>9} "
                            f"{us:>9.2f} {row['ns_per_event']:>9.2f} {ratio:>7.1f}x",
                            flush=True,
                        )
    if args.json:
        with open(args.json, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    return rows


if __name__ == "__main__":
    main()
