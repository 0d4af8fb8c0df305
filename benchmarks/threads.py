"""`neurosim run coba` as a user runs it, under several thread configurations, interleaved.

Each case is a fresh ``neurosim run coba --n N --duration D --no-plot`` process; its
``summary.json`` gives ``run_s`` (after compilation, blocked on) and ``rate_hz``. Configurations:

* ``default``: no pinning, no XLA flags, no ``--threads`` (what a user gets: ``auto``);
* ``pinned``: ``taskset -c 0`` (one core; XLA sizes its thread pools to it);
* ``flags1``: no pinning, ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
  intra_op_parallelism_threads=1`` (one intra-op thread, set by hand);
* ``cliN``: no pinning, ``neurosim run --threads N`` (``cli2`` on 2 cores: XLA's own pools,
  the behaviour before ``--threads`` existed).

Rounds are interleaved (every configuration once per round) so that drift in the machine's
load hits all of them alike; the median over rounds is printed.

Command: ``python benchmarks/threads.py --sizes 4000,40000 --rounds 3 --configs default,pinned``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FLAGS1 = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def command(config: str, n: int, duration: float, out: str):
    # ``python -m neurosim.cli`` from the repository root: this tree's neurosim, as installed
    cmd = [sys.executable, "-m", "neurosim.cli", "run", "coba", "--n", str(n),
           "--duration", str(duration), "--no-plot", "--out", out]  # fmt: skip
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    if config == "pinned":
        cmd = ["taskset", "-c", "0", *cmd]
    elif config == "flags1":
        env["XLA_FLAGS"] = FLAGS1
    elif config.startswith("cli"):
        cmd += ["--threads", config[3:]]
    elif config != "default":
        raise SystemExit(f"unknown configuration {config!r}")
    return cmd, env


def run_case(config: str, n: int, duration: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        cmd, env = command(config, n, duration, out)
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=REPO)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
    return {"run_s": s["run_s"], "compile_s": s["compile_s"], "rate_hz": s["rate_hz"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="4000,40000")
    ap.add_argument("--configs", default="default,cli2,pinned")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    configs = args.configs.split(",")
    rows = {(n, c): [] for n in sizes for c in configs}
    for r in range(args.rounds):
        for n in sizes:
            for c in configs:
                res = run_case(c, n, args.duration)
                rows[(n, c)].append(res)
                print(f"round {r} n={n} {c}: run {res['run_s']:.3f} s, compile "
                      f"{res['compile_s']:.2f} s, {res['rate_hz']:.2f} Hz", flush=True)  # fmt: skip
    print("\n| n | configuration | run s (median) | min–max | compile s | rate (Hz) |")
    print("|---|---|---|---|---|---|")
    for (n, c), v in rows.items():
        runs = [x["run_s"] for x in v]
        print(
            f"| {n:,} | {c} | {statistics.median(runs):.3f} | {min(runs):.3f}–{max(runs):.3f}"
            f" | {statistics.median(x['compile_s'] for x in v):.2f} | {v[0]['rate_hz']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
