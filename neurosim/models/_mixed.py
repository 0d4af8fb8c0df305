"""A mixed network: Hodgkin–Huxley-type E cells, LIF I cells, four receptor types, gap junctions.

A demonstration that different neuron models, receptor kinetics (exponential and
dual-exponential), output rules (COBA and Mg²⁺ block) and electrical synapses run together
through the same :func:`neurosim.simulate` and event-delivery operators.
"""

from __future__ import annotations

import jax

from .. import connectivity as conn
from .. import init, neurons, synapses
from .._validate import check_nonnegative, check_size
from ..network import Network, NetworkBuilder

__all__ = ["mixed_receptors"]


def mixed_receptors(
    n: int = 100,
    key=None,
    *,
    nmda_weight: float = 1.0,
    gap_weight: float = 1.0,
    ext_rate: float = 10.0,
) -> Network:
    """E–I network with AMPA, NMDA (Mg block), GABA_A and GABA_B receptors and gap junctions.

    Populations: ``"X"`` (``n`` Poisson sources at ``ext_rate`` Hz), ``"E"`` (80 % of ``n``
    Traub–Miles cells with ``E_L = -70 mV``, quiescent without input) and ``"I"`` (20 % LIF
    cells, ``tau_m = 20 ms, E_L = -60, V_th = -50, V_reset = -60 mV``, ``t_ref = 2 ms``).
    Random connectivity with fixed expected in-degrees: X -> E, I: AMPA 3 nS, 20 inputs;
    E -> E, I: AMPA 1 nS and NMDA ``nmda_weight`` nS, 8 inputs; I -> E, I: GABA_A 6 nS and
    (I -> E) GABA_B 0.2 nS, 4 inputs (receptor presets of :mod:`neurosim.synapses`, peak
    conductances). The I cells are coupled by gap junctions of ``gap_weight`` nS (each pair
    with probability ``4/n_I``), as fast-spiking interneurons are (Galarreta & Hestrin 1999,
    Nature 402:72). Connectivity keys are fixed per projection, so changing a weight (e.g.
    ``nmda_weight=0``) leaves the sampled structure and the compiled loop unchanged.

    TODO(issue 4): E cells -> ``neurons.AdEx`` and Tsodyks–Markram STP on E -> E when they
    land.

    Args:
        n: number of neurons (E + I); also the number of Poisson sources.
        key: connectivity key (default ``jax.random.key(0)``).
        nmda_weight: NMDA peak conductance per synapse (nS), >= 0.
        gap_weight: gap-junction conductance per pair (nS), >= 0.
        ext_rate: rate of each Poisson source (Hz).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.mixed_receptors(100, key=jax.random.key(0))
        >>> res = ns.simulate(net, duration=200.0, dt=0.1, key=jax.random.key(1))
    """
    n = check_size("n", n)
    if n < 5:
        raise ValueError(f"n must be >= 5 (80/20 E/I split with a few I cells), got {n}")
    check_nonnegative("nmda_weight", nmda_weight, "nS")
    check_nonnegative("gap_weight", gap_weight, "nS")
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    k = key if key is not None else jax.random.key(0)
    b = NetworkBuilder(key=k)
    b.add_population("X", neurons.PoissonSource(n, rate=ext_rate))
    b.add_population("E", neurons.TraubMiles(n_e, e_l=-70.0, v_init=init.Uniform(-75.0, -65.0)))
    b.add_population(
        "I",
        neurons.LIF(n_i, e_l=-60.0, v_th=-50.0, v_reset=-60.0, v_init=init.Uniform(-60.0, -50.0)),
    )

    def p(in_degree, n_pre):
        return conn.FixedProbability(min(1.0, in_degree / n_pre))

    s = synapses
    table = [
        ("X", "E", p(20, n), 3.0, s.AMPA()),
        ("X", "I", p(20, n), 3.0, s.AMPA()),
        ("E", "E", p(8, n_e), 1.0, s.AMPA()),
        ("E", "I", p(8, n_e), 1.0, s.AMPA()),
        ("E", "E", p(8, n_e), nmda_weight, s.NMDA()),
        ("E", "I", p(8, n_e), nmda_weight, s.NMDA()),
        ("I", "E", p(4, n_i), 6.0, s.GABA_A()),
        ("I", "I", p(4, n_i), 6.0, s.GABA_A()),
        ("I", "E", p(4, n_i), 0.2, s.GABA_B()),
    ]
    for j, (pre, post, gen, w, syn) in enumerate(table):
        b.connect(pre, post, gen, weight=w, synapse=syn, key=jax.random.fold_in(k, j))
    b.gap_junctions("I", p(4, n_i), weight=gap_weight, key=jax.random.fold_in(k, len(table)))
    return b.build()
