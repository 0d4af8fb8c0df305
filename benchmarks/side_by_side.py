"""Run neurosim and the peer simulators on the same benchmark definitions, in one session.

Usage:
    python benchmarks/side_by_side.py --model coba --sizes 4000,40000 [--peers brian2,brainpy,nest]
        [--connectivity stored|procedural|auto]

Every process is pinned to one core (``taskset -c 0``) and XLA is single-threaded. neurosim is
run in a fresh process per case (``neurosim bench --json``: median of 3 runs after a warm-up);
peers by their anchor scripts (not part of this repository: ``$NEUROSIM_ANCHORS``, with venvs
made by its ``setup.sh``). Prints
one row per (simulator, size) and writes them as JSON lines to ``benchmarks/out/``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
ANCHORS = pathlib.Path(os.environ.get("NEUROSIM_ANCHORS", ROOT.parent / "shared" / "anchors"))
VENVS = pathlib.Path(os.environ.get("ANCHORS_DIR", pathlib.Path.home() / ".neurosim-anchors"))
ONE_CORE = ["taskset", "-c", "0"] if shutil.which("taskset") else []
ENV = {
    **os.environ,
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def _run(cmd, timeout=3600):
    t0 = time.perf_counter()
    p = subprocess.run(ONE_CORE + cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return None, wall, (p.stderr or p.stdout).strip().splitlines()[-1:]
    return p.stdout, wall, None


def neurosim_case(model, n, duration, repeats, connectivity="stored"):
    call = (
        f"bench.run_case({model!r}, {n}, {duration}, repeats={repeats}, "
        f"connectivity={connectivity!r})"
    )
    code = f"import json; from neurosim import bench; print(json.dumps({call}))"
    out, wall, err = _run([sys.executable, "-c", code])
    if out is None:
        return {"sim": "neurosim", "n": n, "error": err}
    row = json.loads(out.strip().splitlines()[-1])
    row.update(sim="neurosim", process_wall_s=round(wall, 2))
    return row


_FIELDS = re.compile(r"(\w+(?:\(compile\+run\))?)=([-\d.]+)")


def peer_case(peer, model, n, duration):
    py = VENVS / peer / "bin" / "python"
    if not py.exists():
        return {"sim": peer, "n": n, "error": f"{py} missing (run setup.sh in $NEUROSIM_ANCHORS)"}
    if peer == "brian2":
        if model == "coba":
            cmd = [
                str(py),
                str(ANCHORS / "coba_brian2.py"),
                str(n),
                str(duration),
                "cpp_standalone",
            ]
        else:
            cmd = [str(py), str(ANCHORS / "bench_brian2_more.py"), model, str(n), str(duration)]
    elif peer == "brainpy":
        if model != "coba":
            return {"sim": peer, "n": n, "error": "no anchor script"}
        cmd = [str(py), str(ANCHORS / "coba_brainpy.py"), str(n), str(duration), "csr"]
    elif peer == "nest":
        if model != "coba":
            return {"sim": peer, "n": n, "error": "no anchor script"}
        cmd = [str(py), str(ANCHORS / "coba_nest.py"), str(n), str(duration), "1"]
    else:
        raise ValueError(peer)
    out, wall, err = _run(cmd)
    if out is None:
        return {"sim": peer, "n": n, "error": err}
    line = [ln for ln in out.strip().splitlines() if "rate=" in ln][-1]
    row = {"sim": peer, "n": n, "line": line, "process_wall_s": round(wall, 2)}
    for k, v in _FIELDS.findall(line):
        row[k] = float(v)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="coba")
    ap.add_argument("--sizes", default="4000")
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peers", default="brian2,brainpy,nest")
    ap.add_argument("--connectivity", default="stored", choices=("stored", "procedural", "auto"))
    args = ap.parse_args()
    out_dir = ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rows.append(neurosim_case(args.model, n, args.duration, args.repeats, args.connectivity))
        print(json.dumps(rows[-1]), flush=True)
        for peer in [p for p in args.peers.split(",") if p]:
            rows.append(peer_case(peer, args.model, n, args.duration))
            print(json.dumps(rows[-1]), flush=True)
    with open(out_dir / f"{args.model}-{stamp}.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
