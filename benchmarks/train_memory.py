"""Peak memory of a gradient through a long simulation: plain BPTT vs (nested) checkpointing.

    python benchmarks/train_memory.py                 # 1,000 recurrent LIF, 10,000 steps
    python benchmarks/train_memory.py --quick         # 200 neurons, 2,000 steps (a smoke test)

The network is one recurrent layer of ``n`` LIF neurons (``ns.train.SpikingLayer``, dense
recurrent weights, exponential current synapses) driven by 100 Poisson inputs at 20 Hz
(drawn inside the step from ``fold_in(key, t)``, so no input sequence is stored), dt = 1 ms.
The loss, accumulated in the scan carry, is the squared difference between the population rate
and 10 Hz at every step; the gradient is taken with respect to input and recurrent weights.

Each variant runs in its own process and reports (1) XLA's compiled temporary buffer size
(``jit(...).lower(...).compile().memory_analysis().temp_size_in_bytes``), (2) the increase of
the process's resident memory during one gradient evaluation (peak RSS counter reset after
compilation, Linux), (3) the process's overall peak RSS (compilation included), and (4) the
wall time of that gradient evaluation (compiled beforehand). Variants: ``bptt`` (plain scan),
``step`` (every step checkpointed), ``nested2`` and ``nested3``
(``ns.train.scan(checkpoint="nested", levels=L)``).
The last stdout line is a JSON object with all numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

VARIANTS = {
    "bptt": dict(checkpoint=None),
    "step": dict(checkpoint="step"),
    "nested2": dict(checkpoint="nested", levels=2),
    "nested3": dict(checkpoint="nested", levels=3),
}


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(variant: str, n: int, steps: int) -> dict:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import neurosim as ns

    dt, n_in, rate_in, target_hz = 1.0, 100, 20.0, 10.0
    layer = ns.train.SpikingLayer(
        n_in,
        ns.train.default_neuron(n),
        key=jax.random.key(0),
        recurrent=True,
        weight_gain=1.0,
        recurrent_gain=0.5,
    )
    params, static = eqx.partition(
        layer, ns.train.trainable(layer, lambda m: (m.linear, m.recurrent))
    )
    key = jax.random.key(1)
    opts = VARIANTS[variant]

    def loss(p):
        lay = eqx.combine(p, static)

        def body(carry, t):
            st, acc = carry
            x = jax.random.bernoulli(jax.random.fold_in(key, t), rate_in * dt / 1000.0, (n_in,))
            st, z = lay.step(st, x.astype(jnp.float32), dt)
            r = jnp.mean(z) * 1000.0 / dt
            return (st, acc + (r - target_hz) ** 2), None

        (_, acc), _ = ns.train.scan(body, (lay.init_state(), 0.0), jnp.arange(steps), **opts)
        return acc / steps

    grad = jax.jit(jax.value_and_grad(loss))
    t0 = time.perf_counter()
    compiled = grad.lower(params).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    temp = getattr(mem, "temp_size_in_bytes", float("nan"))
    # Peak RSS of the gradient alone: reset the high-water mark after compiling (compilation
    # itself needs far more memory than the small programs it produces), run once, read it.
    reset = _reset_peak_rss()
    rss0 = _status_mb("VmRSS")
    t0 = time.perf_counter()
    val, g = compiled(params)
    jax.block_until_ready(g)
    run_s = time.perf_counter() - t0
    peak = _status_mb("VmHWM") if reset else float("nan")
    peak_process = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    gnorm = float(jnp.sqrt(sum(jnp.sum(x**2) for x in jax.tree.leaves(g))))
    return {
        "variant": variant,
        "n": n,
        "steps": steps,
        "xla_temp_mb": temp / 2**20,
        "rss_before_grad_mb": rss0,
        "peak_rss_grad_mb": peak,
        "peak_rss_increase_mb": peak - rss0,
        "peak_rss_process_mb": peak_process,
        "compile_s": compile_s,
        "grad_s": run_s,
        "loss": float(val),
        "grad_norm": gnorm,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 neurons, 2,000 steps")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.n or (200 if args.quick else 1000)
    steps = args.steps or (2000 if args.quick else 10000)
    if args.child:
        print(json.dumps(child(args.child, n, steps)))
        return

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [
                os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.environ.get("PYTHONPATH", ""),
            ]
        ),
    }
    rows = []
    for v in args.variants.split(","):
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; choose from {sorted(VARIANTS)}")
        p = subprocess.run(
            [sys.executable, __file__, "--child", v, "--n", str(n), "--steps", str(steps)],
            capture_output=True,
            text=True,
            env=env,
        )
        if p.returncode != 0:
            raise SystemExit(f"variant {v} failed:\n{p.stderr[-3000:]}")
        rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{v:8s} n={n} T={steps}: XLA temp {r['xla_temp_mb']:9.1f} MB | gradient peak RSS "
            f"+{r['peak_rss_increase_mb']:8.1f} MB | process peak "
            f"{r['peak_rss_process_mb']:.0f} MB | compile {r['compile_s']:.1f} s | "
            f"grad {r['grad_s']:.2f} s | loss {r['loss']:.3f} | |g| {r['grad_norm']:.4g}",
            flush=True,
        )
    print(json.dumps({"n": n, "steps": steps, "results": rows}))


if __name__ == "__main__":
    main()
