"""Single Traub–Miles neurons in Brian2 (reference numbers for tests/test_hh.py).

Run with the Brian2 anchor venv: ~/.neurosim-anchors/brian2/bin/python hh_single_brian2.py
Brian2 2.9, numpy target, exponential Euler, dt = 0.1 ms, v(0) = -65 mV, gates 0.
Printed (2026-11-21): n0 spikes at [38.8 113.6 188.3 263.1 337.8 412.5 487.3] ms;
n1 (1 nA) 60 spikes, ISIs [8.2 8.4 8.4 8.3 8.4] ms, peak 49.139 mV, AHP minimum -86.382 mV.
"""

from brian2 import *

prefs.codegen.target = "numpy"
defaultclock.dt = 0.1 * ms
area = 20000 * umetre**2
Cm = (1 * ufarad * cm**-2) * area
gl = (5e-5 * siemens * cm**-2) * area
El = -60 * mV
EK = -90 * mV
ENa = 50 * mV
g_na = (100 * msiemens * cm**-2) * area
g_kd = (30 * msiemens * cm**-2) * area
VT = -63 * mV
eqs = Equations("""
dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*(13.*mV-v+VT)/(exp((13.*mV-v+VT)/(4.*mV))-1.)/ms*(1-m)-0.28*(mV**-1)*(v-VT-40.*mV)/(exp((v-VT-40.*mV)/(5.*mV))-1.)/ms*m : 1
dn/dt = 0.032*(mV**-1)*(15.*mV-v+VT)/(exp((15.*mV-v+VT)/(5.*mV))-1.)/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
I : amp
""")
P = NeuronGroup(2, model=eqs, threshold="v>-20*mV", refractory=3 * ms, method="exponential_euler")
P.v = -65 * mV
P.I = [0, 1] * nA
print(Cm, gl, g_na, g_kd)
M = SpikeMonitor(P)
S = StateMonitor(P, "v", record=True)
run(500 * ms)
t = M.t / ms
i = np.asarray(M.i)
print("n0", t[i == 0])
print("n1", len(t[i == 1]), np.diff(t[i == 1])[:5], S.v[1].max() / mV, S.v[1][1000:].min() / mV)
