"""Brunel (2000) model A replayed in NEST synapse by synapse: exact equality, then statistics.

One network is built by ``ns.models.brunel2000`` (connectivity key 3, initial voltages from
key 5) and handed to NEST 3 as it is (every synapse, ``one_to_one``, the same ``V_m(0)``;
``benchmarks/reference/brunel_replay_nest.py``), so the two simulators differ only in their
update code and, with Poisson drive, in their random numbers.

- ``--external dc`` (deterministic: the drive's mean as a constant current): the spike
  trains must be identical, spike for spike; prints the number of identical spikes and the
  first difference, if any. neurosim runs in float32 unless ``JAX_ENABLE_X64=1`` (NEST is
  float64): a large chaotic network then diverges after the first near-threshold tie.
- ``--external poisson --seeds S``: Brunel's drive, S noise seeds on the same network; per
  seed the excitatory rate, the mean ISI CV and the spectral peak of both simulators, and
  Welch's t-test on the per-seed values (the run is the independent unit: neurons of one run
  share its global fluctuations).

Usage (from the repository root; NEST in ~/.neurosim-anchors/nest):
    PYTHONPATH=$PWD python benchmarks/brunel_replay.py --scale 0.1 --duration 200
    PYTHONPATH=$PWD python benchmarks/brunel_replay.py --scale 1 --external poisson \
        --seeds 3 --duration 1100 --transient 100
Writes OUT/replay_<external>.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import jax
import numpy as np
from scipy import stats

import neurosim as ns

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from validation import HERE, NEST_PY, cvs, spectrum  # noqa: E402


def export(net, v0, args, path):
    pre, post, w = [], [], []
    for pr in net.projections:
        c = pr.conn
        indptr = np.asarray(c.indptr)
        rows = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
        pre.append(rows + pr.pre_slice[0])
        post.append(np.asarray(c.indices)[: indptr[-1]] + pr.post_slice[0])
        w.append(np.broadcast_to(np.asarray(c.weights, np.float64), rows.shape))
    p = ns.models.brunel2000_parameters(args.g, args.eta, args.J, scale=args.scale)
    np.savez(path, pre=np.concatenate(pre), post=np.concatenate(post),
             weight=np.concatenate(w), v0=np.asarray(v0, np.float64), n_e=p["n_e"],
             n_i=p["n_i"], c_e=p["c_e"], eta=args.eta, J=args.J, delay=1.5, dt=0.1,
             duration_ms=args.duration)  # fmt: skip


def first_difference(a, b):
    """(number of leading identical (step, neuron) events, first differing pair or None)."""
    m = min(len(a), len(b))
    bad = np.flatnonzero(np.any(a[:m] != b[:m], axis=1))
    if bad.size == 0:
        return m, None if len(a) == len(b) else (a[m : m + 1].tolist(), b[m : m + 1].tolist())
    k = int(bad[0])
    return k, (a[k].tolist(), b[k].tolist())


def events(times, senders):
    steps = np.rint(np.asarray(times) / 0.1).astype(np.int64)
    e = np.stack([steps, np.asarray(senders, np.int64)], axis=1)
    return e[np.lexsort((e[:, 1], e[:, 0]))]


def run_stats(times, senders, n_e, args):
    keep = times >= args.transient
    t, i = times[keep] - args.transient, senders[keep]
    dur = args.duration - args.transient
    e = i < n_e
    f, p = spectrum(t[e], dur)
    k = np.argmax(p[f > 2]) + np.count_nonzero(f <= 2)
    cv = float(np.mean(cvs(t[e], i[e], n_e)))
    return {"rate_e": float(e.sum() / n_e / (dur * 1e-3)), "cv_e": cv, "peak_hz": float(f[k])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--g", type=float, default=6.0)
    ap.add_argument("--eta", type=float, default=4.0)
    ap.add_argument("--J", type=float, default=0.1)
    ap.add_argument("--external", choices=("dc", "poisson"), default="dc")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--duration", type=float, default=200.0)
    ap.add_argument("--transient", type=float, default=0.0, help="poisson: left out of stats")
    ap.add_argument("--out", default="replay_out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    net = ns.models.brunel2000(args.g, args.eta, args.J, scale=args.scale,
                               external=args.external, key=jax.random.key(3))  # fmt: skip
    state = net.init_state(jax.random.key(5), 0.1)
    n_e = net.index_ranges()["E"][1]
    net_path = os.path.join(args.out, f"replay_net_{args.external}.npz")
    export(net, state.neurons[0]["v"], args, net_path)
    runs = []
    for s in range(args.seeds):
        res = ns.simulate(net, args.duration, 0.1, key=jax.random.key(7 + s), state=state,
                          progress=False)  # fmt: skip
        path = os.path.join(args.out, f"replay_nest_{args.external}_{s}.npz")
        cmd = [NEST_PY, os.path.join(HERE, "reference", "brunel_replay_nest.py"), net_path,
               path, "--external", args.external, "--seed", str(1 + s)]  # fmt: skip
        print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())
        z = np.load(path)
        a = events(res.spike_times, res.spike_indices)
        b = events(z["times_ms"], z["senders"])
        same, diff = first_difference(a, b)
        run = {"seed": s, "spikes_neurosim": len(a), "spikes_nest": len(b),
               "identical_leading": same, "first_difference": diff}  # fmt: skip
        if args.external == "poisson":
            run["neurosim"] = run_stats(np.asarray(res.spike_times), res.spike_indices, n_e, args)
            run["nest"] = run_stats(z["times_ms"], z["senders"], n_e, args)
        print(run, flush=True)
        runs.append(run)
    lines = [f"Brunel ({args.g:g}, {args.eta:g}), scale {args.scale:g}, external "
             f"{args.external}, {args.duration:g} ms, {args.seeds} seed(s), same network "
             "in both", ""]  # fmt: skip
    if args.external == "dc":
        lines += ["| seed | spikes neurosim | spikes NEST | identical leading spikes | "
                  "first difference (step, neuron) neurosim / NEST |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for r in runs:
            diff = r["first_difference"] or "none"
            lines.append(f"| {r['seed']} | {r['spikes_neurosim']} | {r['spikes_nest']} | "
                         f"{r['identical_leading']} | {diff} |")  # fmt: skip
    else:
        lines += ["| quantity | neurosim per seed | NEST per seed | means | Welch p |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for q in ("rate_e", "cv_e", "peak_hz"):
            a = np.array([r["neurosim"][q] for r in runs])
            b = np.array([r["nest"][q] for r in runs])
            p = stats.ttest_ind(a, b, equal_var=False).pvalue if len(runs) > 1 else float("nan")
            lines.append(f"| {q} | {', '.join(f'{x:.3f}' for x in a)} | "
                         f"{', '.join(f'{x:.3f}' for x in b)} | {a.mean():.3f} / "
                         f"{b.mean():.3f} | {p:.2g} |")  # fmt: skip
    md = "\n".join(lines)
    print(md)
    with open(os.path.join(args.out, f"replay_{args.external}.json"), "w") as f:
        json.dump({"args": vars(args), "runs": runs, "table": md}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
