"""Hodgkin–Huxley 1952 squid axon in Brian2: f–I curve and onset (reference for tests/test_hh1952.py).

Run with the Brian2 anchor venv:
    ~/.neurosim-anchors/brian2/bin/python benchmarks/reference/hh1952_fi_brian2.py
Brian2 2.9, numpy target, exponential Euler, dt = 0.025 ms, 1 µF/cm², 120/36/0.3 mS/cm²,
E_Na = 50, E_K = -77, E_L = -54.387 mV, 6.3 °C; v(0) = -65 mV with gates at steady state;
constant current from t = 0; spikes = upward crossings of -20 mV; rate over [200, 400) ms.
Printed (Brian2 2.9.0):
    rest v(400 ms) at I=0 (mV): -64.9964
    onset: last silent 6.26, first firing 6.28 uA/cm2, rate there 50.30 Hz
    coarse currents: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
    coarse rates (Hz): 0.00 0.00 0.00 0.00 0.00 0.00 0.00 57.60 61.71 64.83 67.48 69.85 72.00
        74.00 75.86 77.62 79.29 80.88 82.41 83.88 85.29
    peak v at 10 uA/cm2 (mV): 29.758
"""

import numpy as np
from brian2 import *

prefs.codegen.target = "numpy"
defaultclock.dt = 0.025 * ms
coarse = np.arange(0.0, 20.01, 1.0)
fine = np.arange(6.0, 7.0, 0.02)
currents = np.concatenate([coarse, fine])
eqs = """
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL)) / C : volt
dm/dt = am*(1 - m) - bm*m : 1
dh/dt = ah*(1 - h) - bh*h : 1
dn/dt = an*(1 - n) - bn*n : 1
am = 0.1/mV*(v + 40*mV) / (1 - exp(-(v + 40*mV)/(10*mV))) / ms : Hz
bm = 4*exp(-(v + 65*mV)/(18*mV)) / ms : Hz
ah = 0.07*exp(-(v + 65*mV)/(20*mV)) / ms : Hz
bh = 1/(1 + exp(-(v + 35*mV)/(10*mV))) / ms : Hz
an = 0.01/mV*(v + 55*mV) / (1 - exp(-(v + 55*mV)/(10*mV))) / ms : Hz
bn = 0.125*exp(-(v + 65*mV)/(80*mV)) / ms : Hz
I : amp/meter**2
"""
C = 1 * uF / cm**2
gNa, gK, gL = 120 * msiemens / cm**2, 36 * msiemens / cm**2, 0.3 * msiemens / cm**2
ENa, EK, EL = 50 * mV, -77 * mV, -54.387 * mV
G = NeuronGroup(len(currents), eqs, threshold="v > -20*mV", refractory="v > -20*mV",
                method="exponential_euler")
G.v = -65 * mV
v0 = -65.0
am0 = 0.1 * (v0 + 40) / (1 - np.exp(-(v0 + 40) / 10)); bm0 = 4 * np.exp(-(v0 + 65) / 18)
ah0 = 0.07 * np.exp(-(v0 + 65) / 20); bh0 = 1 / (1 + np.exp(-(v0 + 35) / 10))
an0 = 0.01 * (v0 + 55) / (1 - np.exp(-(v0 + 55) / 10)); bn0 = 0.125 * np.exp(-(v0 + 65) / 80)
G.m, G.h, G.n = am0 / (am0 + bm0), ah0 / (ah0 + bh0), an0 / (an0 + bn0)
G.I = currents * uA / cm**2
M = SpikeMonitor(G)
S = StateMonitor(G, "v", record=[0, 10])
run(400 * ms)
t, i = M.t / ms, np.asarray(M.i)


def rate(k):
    """1000 / mean ISI over [200, 400) ms (Hz), 0 without sustained firing."""
    tk = t[(i == k) & (t >= 200)]
    return 0.0 if len(tk) < 2 else 1000.0 / np.mean(np.diff(tk))


rates = np.array([rate(k) for k in range(len(currents))])
nc = len(coarse)
on = np.flatnonzero(rates[nc:] > 0)[0] + nc
print("rest v(400 ms) at I=0 (mV): %.4f" % (S.v[0][-1] / mV))
print("onset: last silent %.2f, first firing %.2f uA/cm2, rate there %.2f Hz"
      % (currents[on - 1], currents[on], rates[on]))
print("coarse currents:", " ".join("%g" % c for c in coarse))
print("coarse rates (Hz):", " ".join("%.2f" % r for r in rates[:nc]))
print("peak v at 10 uA/cm2 (mV): %.3f" % (S.v[1][8000:].max() / mV))
