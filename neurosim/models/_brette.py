"""The Brette et al. (2007) benchmark networks, exactly as pinned in docs/benchmarks/definitions.md.

Brette R. et al. (2007) Simulation of networks of spiking neurons: a review of tools and
strategies. J Comput Neurosci 23:349–398. Benchmark 1 (COBA) follows Vogels & Abbott (2005).
All three use one population ``"P"`` with groups ``"E"`` (first 80 %) and ``"I"``; each group
projects to all ``n`` neurons with connection probability ``80/n`` (in-degree ~80 at every
scale, weights not rescaled). Units: mV, ms, nS, pA, pF.
"""

from __future__ import annotations

import jax

from .. import init, integrators, neurons, synapses
from .._validate import check_size
from ..network import Network, NetworkBuilder
from ._resolve import generator

__all__ = ["coba", "cuba", "cobahh"]

_G_L = 10.0  # nS; COBA's conductances are "in units of g_L" in the benchmark definition


def _split(n: int) -> tuple[int, int]:
    n = check_size("n", n)
    if n < 2:
        raise ValueError(f"n must be >= 2 (80/20 E/I split), got {n}")
    n_e = int(round(0.8 * n))
    n_e = min(max(n_e, 1), n - 1)
    return n_e, n - n_e


def _assemble(neuron, n, key, w_e, w_i, syn_e, syn_i, out_e, out_i, in_degree, connectivity):
    n_e, n_i = _split(n)
    b = NetworkBuilder(key=key)
    b.add_population("P", neuron, groups={"E": n_e, "I": n_i})
    gen = generator(n, connectivity, in_degree)
    b.connect("E", "P", gen, weight=w_e, synapse=syn_e, output=out_e, receptor="exc")
    b.connect("I", "P", gen, weight=w_i, synapse=syn_i, output=out_i, receptor="inh")
    return b.build()


def coba(
    n: int = 4000, key=None, *, in_degree: float = 80.0, connectivity=None, integrator=None
) -> Network:
    """COBA (Brette et al. 2007, benchmark 1): LIF with exponential conductances.

    ``tau_m = 20 ms, E_L = -60, V_th = -50, V_reset = -60 mV, t_ref = 5 ms``, bias
    ``I_b = 200 pA`` (20 mV at ``g_L = 10 nS``); ``tau_e = 5, tau_i = 10 ms``,
    ``E_e = 0, E_i = -80 mV``, ``w_e = 6 nS, w_i = 67 nS`` (0.6 and 6.7 ``g_L``);
    ``v(0) ~ N(-55, 2) mV``. Reference rate at n = 4000: 20.9–22.0 Hz (NEST, Brian2).

    Args:
        n: number of neurons (80 % excitatory).
        key: connectivity key (default ``jax.random.key(0)``).
        in_degree: expected in-degree per group (connection probability ``in_degree / n``).
        connectivity: ``"stored"`` (default: ``FixedProbability(in_degree/n)``),
            ``"procedural"`` (the same matrix regenerated on the fly, O(n) memory), ``"auto"``
            (procedural when the stored synapses would not fit comfortably in memory, see
            :func:`resolve_connectivity`), or a generator object.
        integrator: membrane integrator. Default :class:`~neurosim.integrators.Euler` for the
            membrane (conductances decay exactly), the method of the reference implementations
            this benchmark is pinned to (Brian2's ``method='euler'``, the plain-JAX reference
            in docs/benchmarks/definitions.md), so timings compare like with like; pass
            ``ns.integrators.ExpEuler()`` for the exponential-Euler membrane update.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=4000, key=jax.random.key(0))
    """
    lif = neurons.LIF(
        n,
        tau_m=20.0,
        e_l=-60.0,
        v_th=-50.0,
        v_reset=-60.0,
        t_ref=5.0,
        g_l=_G_L,
        i_e=20.0 * _G_L,
        v_init=init.Normal(-55.0, 2.0),
        integrator=integrator if integrator is not None else integrators.Euler(),
    )
    return _assemble(
        lif,
        n,
        key if key is not None else jax.random.key(0),
        0.6 * _G_L,
        6.7 * _G_L,
        synapses.Exponential(5.0),
        synapses.Exponential(10.0),
        synapses.COBA(0.0),
        synapses.COBA(-80.0),
        in_degree,
        connectivity,
    )


def cuba(
    n: int = 4000, key=None, *, in_degree: float = 80.0, connectivity=None, integrator=None
) -> Network:
    """CUBA (Brette et al. 2007, benchmark 2; Brian2's ``examples/CUBA.py`` values).

    ``tau_m dv/dt = (E_L - v) + g_e + g_i`` with g in mV, here as currents in pA at
    ``g_L = 10 nS``: ``tau_m = 20 ms, E_L = -49, V_th = -50, V_reset = -60 mV, t_ref = 5 ms``,
    ``tau_e = 5, tau_i = 10 ms``, ``w_e = +1.62 mV (16.2 pA), w_i = -9 mV (-90 pA)``,
    ``v(0) ~ U(-60, -50) mV``. Brian2 reference at n = 4000: 5.3 Hz. Arguments as :func:`coba`.
    """
    lif = neurons.LIF(
        n,
        tau_m=20.0,
        e_l=-49.0,
        v_th=-50.0,
        v_reset=-60.0,
        t_ref=5.0,
        g_l=_G_L,
        v_init=init.Uniform(-60.0, -50.0),
        integrator=integrator,
    )
    return _assemble(
        lif,
        n,
        key if key is not None else jax.random.key(0),
        1.62 * _G_L,
        -9.0 * _G_L,
        synapses.Exponential(5.0),
        synapses.Exponential(10.0),
        synapses.CUBA(),
        synapses.CUBA(),
        in_degree,
        connectivity,
    )


def cobahh(
    n: int = 4000, key=None, *, in_degree: float = 80.0, connectivity=None, integrator=None
) -> Network:
    """COBAHH (Brette et al. 2007, benchmark 3; Brian2's ``examples/COBAHH.py`` values).

    Traub–Miles HH (:class:`neurosim.neurons.TraubMiles`, ``C = 200 pF``, ``g_L = 10 nS``,
    ``g_Na = 20 µS``, ``g_K = 6 µS``, ``V_T = -63 mV``), spikes at upward crossings of
    -20 mV with 3 ms refractoriness, COBA synapses ``w_e = 6 nS, w_i = 67 nS``,
    ``tau_e = 5, tau_i = 10 ms``. Initial state: ``v = E_L + 5 randn - 5 mV``,
    ``g_e = (1.5 randn + 4) 10 nS``, ``g_i = (12 randn + 20) 10 nS``, gates at 0 (as in
    Brian2's example). Brian2 reference at n = 4000: 35.4 Hz. Arguments as :func:`coba`.
    """
    hh = neurons.TraubMiles(
        n,
        v_init=init.Normal(-65.0, 5.0),
        gates_init="zero",
        integrator=integrator,
    )
    return _assemble(
        hh,
        n,
        key if key is not None else jax.random.key(0),
        6.0,
        67.0,
        synapses.Exponential(5.0, init=init.Normal(40.0, 15.0)),
        synapses.Exponential(10.0, init=init.Normal(200.0, 120.0)),
        synapses.COBA(0.0),
        synapses.COBA(-80.0),
        in_degree,
        connectivity,
    )
