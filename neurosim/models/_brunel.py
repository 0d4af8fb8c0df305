"""Brunel (2000) sparsely connected network of excitatory and inhibitory LIF neurons, model A.

Brunel N. (2000) Dynamics of sparsely connected networks of excitatory and inhibitory spiking
neurons. J Comput Neurosci 8:183–208. Model A: identical excitatory and inhibitory neurons,
``tau = 20 ms``, ``theta = 20 mV``, ``V_r = 10 mV``, ``tau_rp = 2 ms``, delta synapses
(voltage jumps ``J`` and ``-g J``), one delay ``D = 1.5 ms``, ``C_E = epsilon N_E``
excitatory and ``C_I = gamma C_E`` inhibitory inputs per neuron, ``C_E`` external
excitatory inputs of rate ``nu_ext = eta nu_thr`` with ``nu_thr = theta / (J C_E tau)``.
Defaults as NEST's ``brunel_delta_nest.py`` example (``J = 0.1 mV``, ``g = 5``, ``eta = 2``,
``N_E = 10000``, ``epsilon = 0.1``); the states of Brunel's Fig. 8 are ``(g, eta) = (3, 2)``
synchronous regular (A), ``(6, 4)`` fast synchronous irregular (B), ``(5, 2)`` asynchronous
irregular (C) and ``(4.5, 0.9)`` slow synchronous irregular (D). Units: mV, ms, Hz.
"""

from __future__ import annotations

import jax
import numpy as np

from .. import connectivity, init, neurons, synapses
from ..network import Network, NetworkBuilder
from ..theory import siegert_rate

__all__ = ["brunel2000", "brunel2000_parameters", "brunel2000_mean_field"]

TAU_M, THETA, V_R, T_REF = 20.0, 20.0, 10.0, 2.0
G_L = 10.0  # nS: only scales the current of external="dc" (delta synapses are in mV)
N_E_FULL = 10000


def brunel2000_parameters(
    g=5.0, eta=2.0, J=0.1, *, scale=1.0, epsilon=0.1, gamma=0.25, delay=1.5
) -> dict:
    """Sizes, in-degrees and rates of :func:`brunel2000` (``N_E = round(10000 scale)``,
    ``N_I = N_E / 4``, ``C_E = round(epsilon N_E)``, ``C_I = round(gamma C_E)``).

    Example:
        >>> import neurosim as ns
        >>> ns.models.brunel2000_parameters(scale=0.1)["c_e"]
        100
    """
    for name, x in (("g", g), ("eta", eta), ("J", J), ("delay", delay)):
        if not np.isfinite(x) or x < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    if J == 0:
        raise ValueError("J must be > 0 mV (it sets nu_thr = theta / (J C_E tau))")
    if not 0 < scale <= 10:
        raise ValueError(f"scale must lie in (0, 10] (1: N_E = 10000), got {scale!r}")
    if not 0 < epsilon <= 1 or not 0 < gamma <= 1:
        raise ValueError(f"epsilon and gamma must lie in (0, 1], got {epsilon!r}, {gamma!r}")
    n_e = int(round(N_E_FULL * scale))
    n_i = int(round(n_e / 4))
    c_e = max(1, int(round(epsilon * n_e)))
    c_i = max(1, int(round(gamma * c_e)))
    nu_thr = THETA / (J * c_e * TAU_M) * 1e3  # Hz
    return {
        "n_e": n_e, "n_i": n_i, "c_e": c_e, "c_i": c_i, "J": float(J), "g": float(g),
        "eta": float(eta), "delay": float(delay), "nu_thr": nu_thr, "nu_ext": eta * nu_thr,
    }  # fmt: skip


def brunel2000_mean_field(g=5.0, eta=2.0, J=0.1, **kwargs) -> float:
    """Self-consistent stationary rate (Hz) of the asynchronous state (Brunel 2000, eqs. 4–5,
    21): ``nu = siegert(mu, sigma)`` with ``mu = C_E J tau (nu_ext + nu (1 - g gamma))`` and
    ``sigma^2 = J^2 C_E tau (nu_ext + nu (1 + g^2 gamma))`` (``gamma = C_I / C_E``), solved
    by bisection on ``nu`` (the lowest-rate solution).

    Example:
        >>> import neurosim as ns
        >>> nu = ns.models.brunel2000_mean_field(g=5.0, eta=2.0)
    """
    p = brunel2000_parameters(g, eta, J, **kwargs)
    gam = p["c_i"] / p["c_e"]
    tau = TAU_M * 1e-3

    def f(nu):
        mu = p["c_e"] * J * tau * (p["nu_ext"] + nu * (1 - g * gam))
        sigma = np.sqrt(J * J * p["c_e"] * tau * (p["nu_ext"] + nu * (1 + g * g * gam)))
        return siegert_rate(mu, sigma, TAU_M, THETA, V_R, T_REF) - nu

    hi = 1000.0 / T_REF
    grid = np.concatenate([[0.0], np.geomspace(1e-3, hi, 400)])
    vals = np.array([f(x) for x in grid])
    sign = np.flatnonzero(np.diff(np.sign(vals)) != 0)
    if not sign.size:
        raise ValueError("no self-consistent rate found in [0, 1/t_ref]")
    lo, hi = grid[sign[0]], grid[sign[0] + 1]
    flo = vals[sign[0]]
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if np.sign(fm) == np.sign(flo):
            lo, flo = mid, fm
        else:
            hi = mid
    return float(0.5 * (lo + hi))


