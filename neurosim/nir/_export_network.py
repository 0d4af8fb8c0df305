"""neurosim -> NIR: a built ``Network`` of LIF populations with current synapses.

Each spiking population is a ``CubaLIF`` (one ``Exponential`` receptor with ``CUBA`` output)
or a ``LIF`` (``Delta`` kinetics with ``VoltageJump`` output, or no receptor); each spike
source an ``Input`` node; the projections between two populations with one delay are summed
into one dense ``Linear`` (``(n_post, n_pre)``), preceded by a ``Delay`` node when the delay
is > 0. Every population also feeds an ``Output`` node ``<name>_out``.
"""

from __future__ import annotations

import numpy as np

from ..network import ConstantCurrent, Network
from ..neurons import LIF, AbstractSpikeSource
from ..synapses import CUBA, Delta, Exponential, VoltageJump
from . import _units as u
from ._export import _arr, _check_lif, _neuron_node

__all__ = ["network_to_nir"]


def _unsupported(net: Network) -> list[str]:
    bad = []
    for field, what in (
        ("rate_populations", "rate populations"),
        ("node_couplings", "rate couplings"),
        ("cross", "cross-scale couplings"),
        ("readouts", "readouts"),
        ("gap_junctions", "gap junctions"),
    ):
        if getattr(net, field):
            bad.append(what)
    for pr in net.projections:
        if pr.dynamics is not None:
            bad.append(f"projection {pr.name!r}: {type(pr.dynamics).__name__} (plasticity/STP)")
        if pr.synapse_delays is not None:
            bad.append(f"projection {pr.name!r}: per-synapse delays (NIR delays are per signal)")
    for inp in net.inputs:
        if not isinstance(inp.current, ConstantCurrent):
            bad.append(f"input {inp.name!r}: {type(inp.current).__name__}")
    for p in net.populations:
        if isinstance(p.neuron, AbstractSpikeSource):
            continue
        if len(p.receptors) > 1:
            bad.append(f"population {p.name!r}: {len(p.receptors)} receptors (NIR has one)")
        for rec in p.receptors:
            k, o = rec.kinetics, rec.output
            if not (
                (type(k) is Exponential and type(o) is CUBA)
                or (type(k) is Delta and type(o) is VoltageJump)
            ):
                bad.append(
                    f"population {p.name!r}: receptor {rec.name!r} ({type(k).__name__} kinetics, "
                    f"{type(o).__name__} output; NIR has Exponential+CUBA and Delta+VoltageJump)"
                )
    return bad


def network_to_nir(net: Network, *, dt: float, max_dense: int = 1 << 22):
    """A ``Network`` as a NIR graph (see :func:`neurosim.nir.to_nir`)."""
    import nir  # checked by to_nir

    bad = _unsupported(net)
    if bad:
        raise ValueError("NIR cannot express: " + "; ".join(bad))
    nodes, edges, kinds = {}, [], {}
    for idx, p in enumerate(net.populations):
        if isinstance(p.neuron, AbstractSpikeSource):
            nodes[p.name] = nir.Input(input_type=np.array([p.n]))
            kinds[idx] = None
            continue
        _check_lif(p.neuron, f"population {p.name!r}")
        neuron = p.neuron
        i_const = np.zeros(p.n)
        for inp in net.inputs:
            if inp.target == idx:
                a, b = inp.target_slice
                i_const[a:b] += np.broadcast_to(np.asarray(inp.current.amplitude), (b - a,))
        if np.any(i_const):  # a constant current is a shift of the resting potential
            neuron = LIF(
                p.n, tau_m=neuron.tau_m, e_l=neuron.e_l, v_th=neuron.v_th,
                v_reset=neuron.v_reset, t_ref=0.0, g_l=neuron.g_l, i_e=neuron.i_e + i_const,
            )  # fmt: skip
        rec = p.receptors[0] if p.receptors else None
        exp = rec is not None and isinstance(rec.kinetics, Exponential)
        tau_syn = _arr(rec.kinetics.tau, p.n) if exp else None
        w_in = np.ones(p.n) if tau_syn is None else u.seconds(tau_syn)
        nodes[p.name] = _neuron_node(nir, neuron, tau_syn, w_in)
        kinds[idx] = (tau_syn, _arr(neuron.tau_m, p.n), _arr(neuron.g_l, p.n))
        nodes[f"{p.name}_out"] = nir.Output(output_type=np.array([p.n]))
        edges.append((p.name, f"{p.name}_out"))
    groups: dict = {}
    for pr in net.projections:
        pre, post = net.populations[pr.pre], net.populations[pr.post]
        if pre.n * post.n > max_dense:
            raise ValueError(
                f"projection {pr.name!r}: a dense {pre.n} x {post.n} matrix exceeds "
                f"max_dense={max_dense} entries (NIR stores weights densely); raise max_dense"
            )
        w = np.zeros((pre.n, post.n))
        (a, b), (c, d) = pr.pre_slice, pr.post_slice
        w[a:b, c:d] = np.asarray(pr.conn.todense(), np.float64)
        key = (pr.pre, pr.post, float(pr.delay))
        groups[key] = groups.get(key, 0.0) + w
    for (i_pre, i_post, delay), w in groups.items():
        pre, post = net.populations[i_pre].name, net.populations[i_post].name
        tau_syn, tau_m, g_l = kinds[i_post]
        if tau_syn is None:  # Delta + VoltageJump: a spike raises v by w mV = r W / tau
            w_nir = w.T * (u.seconds(tau_m) * g_l)[:, None]
        else:  # CubaLIF with w_in = tau_syn: W is the current jump (pA)
            w_nir = w.T
        name = f"{pre}_to_{post}" + (f"_d{delay:g}".replace(".", "p") if delay else "")
        nodes[name] = nir.Linear(weight=w_nir)
        src = pre
        if delay:
            nodes[f"{name}_delay"] = nir.Delay(delay=np.full(w.shape[0], u.seconds(delay)))
            edges.append((pre, f"{name}_delay"))
            src = f"{name}_delay"
        edges += [(src, name), (name, post)]
    meta = {"source": "neurosim", "dt_ms": float(dt)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
