"""The Potjans & Diesmann (2014) cortical microcircuit, with NEST's N/K scaling.

Potjans T.C., Diesmann M. (2014) The cell-type specific cortical microcircuit: relating
structure and activity in a full-scale spiking network model. Cereb Cortex 24:785–806.
Parameters, scaling rules and DC compensation as in NEST's PyNEST example
``Potjans_2014`` (nest/nest-simulator, commit e0a0745546eb75f7d50a7e433c32d0c2b7376513:
``network_params.py``, ``helpers.py``, ``network.py``; also ``shared/anchors/pd14_nest.py``).
Units: mV, ms, pA, pF, Hz.
"""

from __future__ import annotations

from typing import Literal

import jax
import numpy as np

from .. import connectivity, init, neurons, synapses
from .._validate import check_literal
from ..network import Network, NetworkBuilder

__all__ = ["potjans_diesmann", "potjans_diesmann_parameters", "PD14_POPULATIONS"]

Background = Literal["poisson", "dc"]
V0 = Literal["optimized", "original"]

PD14_POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# connection probabilities, row = target, column = source (order of PD14_POPULATIONS)
CONN_P = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
])  # fmt: skip
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])  # external in-degrees
BG_RATE = 8.0  # Hz per external source
# NEST example's 'full_mean_rates' (one full-scale run), used by the K-scaling compensation
FULL_MEAN_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
V0_OPTIMIZED = (
    np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]),
    np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]),
)
C_M, TAU_M, E_L, V_TH, V_RESET, T_REF, TAU_SYN = 250.0, 10.0, -65.0, -50.0, -65.0, 2.0, 0.5
PSP_EXC, G, W_REL_STD = 0.15, -4.0, 0.1  # mV; inhibitory/excitatory PSP; relative weight s.d.
DELAY_EXC, DELAY_INH, DELAY_REL_STD, DELAY_POISSON = 1.5, 0.75, 0.5, 1.5  # ms


def psc_per_psp(c_m: float, tau_m: float, tau_s: float) -> float:
    """Exponential-PSC amplitude (pA) giving a 1 mV peak PSP on an LIF membrane."""
    t_peak = np.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    peak = (
        tau_m
        * tau_s
        / (c_m * (tau_m - tau_s))
        * (np.exp(-t_peak / tau_m) - np.exp(-t_peak / tau_s))
    )
    return float(1.0 / peak)


