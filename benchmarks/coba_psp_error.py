"""PSP amplitude error of conductance-based (COBA) synapses vs dt, against an ODE reference.

COBA is not linear with constant coefficients (the membrane rate ``(g_L + g(t))/C`` varies
within a step), so neurosim integrates it by exponential Euler with the conductance held at
its start-of-step value. This script measures what that costs: one presynaptic spike onto an
LIF at rest with the Brette et al. (2007) COBA parameters (``tau_m = 20 ms``, ``g_L = 10 nS``,
``E_L = -60 mV``; excitatory 6 nS, 5 ms, 0 mV; inhibitory 67 nS, 10 ms, -80 mV), float64,
against ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-12) of the continuous system with the
conductance starting at the same instant, sampled on the same grid (peak over the samples).
The CUBA rows (the same exponential synapse as a current, 60 pA) show the exact propagator at
rounding level, and the held-current bias it removed.

Run: ``PYTHONPATH=. python benchmarks/coba_psp_error.py`` (prints a Markdown table).
"""

from __future__ import annotations

import jax
import numpy as np
from scipy.integrate import solve_ivp

import neurosim as ns

TAU_M, G_L, E_L = 20.0, 10.0, -60.0
C_M = TAU_M * G_L
CASES = {  # name: (weight, tau, output, e_rev or None)
    "COBA exc (6 nS, 5 ms, 0 mV)": (6.0, 5.0, "coba", 0.0),
    "COBA inh (67 nS, 10 ms, -80 mV)": (67.0, 10.0, "coba", -80.0),
    "CUBA exc (60 pA, 5 ms), Exact": (60.0, 5.0, "cuba", None),
    "CUBA exc (60 pA, 5 ms), ExpEuler (held)": (60.0, 5.0, "held", None),
}
DTS = (0.01, 0.025, 0.05, 0.1, 0.2)
T_END = 60.0


def _reference(w, tau, kind, e_rev):
    def rhs(t, y):
        g = w * np.exp(-t / tau)
        i_syn = g * (e_rev - y[0]) if kind == "coba" else g
        return [((E_L - y[0]) + i_syn / G_L) / TAU_M]

    sol = solve_ivp(
        rhs, (0, T_END), [E_L], method="DOP853", rtol=1e-12, atol=1e-14, dense_output=True
    )
    return sol.sol


def _neurosim(dt):
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population(
        "pre", ns.neurons.LIF(1, v_init=0.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=1e4)
    )
    for j, (w, tau, kind, e_rev) in enumerate(CASES.values()):
        integ = ns.integrators.ExpEuler() if kind == "held" else None
        lif = ns.neurons.LIF(
            1, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=1e3, v_init=E_L, integrator=integ
        )
        b.add_population(f"p{j}", lif)
        out = ns.synapses.COBA(e_rev) if kind == "coba" else ns.synapses.CUBA()
        b.connect(
            "pre",
            f"p{j}",
            ns.connectivity.from_dense(np.full((1, 1), w)),
            synapse=ns.synapses.Exponential(tau),
            output=out,
        )
    net = b.build()
    n = int(round(T_END / dt)) + 1
    _, res = ns.run(
        net,
        net.init_state(jax.random.key(1), dt),
        n,
        dt,
        key=jax.random.key(2),
        record=[f"p{j}.v" for j in range(len(CASES))],
    )
    return [np.abs(np.asarray(res.traces[f"p{j}.v"])[:, 0] - E_L).max() for j in range(len(CASES))]


def main():
    with jax.enable_x64(True):
        refs = [_reference(*c) for c in CASES.values()]
        rows = {dt: _neurosim(dt) for dt in DTS}

    def ref_amp(j, dt):  # the reference sampled on the same grid (sample m: m dt after onset)
        s = dt * np.arange(int(round(T_END / dt)) + 1)
        return np.abs(refs[j](s)[0] - E_L).max()

    print(
        "| synapse | reference amplitude (mV) | " + " | ".join(f"dt = {d} ms" for d in DTS) + " |"
    )
    print("|---|---|" + "---|" * len(DTS))
    for j, name in enumerate(CASES):
        errs = [100 * (rows[dt][j] / ref_amp(j, dt) - 1) for dt in DTS]
        amp = ref_amp(j, 0.01)
        print(f"| {name} | {amp:.4f} | " + " | ".join(f"{e:+.4f} %" for e in errs) + " |")


if __name__ == "__main__":
    main()
