"""Brunel (2000) model A in NEST 3.x, the reference for benchmarks/validation.py.

Same definition as ns.models.brunel2000 (Brunel 2000, J Comput Neurosci 8:183; NEST's
pynest/examples/brunel_delta_nest.py): iaf_psc_delta, tau_m 20 ms, theta 20 mV, V_reset 10 mV,
t_ref 2 ms, E_L 0, C_m 1 pF (weights are voltage jumps in mV), V_m(0) ~ U(0, 20) mV,
N_E = round(10000 * scale), N_I = N_E / 4, fixed in-degrees C_E = round(epsilon N_E),
C_I = round(C_E / 4) (multapses/autapses allowed: NEST's defaults), weights J and -g J, one
delay D (total latency), external drive: one poisson_generator of rate C_E * eta * nu_thr,
connected all_to_all (an independent train per neuron), weight J, delay D.

Usage: python brunel_nest.py G ETA J SCALE DURATION_MS OUT.npz [--transient MS] [--seed S]
       [--threads T] [--epsilon E] [--delay D]
Writes OUT.npz: times_ms (after the transient, shifted to start at 0), senders (0-based; E
first), n_e, n_i, duration_ms, build_s, run_s; prints one line with the rates.
"""
import argparse
import os
import time

import numpy as np

os.environ.setdefault('PYNEST_QUIET', '1')
import nest  # noqa: E402

TAU_M, THETA, V_R, T_REF = 20.0, 20.0, 10.0, 2.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ('g', 'eta', 'J', 'scale', 'duration'):
        ap.add_argument(name, type=float)
    ap.add_argument('out')
    ap.add_argument('--transient', type=float, default=100.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--epsilon', type=float, default=0.1)
    ap.add_argument('--delay', type=float, default=1.5)
    ap.add_argument('--dt', type=float, default=0.1)
    a = ap.parse_args()

    n_e = int(round(10000 * a.scale))
    n_i = int(round(n_e / 4))
    c_e = max(1, int(round(a.epsilon * n_e)))
    c_i = max(1, int(round(0.25 * c_e)))
    nu_thr = THETA / (a.J * c_e * TAU_M) * 1e3
    p_rate = c_e * a.eta * nu_thr

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({'resolution': a.dt, 'local_num_threads': a.threads, 'rng_seed': a.seed})
    t0 = time.perf_counter()
    params = dict(C_m=1.0, tau_m=TAU_M, t_ref=T_REF, E_L=0.0, V_reset=V_R, V_th=THETA, V_m=0.0)
    nodes = nest.Create('iaf_psc_delta', n_e + n_i, params=params)
    nodes.V_m = nest.random.uniform(0.0, THETA)
    ex, inh = nodes[:n_e], nodes[n_e:]
    noise = nest.Create('poisson_generator', params={'rate': p_rate})
    rec = nest.Create('spike_recorder', params={'start': a.transient})
    nest.Connect(ex, nodes, {'rule': 'fixed_indegree', 'indegree': c_e},
                 {'weight': a.J, 'delay': a.delay})
    nest.Connect(inh, nodes, {'rule': 'fixed_indegree', 'indegree': c_i},
                 {'weight': -a.g * a.J, 'delay': a.delay})
    nest.Connect(noise, nodes, 'all_to_all', {'weight': a.J, 'delay': a.delay})
    nest.Connect(nodes, rec)
    nest.Prepare()
    nest.Cleanup()
    t1 = time.perf_counter()
    nest.Simulate(a.transient + a.duration)
    t2 = time.perf_counter()
    ev = rec.events
    times = np.asarray(ev['times'], np.float64) - a.transient
    senders = np.asarray(ev['senders'], np.int64) - nodes[0].global_id
    order = np.argsort(times, kind='stable')
    np.savez_compressed(a.out, times_ms=times[order], senders=senders[order], n_e=n_e, n_i=n_i,
                        duration_ms=a.duration, build_s=t1 - t0, run_s=t2 - t1)
    r_e = np.count_nonzero(senders < n_e) / n_e / (a.duration * 1e-3)
    r_i = np.count_nonzero(senders >= n_e) / n_i / (a.duration * 1e-3)
    print(f"brunel nest g={a.g:g} eta={a.eta:g} J={a.J:g} N={n_e + n_i} C_E={c_e} "
          f"T={a.duration:g}ms build={t1 - t0:.2f}s run={t2 - t1:.2f}s rate_E={r_e:.3f}Hz "
          f"rate_I={r_i:.3f}Hz nest={nest.__version__}", flush=True)


if __name__ == '__main__':
    main()