def _check_scale(name: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number in (0, 1], got {x!r}")
    if not 0 < float(x) <= 1:
        raise ValueError(f"{name} must lie in (0, 1] (1 = full scale), got {x}")
    return float(x)


def potjans_diesmann_parameters(scale=0.1, k_scale=None, background="poisson") -> dict:
    """The derived numbers of the scaled microcircuit, as NEST's example computes them.

    * full-scale synapse numbers ``K = log(1 - p) / log(1 - 1/(N_post N_pre))`` per pair of
      populations; scaled: ``round(K * scale * k_scale)`` synapses, ``round(N * scale)``
      neurons, ``round(K_ext * k_scale)`` external inputs per neuron;
    * PSC amplitudes ``0.15 mV * psc_per_psp`` (inhibitory ``-4x``, L4E -> L23E ``2x``),
      divided by ``sqrt(k_scale)`` (external ones too);
    * DC compensation (pA) for the missing input variance's mean: with
      ``background="dc"`` the external drive itself, ``bg_rate K_ext J_ext tau_syn``, and for
      ``k_scale < 1``, ``tau_syn (1 - sqrt(k_scale))`` times the full-scale mean recurrent
      input ``sum_j J_ij K_ij nu_j`` (``nu``: the example's full-scale rates) and, with
      Poisson background, its external input ``J_ext K_ext bg_rate``.

    Returns:
        dict with ``populations``, ``sizes`` (8,), ``n_synapses`` (8, 8; target x source),
        ``weight`` (8, 8, pA), ``weight_ext`` (pA), ``k_ext`` (8,), ``dc`` (8, pA),
        ``bg_rate`` (Hz).

    Example:
        >>> import neurosim as ns
        >>> p = ns.models.potjans_diesmann_parameters(scale=0.1, k_scale=0.1)
        >>> int(p["sizes"].sum())
        7717
    """
    scale = _check_scale("scale", scale)
    k_scale = scale if k_scale is None else _check_scale("k_scale", k_scale)
    check_literal("background", background, Background)
    nn = np.outer(N_FULL, N_FULL).astype(np.float64)
    k_full = np.log(1.0 - CONN_P) / np.log((nn - 1.0) / nn)
    sizes = np.round(N_FULL * scale).astype(np.int64)
    n_syn = np.round(k_full * scale * k_scale).astype(np.int64)
    k_ext = np.round(K_EXT * k_scale).astype(np.int64)
    unit = psc_per_psp(C_M, TAU_M, TAU_SYN)
    w = np.empty((8, 8))
    w[:, 0::2], w[:, 1::2] = PSP_EXC * unit, G * PSP_EXC * unit
    w[0, 2] *= 2.0
    w_ext = PSP_EXC * unit
    dc = np.zeros(8) if background == "poisson" else BG_RATE * K_EXT * w_ext * TAU_SYN * 1e-3
    if k_scale != 1.0:
        in_degree = k_full / N_FULL[:, None]
        rec = np.sum(w * in_degree * FULL_MEAN_RATES[None, :], axis=1)
        dc = dc + 1e-3 * TAU_SYN * (1.0 - np.sqrt(k_scale)) * rec
        if background == "poisson":
            dc = dc + 1e-3 * TAU_SYN * (1.0 - np.sqrt(k_scale)) * w_ext * K_EXT * BG_RATE
        w, w_ext = w / np.sqrt(k_scale), w_ext / np.sqrt(k_scale)
    return {
        "populations": PD14_POPULATIONS,
        "sizes": sizes,
        "n_synapses": n_syn,
        "weight": w,
        "weight_ext": float(w_ext),
        "k_ext": k_ext,
        "dc": dc,
        "bg_rate": BG_RATE,
        "scale": scale,
        "k_scale": k_scale,
    }


def potjans_diesmann(
    scale: float = 0.1,
    k_scale: float | None = None,
    background: str = "poisson",
    *,
    key=None,
    dt: float = 0.1,
    v0: str = "optimized",
) -> Network:
    """The Potjans & Diesmann (2014) microcircuit (8 populations, NEST's scaling).

    ``iaf_psc_exp`` neurons (:class:`~neurosim.neurons.LIF`, ``C_m = 250 pF``,
    ``tau_m = 10 ms``, ``E_L = V_reset = -65``, ``V_th = -50 mV``, ``t_ref = 2 ms``) with
    exponential currents (``tau_syn = 0.5 ms``), :class:`~neurosim.connectivity.FixedTotalNumber`
    connectivity (multapses and autapses allowed), normal weights redrawn to keep their sign
    (:class:`~neurosim.init.TruncatedNormal`, s.d. 10 %), normal delays (1.5 ms excitatory,
    0.75 ms inhibitory, s.d. 50 %) redrawn below ``dt/2``, NEST's timing conventions
    (``NetworkBuilder(conventions="nest")``: the delay is the total latency, ``round(t_ref/dt)``
    refractory steps, spikes stamped at the end of their step), exact integration (the LIF
    default), populations named ``L23E, L23I, ... L6I``. Scaling and DC
    compensation: :func:`potjans_diesmann_parameters`. At ``scale = 1`` (77,169 neurons,
    ~0.3 billion synapses) NEST's reference rates are L23E 0.903 ... L6I 7.829 Hz.

    Background (8 Hz per external input, ``K_ext`` inputs per neuron, 1.5 ms delay):
    ``"poisson"`` (each neuron its own Poisson train of ``8 K_ext`` Hz,
    :meth:`~neurosim.NetworkBuilder.add_poisson_input`, no stored synapses; acting from the next
    step, which for a stationary drive equals NEST's 1.5 ms delay) or ``"dc"`` (its mean as a
    constant current, NEST's ``poisson_input=False``).

    Args:
        scale: neuron-number scaling in (0, 1] (NEST's ``N_scaling``).
        k_scale: in-degree scaling in (0, 1] (``K_scaling``); default ``scale``. Below 1 the
            weights grow by ``1/sqrt(k_scale)`` and a DC current keeps the mean input.
        background: ``"poisson"`` or ``"dc"``.
        key: connectivity and weight/delay key (default ``jax.random.key(0)``).
        dt: the time step the network will be run with (ms): delays are redrawn below
            ``dt/2`` (then at least one step, as in NEST).
        v0: initial potentials, ``"optimized"`` (per population, the example's default) or
            ``"original"`` (N(-58, 10) mV).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.potjans_diesmann(scale=0.01, k_scale=0.01, background="dc")
        >>> net.populations[0].name, net.populations[0].n
        ('L23E', 207)
    """
    p = potjans_diesmann_parameters(scale, k_scale, background)
    check_literal("v0", v0, V0)
    if not (isinstance(dt, (int, float)) and 0 < dt <= 1.5):
        raise ValueError(f"dt must be a number in (0, 1.5] ms, got {dt!r}")
    key = key if key is not None else jax.random.key(0)
    b = NetworkBuilder(key=key, conventions="nest")
    syn, out = synapses.Exponential(TAU_SYN), synapses.CUBA()
    for i, name in enumerate(PD14_POPULATIONS):
        mean, std = (V0_OPTIMIZED[0][i], V0_OPTIMIZED[1][i]) if v0 == "optimized" else (-58.0, 10.0)
        lif = neurons.LIF(
            int(p["sizes"][i]),
            tau_m=TAU_M,
            e_l=E_L,
            v_th=V_TH,
            v_reset=V_RESET,
            t_ref=T_REF,
            g_l=C_M / TAU_M,
            i_e=float(p["dc"][i]),  # NEST sets I_e to the DC compensation
            v_init=init.Normal(float(mean), float(std)),
        )
        b.add_population(name, lif)
    for i, post in enumerate(PD14_POPULATIONS):
        for j, pre in enumerate(PD14_POPULATIONS):
            n_syn = int(p["n_synapses"][i, j])
            if n_syn == 0:
                continue
            w = float(p["weight"][i, j])
            bounds = {"low": 0.0} if w > 0 else {"high": 0.0}
            d = DELAY_EXC if j % 2 == 0 else DELAY_INH
            b.connect(
                pre,
                post,
                connectivity.FixedTotalNumber(n_syn),
                weight=init.TruncatedNormal(w, abs(w) * W_REL_STD, **bounds),
                synapse=syn,
                output=out,
                delay=init.TruncatedNormal(d, d * DELAY_REL_STD, low=0.5 * dt),
                key=jax.random.fold_in(key, 8 * i + j),
            )
        if background == "poisson":
            b.add_poisson_input(
                post, rate_hz=float(p["k_ext"][i]) * BG_RATE, weight=p["weight_ext"],
                synapse=syn, output=out, name=f"bg->{post}",
            )  # fmt: skip
    return b.build()
