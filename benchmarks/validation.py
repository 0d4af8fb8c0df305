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
    PYTHONPATH=$PWD python benchmarks/validation.py pd14 --scale 1 --duration 1000 \
        --transient 200 --seeds 1 --threads 2 [--hpc] --out val/
    PYTHONPATH=$PWD python benchmarks/validation.py pd14 --scale 0.1 --k-scale 0.1 \
        --duration 1000 --transient 500 --seeds 5 --threads 1 --out val/ \
        [--ref-data NEST_CHECKOUT/pynest/examples/Potjans_2014/reference_data]
Writes OUT/<model>_table.md, OUT/<model>_*.png and OUT/<model>.json; prints the table.
pd14 (--k-scale, default 1: in-degrees of the full model at any scale; below 1 NEST's
weight scaling and DC compensation): neurosim and NEST (benchmarks/reference/pd14_nest.py)
each run in their own process, one after the other, and save their spikes to OUT (reused when
present); the table adds the 10 % / 0.3 Hz rate check, a reference rate (the NEST example's
full-scale rates; at N = K = 0.1 its published reference data, PD14_REF_DATA), the seed-to-seed
spread of each population's mean rate, and build/transient/run times and peak RSS per process.
--ref-data reads the reference data's own files (rate*.dat, spike_recorder-*.dat) from a NEST
checkout for KS tests against them; they are not part of this repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
from scipy import signal, stats

NEST_PY = os.path.expanduser(os.environ.get("NEST_PY", "~/.neurosim-anchors/nest/bin/python"))
HERE = os.path.dirname(os.path.abspath(__file__))
BRUNEL_STATES = {  # Brunel (2000) Fig. 8 A-D: (g, eta)
    "SR": (3.0, 2.0),
    "SI-fast": (6.0, 4.0),
    "AI": (5.0, 2.0),
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


def compare_seeds(a_runs, b_runs) -> dict:
    """Run-level comparison: one value per seed (the mean over neurons), Welch's t-test.

    Neurons of one run share its global fluctuations (in a synchronous state the whole
    network's rate and regularity drift together from run to run), so a pooled-neuron KS test
    treats thousands of dependent samples as independent and calls run-to-run scatter a
    difference; the run is the independent unit.
    """
    a = np.array([np.nanmean(x) for x in a_runs if np.size(x)])
    b = np.array([np.nanmean(x) for x in b_runs if np.size(x)])
    out = {"ns_seeds": a.tolist(), "nest_seeds": b.tolist(), "welch_p": float("nan")}
    if a.size >= 2 and b.size >= 2 and (a.var() > 0 or b.var() > 0):
        out["welch_p"] = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    out["ns_seed_sd"] = float(a.std(ddof=1)) if a.size >= 2 else float("nan")
    out["nest_seed_sd"] = float(b.std(ddof=1)) if b.size >= 2 else float("nan")
    return out


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
            c = compare(a, b) | compare_seeds(v, pooled["nest"][(pop, k)])
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
             "| state | pop | quantity | neurosim mean | NEST mean | KS D | KS p | Cohen's d | "
             "per-seed means neurosim / NEST (sd) | Welch p (seeds) |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for state, pop, k, c in rows:
        seeds = (f"{c['ns_mean']:.3f} ({c['ns_seed_sd']:.3f}) / "
                 f"{c['nest_mean']:.3f} ({c['nest_seed_sd']:.3f})")  # fmt: skip
        lines.append(f"| {state} | {pop} | {k} | {c['ns_mean']:.3f} | {c['nest_mean']:.3f} | "
                     f"{c['ks_D']:.3f} | {c['ks_p']:.2g} | {c['cohen_d']:+.2f} | {seeds} | "
                     f"{c['welch_p']:.2g} |")  # fmt: skip
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


PD14_REF = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)  # NEST example, full scale
# NEST's published reference data for its PyNEST example Potjans_2014 at its default setup
# (N_scaling = K_scaling = 0.1, Poisson background, 'optimized' V0, rng_seed 55, 1 thread,
# 500 ms presimulation, rates over [500, 1500] ms): nest/nest-simulator,
# pynest/examples/Potjans_2014/reference_data/ at commit
# e3d3e14e06b9e8db4a276f7f5e8332b64a6f3ab9 ("update reference data", 2022-12-02; files written by
# NEST master@7c40d9e9a). Summary numbers computed here from rate0.dat ... rate7.dat (mean and
# s.d. over neurons, ddof 0, zeros included) and spike_recorder-*.dat (ISI CV of neurons with
# >= 3 spikes in the window): population -> (n, mean rate Hz, s.d. Hz, mean CV, neurons in CV).
PD14_REF_DATA = {
    "L23E": (2068, 0.4023, 0.7164, 0.5902, 40),
    "L23I": (583, 2.0172, 1.7938, 0.5536, 198),
    "L4E": (2192, 3.8805, 2.7235, 0.5779, 1408),
    "L4I": (548, 4.9580, 3.5781, 0.5888, 406),
    "L5E": (485, 6.5753, 4.2155, 0.6013, 405),
    "L5I": (106, 7.7264, 3.9871, 0.6213, 95),
    "L6E": (1440, 0.83125, 1.1972, 0.5097, 123),
    "L6I": (295, 6.9864, 4.0346, 0.6194, 254),
}
PD14_REF_DATA_WINDOW = (500.0, 1000.0)  # (presimulation, measured) ms


