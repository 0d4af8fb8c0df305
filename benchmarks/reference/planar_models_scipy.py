"""FitzHugh–Nagumo, Morris–Lecar and Hindmarsh–Rose with SciPy (reference for tests/test_planar_models.py).

Run with the shared venv: /tmp/venv0/bin/python benchmarks/reference/planar_models_scipy.py
solve_ivp (DOP853, rtol 1e-10, atol 1e-12), spikes = upward crossings (events) of
v = 1 (FHN, HR x) or v = 0 mV (ML); time in ms (model time units for FHN/HR with tau = 1 ms).
Same initial states as the neurosim defaults. Printed (SciPy 1.x, float64):
    FHN I=0.5: period 39.4744 (mean over spikes after 500)
    FHN I=1.0: period 36.6988
    ML snic I=40.5: rate 3.7883 Hz (after 1000 ms)
    ML snic I=50: rate 13.2374 Hz
    ML hopf I=100: rate 11.7246 Hz
    HR I=2: 9 spikes per burst, burst period 430.78 (after 1000)
"""

import numpy as np
from scipy.integrate import solve_ivp

OPTS = dict(method="DOP853", rtol=1e-10, atol=1e-12)


def crossings(f, y0, t_end, level, args):
    def ev(t, y, *a):
        return y[0] - level

    ev.direction = 1
    sol = solve_ivp(f, (0, t_end), y0, args=args, events=ev, **OPTS)
    return sol.t_events[0]


def fhn(t, y, i_e, a=0.7, b=0.8, eps=0.08):
    v, w = y
    return [v - v**3 / 3 - w + i_e, eps * (v + a - b * w)]


for i_e in (0.5, 1.0):
    te = crossings(fhn, [-1.2, -0.6], 2000.0, 1.0, (i_e,))
    print(f"FHN I={i_e}: period {np.mean(np.diff(te[te > 500])):.4f}")

SETS = {"hopf": (4.4, 2.0, 30.0, 0.04), "snic": (4.0, 12.0, 17.4, 1 / 15)}


def ml(t, y, i_e, g_ca, v3, v4, phi):
    v, w = y
    m_inf = 0.5 * (1 + np.tanh((v + 1.2) / 18))
    w_inf = 0.5 * (1 + np.tanh((v - v3) / v4))
    tau = 1 / np.cosh((v - v3) / (2 * v4))
    i_ion = g_ca * m_inf * (v - 120) + 8 * w * (v + 84) + 2 * (v + 60)
    return [(i_e - i_ion) / 20, phi * (w_inf - w) / tau]


for name, i_e in (("snic", 40.5), ("snic", 50.0), ("hopf", 100.0)):
    g_ca, v3, v4, phi = SETS[name]
    w0 = 0.5 * (1 + np.tanh((-60 - v3) / v4))
    te = crossings(ml, [-60.0, w0], 3000.0, 0.0, (i_e, *SETS[name]))
    print(f"ML {name} I={i_e:g}: rate {1000 / np.mean(np.diff(te[te > 1000])):.4f} Hz")


def hr(t, u, i_e, r=0.001):
    x, y, z = u
    return [y - x**3 + 3 * x**2 - z + i_e, 1 - 5 * x**2 - y, r * (4 * (x + 1.6) - z)]


te = crossings(hr, [-1.6, -11.8, 0.0], 3000.0, 1.0, (2.0,))
isi = np.diff(te[te > 1000])
long = np.flatnonzero(isi > 100)
per_burst = np.diff(long)
print(f"HR I=2: {per_burst[0]} spikes per burst, burst period {isi[long[0] + 1 : long[1] + 1].sum():.2f}")
