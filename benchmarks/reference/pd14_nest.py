"""Potjans & Diesmann (2014) microcircuit in NEST 3.x, spikes saved: the reference for
`benchmarks/validation.py pd14`.

Same definition as ns.models.potjans_diesmann(scale, k_scale, background="poisson")
(Potjans & Diesmann 2014, Cereb Cortex 24:785, as set up by NEST's former PyNEST example
Potjans_2014, nest/nest-simulator pynest/examples/Potjans_2014, e.g. commit e3d3e14e06b9, the
one holding its reference_data): iaf_psc_exp (C_m 250 pF, tau_m 10 ms, E_L = V_reset = -65 mV,
V_th -50 mV, t_ref 2 ms, tau_syn 0.5 ms); round(N * scale) neurons and
round(K * scale * k_scale) synapses per pair of populations, K = log(1 - p) / log(1 - 1 /
(N_post N_pre)) at full size; 'fixed_total_number' connectivity (multapses, autapses); PSCs for
a 0.15 mV peak PSP (inhibitory -4x, L4E -> L23E 2x), normal with 10 % s.d., redrawn to keep
their sign; delays normal (1.5 ms E, 0.75 ms I, 50 % s.d.) redrawn below dt / 2; per population
one poisson_generator of round(K_ext * k_scale) * 8 Hz connected all_to_all (an independent
train per neuron), 1.5 ms delay; V_m(0) normal per population (the example's "optimized"
values); dt 0.1 ms. For k_scale < 1, as the example's
helpers.adjust_weights_and_input_to_synapse_scaling: all PSCs (external ones too) divided by
sqrt(k_scale), and I_e = 1e-3 tau_syn (1 - sqrt(k_scale)) (sum_j J_ij K_ij nu_j + J_ext K_ext
8 Hz) with the full-scale in-degrees K_ij, PSCs J and the example's full-scale rates nu
(full_mean_rates). k_scale = 1 (the default): no DC, in-degrees of the full model.
Check: at the example's default setup (scale = k_scale = 0.1, --seed 55, --threads 1,
--transient 500, 1000 ms) NEST 3.10.0 running this script reproduces the example's published
reference_data (commit e3d3e14e06b9) spike for spike (all 20,497 spikes, same senders and times).

Recurrent synapses use one copy of static_synapse per source population (same dynamics): NEST
holds at most 2**27 - 1 connections per virtual process and synapse model, which one model would
exceed at full scale on 2 threads.

Usage: python pd14_nest.py SCALE DURATION_MS OUT.npz [--k-scale K] [--transient MS] [--seed S]
       [--threads T] [--hpc]
Writes OUT.npz: times_ms (after the transient, shifted to start at 0), senders (0-based, the
populations in order), starts/stops (index range of each population), duration_ms, build_s
(create + connect + Prepare), presim_s (the transient), run_s (DURATION_MS), maxrss_gib (this
process, before the spikes are read out); prints one line with the per-population rates.
"""
import argparse
import os
import resource
import time

import numpy as np

os.environ.setdefault('PYNEST_QUIET', '1')
import nest  # noqa: E402

