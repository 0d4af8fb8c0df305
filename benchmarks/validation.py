"""Side-by-side validation against NEST: Brunel (2000) model A and the Potjans–Diesmann
microcircuit, compared as distributions over neurons and seeds.

Per population: firing rates per neuron, ISI CV per neuron (neurons with >= 3 spikes) and
pairwise spike-count correlations (5 ms bins, 200 random neurons, all pairs), pooled over
seeds, compared with two-sample KS tests and Cohen's d (as in the NEST validation work of
Gutzen et al. 2018, Front Neuroinform 12:90). Brunel also: the population-rate spectrum
(1 ms bins, Welch) and the AI rate against the self-consistent Siegert mean field.

Usage (from the repository root; NEST in ~/.neurosim-anchors/nest, bash
../shared/anchors/setup.sh nest):
    PYTHONPATH=$PWD python benchmarks/validation.py brunel --scale 0.25 --seeds 3 --out val/
    PYTHONPATH=$PWD python benchmarks/validation.py pd14 --scale 0.02 --seeds 2 --out val/
Writes OUT/<model>_table.md, OUT/<model>_*.png and OUT/<model>.json; prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from scipy import signal, stats

NEST_PY = os.path.expanduser(os.environ.get("NEST_PY", "~/.neurosim-anchors/nest/bin/python"))
HERE = os.path.dirname(os.path.abspath(__file__))
PD14_NEST = os.environ.get("PD14_NEST") or next(
    (
        p
        for p in (
            os.path.join(HERE, *[".."] * k, "shared", "anchors", "pd14_nest.py") for k in (2, 3)
        )
        if os.path.exists(p)
    ),
    "pd14_nest.py",
)  # fmt: skip  (the repository's ../shared/anchors, also from a worktree one level deeper)
BRUNEL_STATES = {  # Brunel (2000) Fig. 8: (g, eta)
    "SR": (3.0, 2.0),
    "AI": (6.0, 4.0),
    "SI-fast": (5.0, 2.0),
    "SI-slow": (4.5, 0.9),
}
BIN_CORR, BIN_SPEC, N_CORR = 5.0, 1.0, 200


# -- statistics -------------------------------------------------------------------------------
def rates(times, idx, n, dur):
    return np.bincount(idx, minlength=n)[:n] / (dur * 1e-3)


def cvs(times, idx, n):
    order = np.lexsort((times, idx))
    t, i = times[order], idx[order]
    out = []
    starts = np.searchsorted(i, np.arange(n + 1))
    for k in range(n):
        tk = t[starts[k] : starts[k + 1]]
        if tk.size >= 3:
            d = np.diff(tk)
            if d.mean() > 0:
                out.append(d.std() / d.mean())
    return np.asarray(out)


def correlations(times, idx, n, dur, rng):
    pick = np.sort(rng.choice(n, size=min(N_CORR, n), replace=False))
    nb = int(dur // BIN_CORR)
    sel = np.isin(idx, pick)
    rows = np.searchsorted(pick, idx[sel])
    cols = np.minimum((times[sel] // BIN_CORR).astype(int), nb - 1)
    counts = np.zeros((pick.size, nb))
    np.add.at(counts, (rows, cols), 1)
    counts = counts[counts.std(axis=1) > 0]
    c = np.corrcoef(counts)
    return c[np.triu_indices(c.shape[0], 1)]


def spectrum(times, dur):
    nb = int(dur // BIN_SPEC)
    x = np.bincount(np.minimum((times // BIN_SPEC).astype(int), nb - 1), minlength=nb)[:nb]
    f, p = signal.welch(x - x.mean(), fs=1000.0 / BIN_SPEC, nperseg=min(256, nb))
    return f, p


def compare(a, b) -> dict:
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return {"ns_mean": float(np.mean(a)) if a.size else float("nan"),
                "nest_mean": float(np.mean(b)) if b.size else float("nan"),
                "ks_D": float("nan"), "ks_p": float("nan"), "cohen_d": float("nan")}  # fmt: skip
    ks = stats.ks_2samp(a, b)
    sd = np.sqrt(0.5 * (a.var(ddof=1) + b.var(ddof=1)))
    return {
        "ns_mean": float(a.mean()), "nest_mean": float(b.mean()), "ks_D": float(ks.statistic),
        "ks_p": float(ks.pvalue), "cohen_d": float((a.mean() - b.mean()) / sd) if sd > 0 else 0.0,
    }  # fmt: skip


def population_stats(times, idx, ranges, dur, seed):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (a, b) in ranges.items():
        m = (idx >= a) & (idx < b)
        t, i = times[m], idx[m] - a
        out[name] = {
            "rate": rates(t, i, b - a, dur),
            "cv": cvs(t, i, b - a),
            "corr": correlations(t, i, b - a, dur, rng),
        }
    return out


# -- runs -------------------------------------------------------------------------------------
def run_neurosim(net, transient, dur, seed, dt=0.1):
    import jax

    import neurosim as ns

    t0 = time.perf_counter()
    warm = ns.simulate(net, transient, dt, key=jax.random.key(seed), progress=False)
    res = ns.simulate(net, dur, dt, key=jax.random.key(seed), state=warm.final_state,
                      progress=False)  # fmt: skip
    wall = time.perf_counter() - t0
    return res.spike_times - res.t_start, res.spike_indices, res, wall


def brunel(args):
    import jax

    import neurosim as ns

    rows, spectra, dists, summary = [], {}, {}, {}
    for state, (g, eta) in BRUNEL_STATES.items():
        if args.states and state not in args.states.split(","):
            continue
        pooled = {"neurosim": {}, "nest": {}}
        spectra[state] = {}
        for s in range(args.seeds):
            net = ns.models.brunel2000(
                g, eta, args.J, scale=args.scale, key=jax.random.key(100 + s)
            )
            t, i, res, wall = run_neurosim(net, args.transient, args.duration, s)
            ranges = {k: res.network.index_ranges()[k] for k in ("E", "I")}
            st = population_stats(t, i, ranges, args.duration, s)
            f, p = spectrum(t[i < ranges["E"][1]], args.duration)
            spectra[state].setdefault("neurosim", []).append(p)
            print(f"neurosim {state} seed {s}: E {st['E']['rate'].mean():.2f} Hz "
                  f"I {st['I']['rate'].mean():.2f} Hz wall {wall:.1f}s", flush=True)  # fmt: skip
            path = os.path.join(args.out, f"brunel_nest_{state}_{s}.npz")
            if not os.path.exists(path):
                cmd = [NEST_PY, os.path.join(HERE, "reference", "brunel_nest.py"), str(g),
                       str(eta), str(args.J), str(args.scale), str(args.duration), path,
                       "--transient", str(args.transient), "--seed", str(1 + s)]  # fmt: skip
                env = dict(os.environ, OMP_WAIT_POLICY="passive")
                print(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                     env=env).stdout.strip(), flush=True)  # fmt: skip
            z = np.load(path)
            n_e, n_i = int(z["n_e"]), int(z["n_i"])
            ranges_n = {"E": (0, n_e), "I": (n_e, n_e + n_i)}
            st_n = population_stats(z["times_ms"], z["senders"], ranges_n, args.duration, s)
            f, p = spectrum(z["times_ms"][z["senders"] < n_e], args.duration)
            spectra[state].setdefault("nest", []).append(p)
            spectra[state]["f"] = f
            for sim, stt in (("neurosim", st), ("nest", st_n)):
                for pop, d in stt.items():
                    for k, v in d.items():
                        pooled[sim].setdefault((pop, k), []).append(v)
        mf = ns.models.brunel2000_mean_field(g, eta, args.J, scale=args.scale)
        summary[state] = {"g": g, "eta": eta, "mean_field_hz": mf}
        for (pop, k), v in pooled["neurosim"].items():
            a, b = np.concatenate(v), np.concatenate(pooled["nest"][(pop, k)])
            c = compare(a, b)
            dists[(state, pop, k)] = (a, b)
            rows.append((state, pop, k, c))
            summary[state][f"{pop}_{k}"] = c
        for sim in ("neurosim", "nest"):
            p = np.mean(spectra[state][sim], axis=0)
            f = spectra[state]["f"]
            k = np.argmax(p[f > 2]) + np.count_nonzero(f <= 2)
            summary[state][f"peak_hz_{sim}"] = float(f[k])
    return rows, summary, dists, spectra


def table(rows, summary, title):
    lines = [f"### {title}", "",
             "| state | pop | quantity | neurosim mean | NEST mean | KS D | KS p | Cohen's d |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for state, pop, k, c in rows:
        lines.append(f"| {state} | {pop} | {k} | {c['ns_mean']:.3f} | {c['nest_mean']:.3f} | "
                     f"{c['ks_D']:.3f} | {c['ks_p']:.2g} | {c['cohen_d']:+.2f} |")  # fmt: skip
    lines += ["", "| state | (g, eta) | mean field (Hz) | E rate neurosim | E rate NEST | "
              "spectral peak neurosim / NEST (Hz) |", "|---|---|---|---|---|---|"]  # fmt: skip
    for state, s in summary.items():
        lines.append(f"| {state} | ({s['g']:g}, {s['eta']:g}) | {s['mean_field_hz']:.2f} | "
                     f"{s['E_rate']['ns_mean']:.2f} | {s['E_rate']['nest_mean']:.2f} | "
                     f"{s['peak_hz_neurosim']:.0f} / {s['peak_hz_nest']:.0f} |")  # fmt: skip
    return "\n".join(lines)


def figures(dists, spectra, out, prefix):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    states = sorted({k[0] for k in dists}, key=list(BRUNEL_STATES).index)
    qs = ("rate", "cv", "corr")
    fig, axes = plt.subplots(len(states), 4, figsize=(13, 2.6 * len(states)), squeeze=False)
    for r, state in enumerate(states):
        for c, q in enumerate(qs):
            ax = axes[r, c]
            a, b = dists[(state, "E", q)]
            lo, hi = np.nanmin(np.r_[a, b]), np.nanmax(np.r_[a, b])
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
            ax.hist(a, bins, histtype="step", density=True, label="neurosim")
            ax.hist(b, bins, histtype="step", density=True, label="NEST")
            ax.set_title(f"{state}: E {q}", fontsize=9)
        ax = axes[r, 3]
        f = spectra[state]["f"]
        for sim in ("neurosim", "nest"):
            ax.semilogy(f, np.mean(spectra[state][sim], axis=0), label=sim)
        ax.set_title(f"{state}: E population spectrum", fontsize=9)
        ax.set_xlabel("Hz", fontsize=8)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out, f"{prefix}_distributions.png")
    fig.savefig(path, dpi=90)
    return path


def pd14(args):
    """Per-population rates of the microcircuit, neurosim vs NEST (pd14_nest.py: K_scaling = 1,
    rates only), several seeds each; neurosim's CV and correlation means alongside."""
    import re

    import jax

    import neurosim as ns

    pops = ns.models.PD14_POPULATIONS
    ours, theirs, extra = [], [], []
    for s in range(args.seeds):
        net = ns.models.potjans_diesmann(args.scale, 1.0, "poisson", key=jax.random.key(100 + s))
        t, i, res, wall = run_neurosim(net, args.transient, args.duration, s)
        ranges = {p: res.network.index_ranges()[p] for p in pops}
        st = population_stats(t, i, ranges, args.duration, s)
        ours.append([st[p]["rate"].mean() for p in pops])
        extra.append([(np.mean(st[p]["cv"]), np.nanmean(st[p]["corr"])) for p in pops])
        shown = " ".join(f"{p}={r:.2f}" for p, r in zip(pops, ours[-1], strict=True))
        print(f"neurosim pd14 seed {s}: {shown} wall {wall:.1f}s", flush=True)
        cmd = [NEST_PY, PD14_NEST, str(args.scale), str(args.duration), "1", "--transient",
               str(args.transient), "--seed", str(55 + s)]  # fmt: skip
        env = dict(os.environ, OMP_WAIT_POLICY="passive")
        line = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        print(line.strip(), flush=True)
        theirs.append([float(re.search(rf" {p}=([0-9.]+)", line).group(1)) for p in pops])
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    lines = [f"### Potjans–Diesmann, scale {args.scale:g} (K_scaling 1), {args.seeds} seeds, "
             f"{args.duration:g} ms after {args.transient:g} ms", "",
             "| population | neurosim (Hz) | NEST (Hz) | difference | neurosim CV | "
             "neurosim corr |", "|---|---|---|---|---|---|"]  # fmt: skip
    for k, p in enumerate(pops):
        a, b = ours[:, k], theirs[:, k]
        cv = np.mean([e[k][0] for e in extra])
        cc = np.mean([e[k][1] for e in extra])
        diff = 100 * (a.mean() / b.mean() - 1)
        lines.append(f"| {p} | {a.mean():.3f} ± {a.std():.3f} | {b.mean():.3f} ± {b.std():.3f} "
                     f"| {diff:+.1f} % | {cv:.2f} | {cc:.4f} |")  # fmt: skip
    md = "\n".join(lines)
    with open(os.path.join(args.out, "pd14_table.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(args.out, "pd14.json"), "w") as f:
        json.dump({"neurosim": ours.tolist(), "nest": theirs.tolist()}, f)
    print(md)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=("brunel", "pd14"))
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--J", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--transient", type=float, default=100.0)
    ap.add_argument("--states", default="", help="comma-separated subset of SR,AI,SI-fast,SI-slow")
    ap.add_argument("--out", default="validation_out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.model == "pd14":
        pd14(args)
        return 0
    rows, summary, dists, spectra = brunel(args)
    md = table(rows, summary, f"Brunel model A, scale {args.scale:g}, {args.seeds} seeds, "
               f"{args.duration:g} ms after {args.transient:g} ms")  # fmt: skip
    with open(os.path.join(args.out, "brunel_table.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(args.out, "brunel.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(md)
    print(figures(dists, spectra, args.out, "brunel"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
