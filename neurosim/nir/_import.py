"""NIR -> neurosim: a layer-stack graph as an ``ns.train.SNN`` run by neurosim's own steps."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from ..neurons import LIF
from ..train import SNN, LeakyReadout, Linear, SpikingLayer
from . import _units as u
from ._nirpkg import nir_module

__all__ = ["from_nir"]

_WEIGHTS = ("Linear", "Affine")
_SPIKING = ("LIF", "CubaLIF")
_LEAKY = ("LI", "CubaLI")
_SUPPORTED = ("Input", "Output", "Scale", *_WEIGHTS, *_SPIKING, *_LEAKY)


def _kind(node) -> str:
    return type(node).__name__


def _base(name: str) -> str:
    return str(name).split(".")[0]  # "node.port" -> "node"


def _check_nodes(graph) -> None:
    bad = [f"{k} ({_kind(v)})" for k, v in graph.nodes.items() if _kind(v) not in _SUPPORTED]
    if bad:
        raise ValueError(
            "NIR nodes neurosim cannot import: "
            + ", ".join(bad)
            + f". Supported: {', '.join(_SUPPORTED)} in a stack Input -> (Linear|Affine) "
            "[-> Scale] -> (LIF|CubaLIF) ... [-> (LI|CubaLI)] -> Output"
        )


def _vec(x, n: int, what: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    try:
        return np.broadcast_to(a.reshape(-1) if a.size == n else a, (n,)).copy()
    except ValueError as e:
        raise ValueError(f"{what} has shape {a.shape}, expected ({n},)") from e


def _affine(node, name: str, scale=None):
    """(weight (n_post, n_pre), bias or None) of a Linear/Affine node (with a Scale folded in)."""
    w = np.asarray(node.weight, np.float64)
    if w.ndim != 2:
        raise ValueError(f"node {name!r}: weight must be 2-D (n_out, n_in), got shape {w.shape}")
    b = _vec(node.bias, w.shape[0], f"{name}.bias") if _kind(node) == "Affine" else None
    if scale is not None:
        s = _vec(scale, w.shape[0], f"{name} scale")
        w, b = w * s[:, None], None if b is None else b * s
    return w, b


def _neuron(node, name: str, n: int) -> dict:
    """neurosim parameters (ms, mV, nS) of a NIR neuron node; tau_syn None without a synapse."""
    k = _kind(node)
    v = {f: _vec(getattr(node, f), n, f"{name}.{f}") for f in ("r", "v_leak")}
    if np.any(~np.isfinite(v["r"])) or np.any(v["r"] <= 0):
        raise ValueError(f"node {name!r}: r must be > 0 (r = 1/g_l, GOhm), got {node.r}")
    cuba = k.startswith("Cuba")
    p = {
        "tau_m": u.ms(_vec(node.tau_mem if cuba else node.tau, n, f"{name}.tau")),
        "tau_syn": u.ms(_vec(node.tau_syn, n, f"{name}.tau_syn")) if cuba else None,
        "w_in": _vec(node.w_in, n, f"{name}.w_in") if cuba else np.ones(n),
        "g_l": 1.0 / v["r"],
        "e_l": v["v_leak"],
    }
    if k in _SPIKING:
        p["v_th"] = _vec(node.v_threshold, n, f"{name}.v_threshold")
        p["v_reset"] = _vec(node.v_reset, n, f"{name}.v_reset")
    return p


def _linear(w_ns, b_ns, key) -> Linear:
    """A ``ns.train.Linear`` holding the given weights (pA/spike) and bias (pA/step)."""
    n_in, n_out = w_ns.shape
    std = float(np.std(w_ns))
    unit = std if std > 0 and np.isfinite(std) else 1.0
    lin = Linear(n_in, n_out, key=key, std=unit, bias=b_ns is not None)
    lin = eqx.tree_at(lambda m: m.w, lin, jax.numpy.asarray(w_ns / unit, lin.w.dtype))
    if b_ns is not None:
        lin = eqx.tree_at(lambda m: m.b, lin, jax.numpy.asarray(b_ns / unit, lin.w.dtype))
    return lin


class _Walker:
    """Follows a graph's edges from its one Input node through a stack of layers."""

    def __init__(self, graph):
        self.g = graph
        self.succ: dict[str, list[str]] = {k: [] for k in graph.nodes}
        self.pred: dict[str, list[str]] = {k: [] for k in graph.nodes}
        for a, b in graph.edges:
            a, b = _base(a), _base(b)
            self.succ[a].append(b)
            self.pred[b].append(a)

    def only(self, name: str, exclude=()) -> str:
        nxt = [s for s in self.succ[name] if s not in exclude]
        inner = [s for s in nxt if _kind(self.g.nodes[s]) != "Output"]
        if len(inner) == 1:  # a hidden layer may also be a graph output: follow the stack
            nxt = inner
        if len(nxt) != 1:
            raise ValueError(
                f"node {name!r} ({_kind(self.g.nodes[name])}) feeds {nxt or 'nothing'}; "
                "neurosim imports stacks where each layer feeds exactly one next node"
            )
        return nxt[0]

    def weights(self, name: str):
        """Weight node ``name`` (and a Scale after it): ((w, b), name of the node it feeds)."""
        node = self.g.nodes[name]
        if _kind(node) not in _WEIGHTS:
            raise ValueError(
                f"node {name!r} is {_kind(node)}; a layer starts with Linear or Affine weights"
            )
        nxt = self.only(name)
        scale = None
        if _kind(self.g.nodes[nxt]) == "Scale":
            scale, nxt = self.g.nodes[nxt].scale, self.only(nxt)
        return _affine(node, name, scale), nxt

    def recurrent(self, neuron: str):
        """The weights of a loop ``neuron -> Linear -> neuron``, or None."""
        loops = [s for s in self.succ[neuron] if _kind(self.g.nodes[s]) in _WEIGHTS]
        loops = [s for s in loops if self.succ[s] == [neuron]]
        if len(loops) > 1:
            raise ValueError(f"node {neuron!r} has {len(loops)} recurrent loops; at most one")
        if not loops:
            return None, ()
        (w, b), _ = self.weights(loops[0])
        return (w, b), (loops[0],)


