"""Results as Neurodata Without Borders (NWB 2) files, through ``pynwb``.

Spikes become the file's ``units`` table, recorded traces ``TimeSeries`` in ``acquisition``.
NWB keeps times in seconds: spike times and trace timestamps are converted from ms.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid

import numpy as np

__all__ = ["to_nwb", "trace_unit"]

_NEURON_UNITS = {"v": "mV", "w": "pA", "theta": "mV", "refractory": "steps"}
_RATE_UNITS = {"r": "Hz", "r_e": "Hz", "r_i": "Hz"}
UNKNOWN = "a.u."


def trace_unit(network, name: str) -> str:
    """The physical unit of a recorded trace ``name`` (a :class:`neurosim.Trace` target).

    The mapping (anything else is ``"a.u."``, arbitrary units):

    * neuron variables (``"E.v"``): ``v`` and ``theta`` mV, ``w`` (adaptation current) pA,
      ``refractory`` steps;
    * receptor variables (``"E.exc.g"``): ``g`` nS for conductance-based (``COBA``,
      ``MgBlock``) receptors, pA for current-based (``CUBA``) ones;
    * rate-node variables (``"wong.r_e"``): ``r``, ``r_e``, ``r_i`` Hz;
    * readouts: a :class:`neurosim.network.PopulationRate` value Hz, a
      :class:`neurosim.network.SynapticLFP` value pA, a :class:`neurosim.bold.BOLDReadout`
      value ``%`` (percent signal change; with ``V0`` in percent units, the default);
    * projection variables (weights, STP), inputs: ``"a.u."``.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> ns.io.trace_unit(net, "E.v")
        'mV'
    """
    from ..bold import BOLDReadout
    from ..network import PopulationRate, SynapticLFP
    from ..synapses import CUBA

    parts = name.split(".")
    readouts = {ro.name: ro for ro in network.readouts}
    if len(parts) == 1 and parts[0] in readouts:
        ro = readouts[parts[0]].readout
        if isinstance(ro, BOLDReadout):
            return "%" if float(ro.model.V0) > 1.0 else UNKNOWN
        units = ((PopulationRate, "Hz"), (SynapticLFP, "pA"))
        return next((u for cls, u in units if isinstance(ro, cls)), UNKNOWN)
    head, var = parts[0], parts[-1]
    if head in {rp.name for rp in network.rate_populations}:
        return _RATE_UNITS.get(var, UNKNOWN)
    try:
        pop, _ = network.resolve(head)
    except ValueError:
        return UNKNOWN  # projection or readout state
    p = network.populations[pop]
    if len(parts) == 2:
        return _NEURON_UNITS.get(var, UNKNOWN)
    rec = {r.name: r for r in p.receptors}.get(parts[1])
    if rec is None or var != "g":
        return UNKNOWN
    return "pA" if isinstance(rec.output, CUBA) else "nS"


def _units_table(nwb, result, all_neurons: bool) -> None:
    """One row per neuron (or per neuron that spiked), spike times in s."""
    net = result.network
    n_total = sum(p.n for p in net.populations)
    order = np.lexsort((result.spike_times, result.spike_indices))
    idx, times = result.spike_indices[order], result.spike_times[order] * 1e-3
    counts = np.bincount(idx, minlength=n_total) if idx.size else np.zeros(n_total, np.int64)
    ids = np.arange(n_total) if all_neurons else np.flatnonzero(counts)
    pop_name, group_name, local = [], [], []
    for p in net.populations:
        pop_name += [p.name] * p.n
        g = [p.name] * p.n
        for gname, a, b in p.groups:
            g[a:b] = [gname] * (b - a)
        group_name += g
        local.append(np.arange(p.n))
    local = np.concatenate(local) if local else np.zeros(0, np.int64)
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    keep = np.isin(idx, ids)
    st = VectorData(name="spike_times", description="spike times (s)", data=times[keep])
    cols = [
        st,
        VectorIndex(name="spike_times_index", data=np.cumsum(counts[ids]), target=st),
        VectorData(
            name="population",
            description="neurosim population of the neuron",
            data=[pop_name[j] for j in ids],
        ),
        VectorData(
            name="group",
            description="group within the population (the population when none)",
            data=[group_name[j] for j in ids],
        ),
        VectorData(
            name="local_index",
            description="index of the neuron within its population",
            data=local[ids],
        ),
    ]
    nwb.units = Units(
        name="units",
        id=ids,
        columns=cols,
        description="neurosim neurons; id = global neuron index",
    )


def to_nwb(
    result,
    path,
    *,
    session_description: str = "neurosim simulation",
    identifier: str | None = None,
    session_start_time: datetime.datetime | None = None,
    all_neurons: bool = True,
    metadata: dict | None = None,
) -> None:
    """Write a :class:`neurosim.SimulationResult` to an NWB file at ``path``.

    * ``units``: one row per neuron of every population (``all_neurons=False``: only the
      neurons that spiked), row id = global neuron index, spike times in **seconds**, with the
      columns ``population``, ``group`` and ``local_index``.
    * ``acquisition``: one ``TimeSeries`` per recorded trace, named after it, ``data``
      ``(n_samples, n_indices)``, timestamps in seconds, unit from :func:`trace_unit`
      (``"a.u."`` when unknown).
    * ``notes``: JSON with the run's ``dt_ms``, ``t_start_ms``, ``n_steps``, ``status``,
      ``message``, the neurosim and JAX versions and ``metadata`` (e.g. model and seed).

    Requires ``pynwb`` (``pip install neurosim[nwb]``).

    Args:
        result: the result to write.
        path: the ``.nwb`` file (overwritten).
        session_description: NWB's required description.
        identifier: NWB identifier (default: a new UUID).
        session_start_time: default: now (UTC).
        all_neurons: one unit per neuron (True) or per neuron that spiked.
        metadata: JSON-serialisable run settings (model, seed, ...), stored in ``notes``.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=20, key=jax.random.key(0))
        >>> res = ns.simulate(net, 5.0, 0.1, key=jax.random.key(1))
        >>> ns.io.to_nwb(res, "run.nwb", metadata={"model": "coba", "seed": 0})
    """
    try:
        import pynwb
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError("to_nwb needs pynwb: pip install 'neurosim[nwb]'") from e
    import jax

    from .. import __version__

    notes = {
        "dt_ms": float(result.dt),
        "t_start_ms": float(result.t_start),
        "n_steps": int(result.n_steps),
        "status": str(result.status),
        "message": str(result.message),
        "neurosim_version": __version__,
        "jax_version": jax.__version__,
        **(metadata or {}),
    }
    nwb = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=session_start_time or datetime.datetime.now(datetime.UTC),
        notes=json.dumps(notes),
    )
    _units_table(nwb, result, all_neurons)
    for name, data in result.traces.items():
        nwb.add_acquisition(
            pynwb.TimeSeries(
                name=name.replace("/", "_"),
                data=np.asarray(data),
                unit=trace_unit(result.network, name),
                timestamps=np.asarray(result.trace_times[name], np.float64) * 1e-3,
                description=f"neurosim trace {name!r}",
            )
        )
    with pynwb.NWBHDF5IO(os.fspath(path), "w") as io:
        io.write(nwb)
