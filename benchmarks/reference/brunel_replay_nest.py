"""NEST side of benchmarks/brunel_replay.py: one Brunel (2000) network given synapse by synapse.

Reads IN.npz written by brunel_replay.py (pre, post, weight of every synapse, 0-based; v0;
n_e, n_i, c_e; eta; delay; dt; duration_ms), builds the same network of iaf_psc_delta
neurons (C_m 1 pF, tau_m 20 ms, theta 20 mV, V_reset 10 mV, t_ref 2 ms, E_L 0) with
one_to_one connections, the same initial voltages and either the deterministic drive
(--external dc: I_e = eta theta C_m / tau_m, V held at eta theta without input) or Brunel's
(--external poisson: one poisson_generator of rate C_E eta nu_thr, all_to_all, delay D),
simulates duration_ms and writes OUT.npz: times_ms, senders (0-based).

Usage: python brunel_replay_nest.py IN.npz OUT.npz [--external dc|poisson] [--seed S]
"""
import argparse
import os

import numpy as np

os.environ.setdefault('PYNEST_QUIET', '1')
import nest  # noqa: E402

TAU_M, THETA, V_R, T_REF, C_M = 20.0, 20.0, 10.0, 2.0, 1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--external', choices=('dc', 'poisson'), default='dc')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()
    d = np.load(a.inp)
    n = int(d['n_e'] + d['n_i'])
    eta, delay, dt = float(d['eta']), float(d['delay']), float(d['dt'])
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({'resolution': dt, 'rng_seed': a.seed})
    nodes = nest.Create('iaf_psc_delta', n, params=dict(
        C_m=C_M, tau_m=TAU_M, t_ref=T_REF, E_L=0.0, V_reset=V_R, V_th=THETA))
    nodes.V_m = [float(v) for v in d['v0']]
    if a.external == 'dc':
        nodes.I_e = eta * THETA * C_M / TAU_M
    gid0 = nodes[0].global_id
    pre = np.asarray(d['pre'], np.int64) + gid0
    post = np.asarray(d['post'], np.int64) + gid0
    nest.Connect(pre, post, 'one_to_one', {'weight': np.asarray(d['weight'], np.float64),
                                           'delay': np.full(pre.size, delay)})
    if a.external == 'poisson':
        c_e = int(d['c_e'])
        nu_thr = THETA / (float(d['J']) * c_e * TAU_M) * 1e3
        pg = nest.Create('poisson_generator', params={'rate': c_e * eta * nu_thr})
        nest.Connect(pg, nodes, 'all_to_all', {'weight': float(d['J']), 'delay': delay})
    rec = nest.Create('spike_recorder')
    nest.Connect(nodes, rec)
    nest.Simulate(float(d['duration_ms']))
    ev = rec.events
    t = np.asarray(ev['times'], np.float64)
    s = np.asarray(ev['senders'], np.int64) - gid0
    o = np.lexsort((s, t))
    np.savez_compressed(a.out, times_ms=t[o], senders=s[o])
    print(f"brunel replay nest external={a.external} N={n} spikes={t.size} "
          f"nest={nest.__version__}", flush=True)


if __name__ == '__main__':
    main()