def pd14_reference_data(path):
    """Per-population rates and ISI CVs from the NEST example's ``reference_data`` folder
    (``rate<k>.dat``, ``spike_recorder-*.dat``, ``population_nodeids.dat``; NEST's files, read
    from a NEST checkout, not shipped here), over the example's window [500, 1500] ms."""
    import glob

    t0, dur = PD14_REF_DATA_WINDOW
    ids = np.loadtxt(os.path.join(path, "population_nodeids.dat"), dtype=np.int64)
    files = sorted(glob.glob(os.path.join(path, "spike_recorder-*.dat")))
    out = {}
    for k, (name, (a, b)) in enumerate(zip(PD14_REF_DATA, ids, strict=True)):
        d = np.loadtxt(files[k], skiprows=3, ndmin=2)
        m = (d[:, 1] >= t0) & (d[:, 1] <= t0 + dur)
        i, t = d[m, 0].astype(np.int64) - a, d[m, 1] - t0
        out[name] = {
            "rate": np.loadtxt(os.path.join(path, f"rate{k}.dat")),
            "cv": cvs(t, i, b - a + 1),
        }
    return out


def pd14_run_neurosim(args, seed, path):
    """One neurosim run of the microcircuit (``args.k_scale``, Poisson background) in this
    process: spikes after the transient and timings to ``path`` (npz), like the NEST
    reference's file."""
    import resource

    import jax

    import neurosim as ns

    # the normal delays are rounded to whole steps, as NEST does: one warning per projection
    warnings.filterwarnings("ignore", category=ns.network.DelayRoundingWarning)
    t0 = time.perf_counter()
    net = ns.models.potjans_diesmann(
        args.scale, args.k_scale, "poisson", key=jax.random.key(100 + seed)
    )
    jax.block_until_ready(jax.tree_util.tree_leaves(net))
    t1 = time.perf_counter()
    print(f"neurosim pd14 scale {args.scale:g}: built in {t1 - t0:.1f}s", flush=True)
    warm = ns.simulate(net, args.transient, 0.1, key=jax.random.key(seed), record_spikes=(),
                       progress=args.progress)  # fmt: skip
    jax.block_until_ready(warm.final_state)
    t2 = time.perf_counter()
    print(f"neurosim pd14: transient {args.transient:g} ms in {t2 - t1:.1f}s", flush=True)
    res = ns.simulate(net, args.duration, 0.1, key=jax.random.key(seed), state=warm.final_state,
                      progress=args.progress)  # fmt: skip
    t3 = time.perf_counter()
    ranges = res.network.index_ranges()
    pops = ns.models.PD14_POPULATIONS
    np.savez_compressed(
        path, times_ms=np.asarray(res.spike_times - res.t_start, np.float64),
        senders=np.asarray(res.spike_indices, np.int64),
        starts=np.array([ranges[p][0] for p in pops]), stops=np.array([ranges[p][1] for p in pops]),
        duration_ms=args.duration, build_s=t1 - t0, presim_s=t2 - t1, run_s=t3 - t2,
        maxrss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        version=ns.__version__, jax_version=jax.__version__,
    )  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"neurosim pd14 scale={args.scale:g} k_scale={args.k_scale:g} build={t1 - t0:.1f}s "
          f"presim={t2 - t1:.1f}s run={t3 - t2:.1f}s spikes={res.spike_times.size} "
          f"maxrss={rss:.2f}GiB",
          flush=True)  # fmt: skip


