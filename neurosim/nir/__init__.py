"""Exchange with NIR, the neuromorphic intermediate representation (the ``nir`` package).

:func:`to_nir` writes a neurosim model as a ``nir.NIRGraph``; :func:`from_nir` reads a graph
(from neurosim or another library: snnTorch, Norse, Lava, ...) back as an ``ns.train.SNN``
simulated by neurosim's own neuron and synapse steps, :func:`network_from_nir` as a
``Network`` (any wiring, delays) run by ``ns.simulate``. ``nir.write(path, graph)`` and
``nir.read(path)`` store graphs in NIR's HDF5 files. The ``nir`` package is optional
(``pip install neurosim[nir]``); it is imported only when these functions are called.

Units. NIR's equations carry no units; neurosim reads and writes them as

| NIR quantity | neurosim | conversion |
|---|---|---|
| ``tau``, ``tau_mem``, ``tau_syn``, ``delay``: s | ``tau_m``, ``tau_syn``, ``delay``: ms | ×1e3 |
| ``v_leak``, ``v_threshold``, ``v_reset`` | ``e_l``, ``v_th``, ``v_reset`` (mV) | 1 : 1 |
| ``r`` | ``1 / g_l`` (GOhm = mV/pA) | ``g_l`` [nS] = 1 / ``r`` |
| current ``I`` of a CubaLIF / CubaLI | synaptic current (pA) | 1 : 1 |

Spikes are unit-area Dirac deltas in time, so a spike through weight ``W`` raises a CubaLIF's
current by ``w_in W / tau_syn`` and a LIF's potential by ``r W / tau``. neurosim writes CubaLIF
nodes with ``w_in = tau_syn`` (s), so that the weights are neurosim's current jump per spike
(pA). A constant signal (an ``Affine`` bias ``b``) is held over each step. What depends on the
step ``dt`` (the bias of a current synapse, a current lasting one step) is converted exactly
for the ``dt`` given (see :func:`to_nir`).

Time steps. NIR edges are instantaneous; neurosim's discrete steps add what every discretised
importer adds: a recurrent loop (and every projection of a ``Network``) delivers the previous
step's spikes. NIR defines no initial state: imported neurons start at ``v_leak``. NIR's LIF
fires at ``v > v_threshold``, neurosim's at ``v >= v_th`` (the same for continuous values).

What NIR cannot express raises ``ValueError`` naming it: refractoriness (``t_ref > 0``),
neuron models other than LIF (ALIF, AdEx, ...), conductance-based (COBA) or NMDA receptors,
more than one receptor per population, plasticity and short-term dynamics (STDP, STP),
per-synapse delays, gap junctions, rate populations, time-varying input currents; projections
larger than ``max_dense`` entries (NIR stores weights densely). :func:`from_nir` names the
nodes it does not import (``Conv2d``, ``Threshold``, ``Delay``, ...) and structures other than
a stack of layers.

Example:
    >>> import jax, neurosim as ns
    >>> snn = ns.train.make_snn(jax.random.key(0), [4, 8, 2])
    >>> graph = ns.nir.to_nir(snn, dt=1.0)
    >>> again = ns.nir.from_nir(graph, dt=1.0)
"""

from ._export import to_nir
from ._import import from_nir
from ._import_network import network_from_nir

__all__ = ["to_nir", "from_nir", "network_from_nir"]
