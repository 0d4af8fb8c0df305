"""Two neurosim checkouts and Brian2 on COBA, interleaved in one run: did a change cost time?

Usage:
    python benchmarks/engine_side_by_side.py OLD_CHECKOUT NEW_CHECKOUT [--sizes 4000,40000]
        [--rounds 3] [--repeats 5]

Each round runs, per size, the OLD checkout, the NEW checkout (a fresh process each, with
``PYTHONPATH`` pointing at the checkout; ``repeats`` timed runs after a warm-up) and Brian2
cpp_standalone (its anchor script, one run). Pinning and threads are
``benchmarks/side_by_side.py``'s (one core, XLA single-threaded). Interleaving rounds spreads
slow phases of a shared machine over all three. Prints one JSON line per process, then the
median and minimum run time (s) per simulator and size.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import side_by_side as sbs  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old", type=pathlib.Path, help="checkout of the old version (its root)")
    ap.add_argument("new", type=pathlib.Path, help="checkout of the new version (its root)")
    ap.add_argument("--sizes", default="4000,40000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    for path in (args.old, args.new):
        if not (path / "neurosim" / "__init__.py").exists():
            ap.error(f"{path} is not a neurosim checkout (no neurosim/__init__.py)")
    runs: dict[tuple[str, int], list[float]] = {}
    for rnd in range(args.rounds):
        for n in [int(x) for x in args.sizes.split(",")]:
            for label, path in (("old", args.old), ("new", args.new)):
                sbs.ENV["PYTHONPATH"] = str(path.resolve())
                row = sbs.neurosim_case("coba", n, 1000.0, args.repeats)
                runs.setdefault((label, n), []).extend(row.get("run_s_all", []))
                print(json.dumps({"sim": label, "round": rnd, **row}), flush=True)
            sbs.ENV.pop("PYTHONPATH", None)
            row = sbs.peer_case("brian2", "coba", n, 1000.0)
            if row.get("run") is not None:
                runs.setdefault(("brian2", n), []).append(row["run"])
            print(json.dumps({"round": rnd, **row}), flush=True)
    for (label, n), v in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(
            f"{label:6s} n={n:6d} median={statistics.median(v):.4f} s "
            f"min={min(v):.4f} s runs={len(v)}"
        )


if __name__ == "__main__":
    main()