NAMES = ('L23E', 'L23I', 'L4E', 'L4I', 'L5E', 'L5I', 'L6E', 'L6I')
SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
EXT_INDEGREE = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
# Potjans & Diesmann (2014) Table 5: connection probability, [target][source]
P = ((0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
     (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
     (0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0),
     (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
     (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
     (0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0),
     (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
     (0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443))
# the example's 'full_mean_rates' (Hz, one full-scale run): the DC compensation for k_scale < 1
FULL_MEAN_RATES = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
BG_RATE = 8.0
V0 = {'mean': (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43),
      'std': (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)}
CELL = {'C_m': 250.0, 'tau_m': 10.0, 'E_L': -65.0, 'V_reset': -65.0, 'V_th': -50.0,
        't_ref': 2.0, 'tau_syn_ex': 0.5, 'tau_syn_in': 0.5}
DT = 0.1


def epsc_for_1mv(c, tm, ts):
    """pA of an exponential current whose PSP on the membrane peaks at 1 mV."""
    tp = tm * ts / (tm - ts) * np.log(tm / ts)
    v = ts * tm / (c * (tm - ts)) * (np.exp(-tp / tm) - np.exp(-tp / ts))
    return 1.0 / v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('scale', type=float)
    ap.add_argument('duration', type=float)
    ap.add_argument('out')
    ap.add_argument('--k-scale', type=float, default=1.0, help='in-degree scaling (K_scaling)')
    ap.add_argument('--transient', type=float, default=200.0)
    ap.add_argument('--seed', type=int, default=55)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--hpc', action='store_true', help='static_synapse_hpc (less memory)')
    a = ap.parse_args()

    n_full = np.array(SIZES, float)
    pair = np.outer(n_full, n_full)
    k_total = np.log(1.0 - np.array(P)) / np.log(1.0 - 1.0 / pair)
    n_syn = np.round(k_total * a.scale * a.k_scale).astype(np.int64)
    n = np.round(n_full * a.scale).astype(int)
    k_ext = np.round(np.array(EXT_INDEGREE) * a.k_scale).astype(int)
    j_e = 0.15 * epsc_for_1mv(CELL['C_m'], CELL['tau_m'], CELL['tau_syn_ex'])
    j = np.empty((8, 8))
    j[:, 0::2], j[:, 1::2] = j_e, -4.0 * j_e
    j[0, 2] *= 2.0
    j_ext, dc = j_e, np.zeros(8)
    if a.k_scale != 1.0:  # the example's adjust_weights_and_input_to_synapse_scaling
        rec = np.sum(j * k_total / n_full[:, None] * np.array(FULL_MEAN_RATES), axis=1)
        ext = j_e * np.array(EXT_INDEGREE) * BG_RATE
        dc = 1e-3 * CELL['tau_syn_ex'] * (1.0 - np.sqrt(a.k_scale)) * (rec + ext)
        j, j_ext = j / np.sqrt(a.k_scale), j_e / np.sqrt(a.k_scale)

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({'resolution': DT, 'local_num_threads': a.threads, 'rng_seed': a.seed})
    base = 'static_synapse_hpc' if a.hpc else 'static_synapse'
    for src in NAMES:
        nest.CopyModel(base, f'rec_from_{src}')

    t0 = time.perf_counter()
    layers = []
    for k, size in enumerate(n):
        pop = nest.Create('iaf_psc_exp', int(size), params=dict(CELL, I_e=float(dc[k])))
        pop.V_m = nest.random.normal(mean=V0['mean'][k], std=V0['std'][k])
        layers.append(pop)
    for post in range(8):
        for pre in range(8):
            if n_syn[post, pre] == 0:
                continue
            exc = pre % 2 == 0
            w = float(j[post, pre])
            d = 1.5 if exc else 0.75
            w_dist = nest.random.normal(mean=w, std=0.1 * abs(w))
            w_dist = nest.math.redraw(w_dist, min=0.0, max=np.inf) if exc else \
                nest.math.redraw(w_dist, min=-np.inf, max=0.0)
            d_dist = nest.math.redraw(nest.random.normal(mean=d, std=0.5 * d), min=0.5 * DT,
                                      max=np.inf)
            nest.Connect(layers[pre], layers[post],
                         {'rule': 'fixed_total_number', 'N': int(n_syn[post, pre])},
                         {'synapse_model': f'rec_from_{NAMES[pre]}', 'weight': w_dist,
                          'delay': d_dist})
    drive = nest.Create('poisson_generator', 8,
                        params=[{'rate': BG_RATE * float(k)} for k in k_ext])
    for post in range(8):
        nest.Connect(drive[post], layers[post], 'all_to_all', {'weight': j_ext, 'delay': 1.5})
    everything = layers[0]
    for pop in layers[1:]:
        everything = everything + pop
    rec = nest.Create('spike_recorder', params={'start': a.transient})
    nest.Connect(everything, rec)
    nest.Prepare()
    nest.Cleanup()
    t1 = time.perf_counter()
    if a.transient > 0:
        nest.Simulate(a.transient)
    t2 = time.perf_counter()
    nest.Simulate(a.duration)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    ev = rec.events
    times = np.asarray(ev['times'], np.float64) - a.transient
    senders = np.asarray(ev['senders'], np.int64) - layers[0][0].global_id
    order = np.argsort(times, kind='stable')
    stops = np.cumsum(n)
    starts = stops - n
    np.savez_compressed(a.out, times_ms=times[order], senders=senders[order], starts=starts,
                        stops=stops, duration_ms=a.duration, build_s=t1 - t0, presim_s=t2 - t1,
                        run_s=t3 - t2, maxrss_gib=rss, n_synapses=int(n_syn.sum()),
                        k_scale=a.k_scale, dc_pa=dc,
                        version=nest.__version__)
    per_pop = np.bincount(np.searchsorted(stops, senders, side='right'), minlength=8)[:8]
    hz = per_pop / n / (a.duration * 1e-3)
    print(f"pd14 nest {nest.__version__} scale={a.scale:g} k_scale={a.k_scale:g} N={n.sum()} "
          f"syn={n_syn.sum()} threads={a.threads} build={t1 - t0:.1f}s presim={t2 - t1:.1f}s "
          f"run={t3 - t2:.1f}s maxrss={rss:.2f}GiB "
          + ' '.join(f'{name}={r:.3f}' for name, r in zip(NAMES, hz)), flush=True)


if __name__ == '__main__':
    main()