def pd14(args):
    """The microcircuit side by side: per population the rate, ISI CV and pair-correlation
    distributions of neurosim and NEST (benchmarks/reference/pd14_nest.py, same ``--k-scale``),
    each simulator run in its own process one after the other (peak RSS per process); files
    that exist in OUT are reused, so an interrupted comparison resumes. A second table gives
    each population's mean rate as mean +- s.d. over seeds for both simulators next to the
    reference (``PD14_REF_DATA`` at N = K = 0.1, else the example's full-scale rates)."""
    pops = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
    pooled = {"neurosim": {}, "nest": {}}
    per_seed = {"neurosim": {}, "nest": {}}  # (pop, quantity) -> per-seed arrays
    res_rows = []
    k = args.k_scale
    ktag = "" if k == 1.0 else f"k{k:g}"
    for s in range(args.seeds):
        tag = f"{args.scale:g}{ktag}_{args.duration:g}_{s}"
        paths = {sim: os.path.join(args.out, f"pd14_{sim}_{tag}.npz") for sim in pooled}
        if not os.path.exists(paths["neurosim"]) and "neurosim" in args.sims:
            cmd = [sys.executable, os.path.abspath(__file__), "pd14-run", "--scale",
                   str(args.scale), "--k-scale", str(k), "--duration", str(args.duration),
                   "--transient", str(args.transient), "--seed", str(s),
                   "--out", paths["neurosim"]]  # fmt: skip
            subprocess.run(cmd, check=True)
        if not os.path.exists(paths["nest"]) and "nest" in args.sims:
            cmd = [NEST_PY, os.path.join(HERE, "reference", "pd14_nest.py"), str(args.scale),
                   str(args.duration), paths["nest"], "--k-scale", str(k), "--transient",
                   str(args.transient), "--seed", str(55 + s), "--threads",
                   str(args.threads)]  # fmt: skip
            if args.hpc:
                cmd.append("--hpc")
            env = dict(os.environ, OMP_WAIT_POLICY="passive")
            subprocess.run(cmd, check=True, env=env)
        if not all(os.path.exists(p) for p in paths.values()):
            continue
        for sim, path in paths.items():
            z = np.load(path)
            ranges = {p: (int(a), int(b)) for p, a, b in zip(pops, z["starts"], z["stops"],
                                                              strict=True)}  # fmt: skip
            st = population_stats(z["times_ms"], z["senders"], ranges, args.duration, s)
            for pop, d in st.items():
                for q, v in d.items():
                    pooled[sim].setdefault((pop, q), []).append(v)
                    per_seed[sim].setdefault((pop, q), []).append(v)
            res_rows.append((sim, s, float(z["build_s"]), float(z["presim_s"]), float(z["run_s"]),
                             float(z["maxrss_gib"])))  # fmt: skip
    if not res_rows:
        return
    n_seeds = len(res_rows) // 2
    ref_setup = args.scale == 0.1 and k == 0.1
    ref_data = pd14_reference_data(args.ref_data) if (ref_setup and args.ref_data) else None
    if ref_setup:
        ref_rates = [PD14_REF_DATA[p][1] for p in pops]
        ref_name = "NEST's reference data (N = K = 0.1, one run, seed 55)"
    else:
        ref_rates = list(PD14_REF)
        ref_name = "the NEST example's full-scale rates"
    bg = "K_scaling 1" if k == 1.0 else f"K_scaling {k:g}, DC-compensated"
    lines = [f"### Potjans–Diesmann, scale {args.scale:g} ({bg}, Poisson background), "
             f"{n_seeds} seed(s), {args.duration:g} ms after {args.transient:g} ms", "",
             "| population | rate neurosim | rate NEST | rate ref. | neurosim vs NEST | "
             "within 10 % or 0.3 Hz | rate KS D / d | CV neurosim | CV NEST | CV KS D / d | "
             "corr neurosim | corr NEST | corr KS D / d |", "|" + "---|" * 13]  # fmt: skip
    summary = {}
    for i, p in enumerate(pops):
        c = {q: compare(np.concatenate(pooled["neurosim"][(p, q)]),
                        np.concatenate(pooled["nest"][(p, q)]))
             for q in ("rate", "cv", "corr")}  # fmt: skip
        a, b = c["rate"]["ns_mean"], c["rate"]["nest_mean"]
        ok = abs(a - b) <= max(0.1 * b, 0.3)
        summary[p] = dict(c, within=bool(ok), ref=ref_rates[i])
        ks = {q: f"{c[q]['ks_D']:.3f} / {c[q]['cohen_d']:+.2f}" for q in c}
        lines.append(
            f"| {p} | {a:.3f} | {b:.3f} | {ref_rates[i]:.3f} | {100 * (a / b - 1):+.1f} % | "
            f"{'yes' if ok else '**no**'} | {ks['rate']} | {c['cv']['ns_mean']:.3f} | "
            f"{c['cv']['nest_mean']:.3f} | {ks['cv']} | {c['corr']['ns_mean']:.4f} | "
            f"{c['corr']['nest_mean']:.4f} | {ks['corr']} |"
        )  # fmt: skip
    # seed-to-seed spread of the population means, and the reference against it
    lines += ["", f"Population mean rate, mean ± s.d. over {n_seeds} seeds (Hz); ref. = "
              f"{ref_name}; z = (ref. − mean) / seed s.d.; neuron s.d. = s.d. of the rates "
              "over neurons (mean over seeds); CV = mean ISI CV (neurons with ≥ 3 spikes).", "",
              "| population | neurosim | NEST | ref. | z neurosim | z NEST | neuron s.d. "
              "neurosim / NEST / ref. | CV neurosim / NEST / ref. | CV per seed neurosim / "
              "NEST (mean ± s.d.) | Welch p rate / CV (seeds) |"
              + (" rate KS D vs ref. neurosim / NEST (median over seeds) |" if ref_data else ""),
              "|" + "---|" * (11 if ref_data else 10)]  # fmt: skip
    for i, p in enumerate(pops):
        m = {sim: np.array([r.mean() for r in per_seed[sim][(p, "rate")]]) for sim in pooled}
        sd_n = {sim: np.mean([r.std() for r in per_seed[sim][(p, "rate")]]) for sim in pooled}
        cv = {sim: np.mean(np.concatenate(per_seed[sim][(p, "cv")])) for sim in pooled}
        spread = {sim: m[sim].std(ddof=1) if m[sim].size > 1 else float("nan") for sim in pooled}
        z = {sim: (ref_rates[i] - m[sim].mean()) / spread[sim] for sim in pooled}
        if ref_setup:
            ref_sd, ref_cv = f"{PD14_REF_DATA[p][2]:.2f}", f"{PD14_REF_DATA[p][3]:.3f}"
        else:
            ref_sd = ref_cv = "–"
        row = (f"| {p} | {m['neurosim'].mean():.3f} ± {spread['neurosim']:.3f} | "
               f"{m['nest'].mean():.3f} ± {spread['nest']:.3f} | {ref_rates[i]:.3f} | "
               f"{z['neurosim']:+.1f} | {z['nest']:+.1f} | {sd_n['neurosim']:.2f} / "
               f"{sd_n['nest']:.2f} / {ref_sd} | {cv['neurosim']:.3f} / {cv['nest']:.3f} / "
               f"{ref_cv} |")  # fmt: skip
        w = {q: compare_seeds(per_seed["neurosim"][(p, q)], per_seed["nest"][(p, q)])
             for q in ("rate", "cv")}  # fmt: skip
        cs = {k: np.array(w["cv"][f"{k}_seeds"]) for k in ("ns", "nest")}
        row += (f" {cs['ns'].mean():.3f} ± {w['cv']['ns_seed_sd']:.3f} / {cs['nest'].mean():.3f}"
                f" ± {w['cv']['nest_seed_sd']:.3f} | {w['rate']['welch_p']:.2g} / "
                f"{w['cv']['welch_p']:.2g} |")  # fmt: skip
        summary[p]["seeds"] = w
        summary[p].update(
            seed_means={sim: m[sim].tolist() for sim in pooled},
            seed_sd={sim: float(spread[sim]) for sim in pooled},
            z_ref={sim: float(z[sim]) for sim in pooled},
        )
        if ref_data:
            dk = {sim: float(np.median([stats.ks_2samp(r, ref_data[p]["rate"]).statistic
                                        for r in per_seed[sim][(p, "rate")]]))
                  for sim in pooled}  # fmt: skip
            summary[p]["ks_D_vs_ref"] = dk
            row += f" {dk['neurosim']:.3f} / {dk['nest']:.3f} |"
        lines.append(row)
    lines += ["", "| simulator | seed | build (s) | transient (s) | run (s) | peak RSS (GiB) |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for sim, s, b, pre, run, rss in res_rows:
        lines.append(f"| {sim} | {s} | {b:.1f} | {pre:.1f} | {run:.1f} | {rss:.2f} |")
    md = "\n".join(lines)
    name = f"pd14_{args.scale:g}{ktag}"
    with open(os.path.join(args.out, f"{name}_table.md"), "w") as f:
        f.write(md + "\n")
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump({"summary": summary, "resources": res_rows}, f, indent=1)
    print(md)
    dists = {("pd14", p, q): (np.concatenate(pooled["neurosim"][(p, q)]),
                              np.concatenate(pooled["nest"][(p, q)]))
             for p in pops for q in ("rate", "cv", "corr")}  # fmt: skip
    print(pd14_figure(dists, pops, args.out, name))


def pd14_figure(dists, pops, out, prefix):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 8, figsize=(17, 6.5), squeeze=False)
    for c, p in enumerate(pops):
        for r, q in enumerate(("rate", "cv", "corr")):
            ax = axes[r, c]
            a, b = dists[("pd14", p, q)]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            both = np.r_[a, b]
            if both.size == 0:
                continue
            lo, hi = np.percentile(both, [0.5, 99.5])
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 30)
            ax.hist(a, bins, histtype="step", density=True, label="neurosim")
            ax.hist(b, bins, histtype="step", density=True, label="NEST")
            ax.set_title(f"{p} {q}", fontsize=9)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, f"{prefix}_distributions.png")
    fig.savefig(path, dpi=80)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=("brunel", "pd14", "pd14-run"))
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--J", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--transient", type=float, default=100.0)
    ap.add_argument("--states", default="", help="comma-separated subset of SR,AI,SI-fast,SI-slow")
    ap.add_argument("--out", default="validation_out")
    ap.add_argument("--sims", default="neurosim,nest", help="pd14: simulators to run if missing")
    ap.add_argument("--threads", type=int, default=2, help="pd14: NEST threads")
    ap.add_argument("--hpc", action="store_true", help="pd14: NEST static_synapse_hpc")
    ap.add_argument("--k-scale", type=float, default=1.0, help="pd14: in-degree scaling")
    ap.add_argument("--ref-data", default="", help="pd14: NEST's Potjans_2014/reference_data")
    ap.add_argument("--seed", type=int, default=0, help="pd14-run: seed")
    ap.add_argument("--progress", action="store_true", help="pd14-run: progress bar")
    args = ap.parse_args(argv)
    if args.model == "pd14-run":
        pd14_run_neurosim(args, args.seed, args.out)
        return 0
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
