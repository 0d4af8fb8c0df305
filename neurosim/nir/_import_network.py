"""NIR -> neurosim: any graph of LIF/CubaLIF nodes, weights and delays as a ``Network``."""

from __future__ import annotations

import jax
import numpy as np

from ..connectivity import from_dense
from ..network import Network, NetworkBuilder
from ..neurons import LIF, AbstractSpikeSource
from ..synapses import Delta, Exponential
from . import _units as u
from ._import import _WEIGHTS, _affine, _base, _kind, _neuron
from ._nirpkg import nir_module

__all__ = ["network_from_nir"]

_OK = ("Input", "Output", "Delay", "Scale", "LIF", "CubaLIF", *_WEIGHTS)


def network_from_nir(graph, sources: dict, *, key=None) -> Network:
    """Read a NIR graph as a :class:`~neurosim.Network` (any wiring, with delays).

    Every ``LIF``/``CubaLIF`` node becomes an ``ns.neurons.LIF`` population (``t_ref = 0``,
    starting at ``v_leak``) named after the node; a ``CubaLIF`` receives through an
    ``Exponential(tau_syn)`` current receptor (a spike through ``W`` adds ``w_in W /
    tau_syn[s]`` pA), a ``LIF`` through ``Delta`` kinetics (a jump of ``r W / tau[s]`` mV).
    Each path ``pre [-> Delay] -> (Linear|Affine) [-> Scale] -> neuron`` becomes a projection
    with dense weights and the delay in ms (on top of neurosim's one-step latency). Every
    ``Input`` node needs a spike source of its size in ``sources``. Units:
    :mod:`neurosim.nir`.

    Args:
        graph: a ``nir.NIRGraph``.
        sources: ``{input node name: spike source}``, e.g. ``ns.inputs.SpikeTimes(n, ...)``.
        key: the builder's key (default ``key(0)``).

    Raises:
        ValueError: naming unsupported nodes (``CubaLI``, ``Conv2d``, ...), nonzero biases
            (a constant signal into a synapse has no neurosim input), non-uniform delays,
            missing sources.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.nir.network_from_nir(graph, {"input": ns.inputs.SpikeTimes(2, times=[[1.0], []])})  # doctest: +SKIP
    """  # noqa: E501
    nir_module()
    nodes = graph.nodes
    bad = [f"{k} ({_kind(v)})" for k, v in nodes.items() if _kind(v) not in _OK]
    if bad:
        raise ValueError(
            "NIR nodes a neurosim Network cannot import: " + ", ".join(bad) + f"; supported: "
            f"{', '.join(_OK)}"
        )
    succ: dict = {k: [] for k in nodes}
    pred: dict = {k: [] for k in nodes}
    for a, b in graph.edges:
        succ[_base(a)].append(_base(b))
        pred[_base(b)].append(_base(a))
    builder = NetworkBuilder(jax.random.key(0) if key is None else key)
    params, pops = {}, set()
    for name, node in nodes.items():
        if _kind(node) == "Input":
            n = int(np.prod(node.input_type["input"]))
            src = sources.get(name) if sources else None
            if not isinstance(src, AbstractSpikeSource) or src.n != n:
                raise ValueError(
                    f"sources[{name!r}] must be a spike source of n={n} (the Input node's size), "
                    f"got {src!r}"
                )
            builder.add_population(name, src)
            pops.add(name)
        elif _kind(node) in ("LIF", "CubaLIF"):
            n = int(np.asarray(node.v_threshold).size)
            p = params[name] = _neuron(node, name, n)
            builder.add_population(name, LIF(
                n, tau_m=p["tau_m"], e_l=p["e_l"], v_th=p["v_th"], v_reset=p["v_reset"],
                t_ref=0.0, g_l=p["g_l"], v_init=p["e_l"],
            ))  # fmt: skip
            pops.add(name)

    def one(names, what):
        if len(names) != 1:
            raise ValueError(f"node {what!r} must have exactly one such neighbour, got {names}")
        return names[0]

    for name, node in nodes.items():
        if _kind(node) not in _WEIGHTS:
            continue
        src = one(pred[name], name)
        delay = 0.0
        if src is not None and _kind(nodes[src]) == "Delay":
            d = u.ms(np.asarray(nodes[src].delay))
            if d.size and np.ptp(d) > 0:
                raise ValueError(f"node {src!r}: delays differ between neurons ({d.min()}..."
                                 f"{d.max()} ms); neurosim imports one delay per path")  # fmt: skip
            delay, src = float(d.flat[0]) if d.size else 0.0, one(pred[src], src)
        dst = one(succ[name], name)
        scale = None
        if dst is not None and _kind(nodes[dst]) == "Scale":
            scale, dst = nodes[dst].scale, one(succ[dst], dst)
        if src not in pops or dst not in params:
            raise ValueError(
                f"node {name!r}: weights must connect an Input or neuron node (through an optional "
                f"Delay) to a LIF/CubaLIF node (through an optional Scale), got {src!r} -> {dst!r}"
            )
        w, b = _affine(node, name, scale)
        if b is not None and np.any(b != 0):
            raise ValueError(f"node {name!r}: a nonzero Affine bias cannot be imported here "
                             "(use ns.nir.from_nir for layer stacks)")  # fmt: skip
        p = params[dst]
        if p["tau_syn"] is None:  # a jump of r W / tau (mV)
            w_ns = (w * (1.0 / (p["g_l"] * u.seconds(p["tau_m"])))[:, None]).T
            syn = Delta()
        else:
            w_ns = (w * (p["w_in"] / u.seconds(p["tau_syn"]))[:, None]).T
            syn = Exponential(np.asarray(p["tau_syn"], np.float32))
        builder.connect(src, dst, from_dense(w_ns.astype(np.float32)), synapse=syn, delay=delay,
                        name=name)  # fmt: skip
    return builder.build()