def from_nir(graph, *, dt: float, key=None) -> SNN:
    """Read a NIR graph as an ``ns.train.SNN`` (spiking layers and an optional readout).

    Accepts stacks ``Input -> (Linear|Affine) [-> Scale] -> (CubaLIF|LIF) [with a loop
    -> Linear -> back to the neuron] -> ... [-> (Linear|Affine) -> (CubaLI|LI)] -> Output``,
    as snnTorch, Norse and neurosim write them. ``CubaLIF`` becomes a
    :class:`~neurosim.train.SpikingLayer` with an exponential current synapse, ``LIF`` one with
    a current lasting one step (a spike raises ``v`` by exactly ``r W / tau``), ``CubaLI``/``LI``
    a :class:`~neurosim.train.LeakyReadout`. Units: :mod:`neurosim.nir`. NIR defines no
    refractoriness (``t_ref = 0``) and no initial state (``v`` starts at ``v_leak``); a
    recurrent loop delivers the previous step's spikes (neurosim's discrete convention).

    Args:
        graph: a ``nir.NIRGraph`` (e.g. from ``nir.read(path)``).
        dt: the time step (ms) the network will run at (weights of ``LIF`` nodes and biases
            of current synapses are converted exactly for it).
        key: random key for the (overwritten) initial weights; default ``key(0)``.

    Returns:
        An :class:`~neurosim.train.SNN`; run it with ``snn(spikes, dt)`` on input spikes
        ``(T, n_in)`` (one unit-area spike per 1 in a step).

    Raises:
        ValueError: naming every node neurosim cannot import, or the structure it cannot map.

    Example:
        >>> import nir, numpy as np, neurosim as ns
        >>> g = nir.NIRGraph.from_list(nir.Input(np.array([2])), nir.Linear(np.ones((3, 2))),
        ...     nir.LIF(*(np.full(3, x) for x in (0.01, 1.0, 0.0, 1.0))),
        ...     nir.Output(np.array([3])))
        >>> snn = ns.nir.from_nir(g, dt=1.0)
    """
    nir_module()
    dt = float(dt)
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be > 0 ms, got {dt}")
    _check_nodes(graph)
    key = jax.random.key(0) if key is None else key
    inputs = [k for k, v in graph.nodes.items() if _kind(v) == "Input"]
    if len(inputs) != 1:
        raise ValueError(f"the graph needs exactly one Input node, got {inputs}")
    walk = _Walker(graph)
    layers, readout, name, seen = [], None, walk.only(inputs[0]), set()
    while _kind(graph.nodes[name]) != "Output":
        if readout is not None:
            raise ValueError(f"node {name!r} follows the leaky readout; it must feed the Output")
        if name in seen:
            raise ValueError(f"node {name!r} is reached twice: a loop neurosim cannot import")
        seen.add(name)
        (w, b), neuron = walk.weights(name)
        node = graph.nodes[neuron]
        if _kind(node) not in (*_SPIKING, *_LEAKY):
            raise ValueError(f"node {neuron!r} is {_kind(node)}; weights must feed a neuron")
        n = w.shape[0]
        p = _neuron(node, neuron, n)
        conv = dict(tau_m=p["tau_m"], tau_syn=p["tau_syn"], w_in=p["w_in"], dt=dt)
        w_ns = u.weight_to_ns(w, **conv)
        b_ns = None if b is None else u.bias_to_ns(b, tau_syn=p["tau_syn"], w_in=p["w_in"], dt=dt)
        key, k_lin, k_rec, k_layer = jax.random.split(key, 4)
        rec, loop = walk.recurrent(neuron)
        if _kind(node) in _LEAKY:
            if np.any(p["e_l"] != 0):
                raise ValueError(
                    f"node {neuron!r}: v_leak={p['e_l']} must be 0 (neurosim's LeakyReadout "
                    "integrates relative to rest)"
                )
            if rec is not None:
                raise ValueError(f"node {neuron!r}: a recurrent leaky readout is not supported")
            tau_syn = None if p["tau_syn"] is None else p["tau_syn"]
            ro = LeakyReadout(
                w.shape[1], n, key=k_layer, tau_m=p["tau_m"], tau_syn=tau_syn, g_l=p["g_l"],
                weight_std=1.0, bias=b is not None,
            )  # fmt: skip
            readout = eqx.tree_at(lambda m: m.linear, ro, _linear(w_ns, b_ns, k_lin))
        else:
            neuron_model = LIF(
                n, tau_m=p["tau_m"], e_l=p["e_l"], v_th=p["v_th"], v_reset=p["v_reset"],
                t_ref=0.0, g_l=p["g_l"], v_init=p["e_l"],
            )  # fmt: skip
            layer = SpikingLayer(
                w.shape[1], neuron_model, key=k_layer, tau_syn=p["tau_syn"],
                recurrent=rec is not None, weight_std=1.0, bias=b is not None,
            )  # fmt: skip
            layer = eqx.tree_at(lambda m: m.linear, layer, _linear(w_ns, b_ns, k_lin))
            if rec is not None:
                if rec[1] is not None:
                    raise ValueError(f"node {loop[0]!r}: a recurrent bias is not supported")
                w_rec = u.weight_to_ns(rec[0], **conv)
                layer = eqx.tree_at(lambda m: m.recurrent, layer, _linear(w_rec, None, k_rec))
            layers.append(layer)
        name = walk.only(neuron, exclude=loop)
    return SNN(tuple(layers), readout)