def brunel2000(
    g: float = 5.0,
    eta: float = 2.0,
    J: float = 0.1,
    *,
    scale: float = 1.0,
    epsilon: float = 0.1,
    gamma: float = 0.25,
    delay: float = 1.5,
    key=None,
    dt: float = 0.1,
    external: str = "poisson",
) -> Network:
    """Brunel (2000) model A (see the module docstring): one population ``"P"`` with groups
    ``"E"`` (``N_E``) and ``"I"`` (``N_E/4``), fixed in-degrees (multapses and autapses
    allowed, as NEST's ``fixed_indegree``), ``v(0) ~ U(0, theta)``.

    External drive: each neuron its own Poisson train of ``C_E nu_ext`` with weight ``J``
    (:meth:`~neurosim.NetworkBuilder.add_poisson_input`, no stored synapses). Spikes arriving
    during the refractory period are lost (as in NEST's ``iaf_psc_delta``). NEST's timing
    conventions (``NetworkBuilder(conventions="nest")``: the delay is the total latency,
    ``round(t_ref/dt)`` refractory steps, spikes stamped at the end of their step).
    Mean-field rate: :func:`brunel2000_mean_field`.

    ``external="dc"`` replaces the Poisson drive by its mean, a constant current that holds
    ``V`` at ``eta theta`` without input (``i_e = eta theta g_l``): no noise, so the network
    is deterministic given its connectivity and initial voltages, which is how it is replayed
    spike for spike against NEST (``benchmarks/brunel_replay.py``). Brunel's
    states are defined with the Poisson drive.

    Args:
        g: relative strength of inhibition; eta: ``nu_ext / nu_thr``; J: EPSP (mV).
        scale: ``N_E = 10000 scale`` (in-degrees ``epsilon N_E`` scale with it).
        epsilon: connection probability; gamma: ``C_I / C_E``; delay: ms.
        key: connectivity key; dt: the time step the network will be run with (ms).
        external: ``"poisson"`` (Brunel's drive) or ``"dc"`` (its mean as a constant current).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.brunel2000(g=6.0, eta=4.0, scale=0.01)
        >>> net.index_ranges()["I"]
        (100, 125)
    """
    p = brunel2000_parameters(g, eta, J, scale=scale, epsilon=epsilon, gamma=gamma, delay=delay)
    if external not in ("poisson", "dc"):
        raise ValueError(f"external must be 'poisson' or 'dc', got {external!r}")
    if delay < dt:
        raise ValueError(f"delay ({delay} ms) must be at least one step (dt={dt} ms)")
    key = key if key is not None else jax.random.key(0)
    n = p["n_e"] + p["n_i"]
    lif = neurons.LIF(
        n, tau_m=TAU_M, e_l=0.0, v_th=THETA, v_reset=V_R, t_ref=T_REF, g_l=G_L,
        i_e=eta * THETA * G_L if external == "dc" else 0.0, v_init=init.Uniform(0.0, THETA),
    )  # fmt: skip
    b = NetworkBuilder(key=key, conventions="nest")
    b.add_population("P", lif, groups={"E": p["n_e"], "I": p["n_i"]})
    syn, out, d = synapses.Delta(), synapses.VoltageJump(), float(delay)
    for pre, k, w, salt in (("E", p["c_e"], J, 1), ("I", p["c_i"], -g * J, 2)):
        b.connect(
            pre, "P", connectivity.FixedInDegree(k, allow_multapses=True), weight=w,
            synapse=syn, output=out, delay=d, key=jax.random.fold_in(key, salt),
        )  # fmt: skip
    if external == "poisson":
        b.add_poisson_input(
            "P", rate_hz=p["c_e"] * p["nu_ext"], weight=J, synapse=syn, output=out, name="bg->P"
        )
    return b.build()
