"""Structural connectomes and whole-brain network builders.

:class:`Connectome` holds a region-level connectome (weights ``W[i, j]`` from region j to
region i, tract lengths in mm, labels, centres, hemispheres), read from arrays, text/CSV
files, TVB's zip layout or TVB's sample data (``pip install neurosim[data]``). Two builders
turn it into a simulation:

* :func:`rate_network` -- one neural-mass node per region (default reduced Wong–Wang E–I),
  coupled with conduction delays; simulate with :func:`neurosim.rates.simulate`;
* :func:`dtb_network` -- the Digital Twin Brain design: E/I LIF neurons per region, local E/I
  wiring, long-range excitatory synapses whose counts follow the connectome, with
  tract-length delays; simulate with :func:`neurosim.simulate`.

Example:
    >>> import jax, neurosim as ns
    >>> con = ns.connectome.Connectome.from_tvb_data(76)  # doctest: +SKIP
    >>> net = ns.connectome.rate_network(con, G=0.5)  # doctest: +SKIP
    >>> res = ns.rates.simulate(net.model, net.coupling, 1000.0, 0.1,
    ...                         key=jax.random.key(0))  # doctest: +SKIP
"""

from ._connectome import Connectome, infer_hemispheres
from ._io import TVB_DATA_REGIONS
from ._rate import RateNetwork, rate_network
from ._spiking import RegionLayout, SpikingBrain, apportion, dtb_network

__all__ = [
    "Connectome",
    "infer_hemispheres",
    "TVB_DATA_REGIONS",
    "RateNetwork",
    "rate_network",
    "RegionLayout",
    "SpikingBrain",
    "dtb_network",
    "apportion",
]
