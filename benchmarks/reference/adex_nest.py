"""AdEx spike times in NEST (reference for tests/test_adex.py::test_spike_times_match_nest).

Run with the NEST anchor venv: ~/.neurosim-anchors/nest/bin/python benchmarks/reference/adex_nest.py
NEST 3 ``aeif_psc_delta`` (adaptive RKF45 inside each step, spikes stamped on the 0.1 ms grid),
no synaptic input, constant I_e from t = 0, V(0) = E_L, w(0) = 0, t_ref = 0, V_peak = 0 mV.
Cases: Brette & Gerstner (2005) parameters (reset to E_L) at 800 and 1500 pA; Naud et al.
(2008) "adapting" and "initial_burst" sets at their step currents (500, 400 pA).
Printed (NEST 3.x), spike times in [0, 300) ms:
    bg800: 17.8 40.5 71.3 114.5 171.6 236.2
    bg1500: 6.7 13.9 21.6 29.9 38.8 48.5 58.9 70.1 82.2 95.1 108.7 123.1 138.2 153.9 170.1 186.6
        203.5 220.7 238.0 255.4 273.0 290.6
    adapting: 15.0 26.2 40.6 60.2 89.6 137.4 205.1 279.9
    initial_burst: 5.5 8.9 16.3 71.0 135.1 199.1 263.0
"""

import nest
import numpy as np

nest.set_verbosity("M_ERROR")
nest.ResetKernel()
nest.resolution = 0.1
BG = dict(C_m=281.0, g_L=30.0, E_L=-70.6, V_th=-50.4, Delta_T=2.0, tau_w=144.0, a=4.0, b=80.5,
          V_reset=-70.6)
NAUD = {
    "adapting": dict(C_m=200.0, g_L=12.0, E_L=-70.0, V_th=-50.0, Delta_T=2.0, tau_w=300.0,
                     a=2.0, b=60.0, V_reset=-58.0),
    "initial_burst": dict(C_m=130.0, g_L=18.0, E_L=-58.0, V_th=-50.0, Delta_T=2.0,
                          tau_w=150.0, a=4.0, b=120.0, V_reset=-50.0),
}
cases = {"bg800": (BG, 800.0), "bg1500": (BG, 1500.0), "adapting": (NAUD["adapting"], 500.0),
         "initial_burst": (NAUD["initial_burst"], 400.0)}
sr = nest.Create("spike_recorder")
nodes = {}
for name, (p, i_e) in cases.items():
    n = nest.Create("aeif_psc_delta", params={**p, "V_peak": 0.0, "t_ref": 0.0, "I_e": i_e,
                                              "V_m": p["E_L"], "w": 0.0})
    nest.Connect(n, sr)
    nodes[name] = n.global_id
nest.Simulate(300.0)
ev = sr.events
for name, gid in nodes.items():
    t = np.sort(ev["times"][ev["senders"] == gid])
    print(f"{name}:", " ".join(f"{x:.1f}" for x in t))
