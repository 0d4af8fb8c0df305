"""neurosim -> NIR: ``ns.train`` networks (and single layers) as ``nir.NIRGraph``."""

from __future__ import annotations

import numpy as np

from ..network import Network
from ..neurons import LIF
from ..train import SNN, LeakyReadout, SpikingLayer
from . import _units as u
from ._nirpkg import nir_module

__all__ = ["to_nir"]


def _arr(x, n) -> np.ndarray:
    """``x`` broadcast to ``(n,)`` float64, a copy (NIR nodes hold per-neuron arrays)."""
    return np.broadcast_to(np.asarray(x, np.float64), (n,)).copy()


def _check_lif(neuron, where: str) -> None:
    if type(neuron) is not LIF:
        raise ValueError(
            f"{where}: neuron model {type(neuron).__name__} has no NIR node; NIR has LIF/CubaLIF "
            "(use ns.neurons.LIF)"
        )
    t_ref = np.asarray(neuron.t_ref)
    if np.any(t_ref != 0):
        raise ValueError(
            f"{where}: refractoriness t_ref={float(t_ref.max())} ms cannot be expressed in NIR "
            "(its LIF/CubaLIF have none); use t_ref=0.0"
        )


def _neuron_node(nir, neuron: LIF, tau_syn, w_in):
    """A neurosim LIF (+ current synapse) as NIR LIF/CubaLIF; ``i_e`` folds into ``v_leak``."""
    n = neuron.n
    g_l = _arr(neuron.g_l, n)
    v_leak = _arr(neuron.e_l, n) + _arr(neuron.i_e, n) / g_l
    common = dict(
        r=1.0 / g_l,
        v_leak=v_leak,
        v_threshold=_arr(neuron.v_th, n),
        v_reset=_arr(neuron.v_reset, n),
    )
    tau_m = u.seconds(_arr(neuron.tau_m, n))
    if tau_syn is None:
        return nir.LIF(tau=tau_m, **common)
    return nir.CubaLIF(tau_mem=tau_m, tau_syn=u.seconds(tau_syn), w_in=w_in, **common)


def _weights(nir, linear, *, tau_m, tau_syn, w_in, dt, bias_ok=True):
    w = u.weight_to_nir(np.asarray(linear.weight), tau_m=tau_m, tau_syn=tau_syn, w_in=w_in, dt=dt)
    if linear.bias is None or not bias_ok:
        return nir.Linear(weight=w)
    b = u.bias_to_nir(np.asarray(linear.bias), tau_syn=tau_syn, w_in=w_in, dt=dt)
    return nir.Affine(weight=w, bias=b)


def _layer(nir, nodes, edges, src: str, k: int, layer: SpikingLayer, dt) -> str:
    _check_lif(layer.neuron, f"layer {k}")
    n = layer.n
    tau_m = _arr(layer.neuron.tau_m, n)
    tau_syn = None if layer.tau_syn is None else _arr(layer.tau_syn, n)
    w_in = np.ones(n) if tau_syn is None else u.seconds(tau_syn)
    kw = dict(tau_m=tau_m, tau_syn=tau_syn, w_in=w_in, dt=dt)
    nodes[f"fc{k}"] = _weights(nir, layer.linear, **kw)
    nodes[f"lif{k}"] = _neuron_node(nir, layer.neuron, tau_syn, w_in)
    edges += [(src, f"fc{k}"), (f"fc{k}", f"lif{k}")]
    if layer.recurrent is not None:
        nodes[f"rec{k}"] = _weights(nir, layer.recurrent, **kw)
        edges += [(f"lif{k}", f"rec{k}"), (f"rec{k}", f"lif{k}")]
    return f"lif{k}"


def _readout(nir, nodes, edges, src: str, ro: LeakyReadout, dt) -> str:
    n = ro.n
    tau_m = _arr(ro.tau_m, n)
    tau_syn = None if ro.tau_syn is None else _arr(ro.tau_syn, n)
    w_in = np.ones(n) if tau_syn is None else u.seconds(tau_syn)
    nodes["fc_out"] = _weights(nir, ro.linear, tau_m=tau_m, tau_syn=tau_syn, w_in=w_in, dt=dt)
    common = dict(r=1.0 / _arr(ro.g_l, n), v_leak=np.zeros(n))
    if tau_syn is None:
        nodes["li_out"] = nir.LI(tau=u.seconds(tau_m), **common)
    else:
        nodes["li_out"] = nir.CubaLI(
            tau_mem=u.seconds(tau_m), tau_syn=u.seconds(tau_syn), w_in=w_in, **common
        )
    edges += [(src, "fc_out"), ("fc_out", "li_out")]
    return "li_out"


def to_nir(model, *, dt: float, max_dense: int = 1 << 22):
    """Write an ``ns.train`` network as a NIR graph.

    ``Input -> (Affine|Linear) -> CubaLIF [-> Linear -> back, if recurrent] -> ... ->
    (Affine|Linear) -> CubaLI -> Output``: a :class:`~neurosim.train.SpikingLayer` is a
    ``Linear`` (``Affine`` with a bias) onto a ``CubaLIF`` (``LIF`` for ``tau_syn=None``), the
    :class:`~neurosim.train.LeakyReadout` a ``CubaLI`` (``LI``). Units and the weight
    conventions: :mod:`neurosim.nir`. The surrogate derivative and ``detach_reset`` (training
    only) and the initial potential are not part of NIR and are not written; ``i_e`` is
    written into ``v_leak`` (``e_l + i_e / g_l``, the same dynamics).

    Args:
        model: an :class:`~neurosim.train.SNN`, a single
            :class:`~neurosim.train.SpikingLayer`, or a :class:`~neurosim.Network` (from
            ``NetworkBuilder``) of ``LIF`` populations (``t_ref=0``) with one current-based
            receptor each (``Exponential`` + ``CUBA``: ``CubaLIF``; ``Delta``: ``LIF``),
            spike sources (written as ``Input`` nodes), homogeneous delays (``Delay``
            nodes) and constant currents (folded into ``v_leak``). A projection adds
            neurosim's minimal one-step latency, which NIR's instantaneous edges do not
            show.
        dt: the time step (ms) the model runs at; biases and currents lasting one step
            (``tau_syn=None``) are converted exactly for it.
        max_dense: the largest projection (``n_pre * n_post`` entries) of a ``Network`` that
            is written as a dense matrix (procedural and sparse connectivity alike).

    Returns:
        A ``nir.NIRGraph``; store it with ``nir.write(path, graph)``.

    Raises:
        ValueError: for what NIR cannot express (non-LIF neurons, ``t_ref > 0``, ...).

    Example:
        >>> import jax, neurosim as ns
        >>> g = ns.nir.to_nir(ns.train.make_snn(jax.random.key(0), [3, 4, 2]), dt=1.0)
        >>> sorted(g.nodes)
        ['fc0', 'fc_out', 'input', 'li_out', 'lif0', 'output']
    """
    nir = nir_module()
    dt = float(dt)
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be > 0 ms, got {dt}")
    if isinstance(model, Network):
        from ._export_network import network_to_nir

        return network_to_nir(model, dt=dt, max_dense=max_dense)
    if isinstance(model, SpikingLayer):
        model = SNN((model,), None)
    if not isinstance(model, SNN):
        raise ValueError(
            f"to_nir exports ns.train.SNN, ns.train.SpikingLayer or ns.Network, got "
            f"{type(model).__name__}"
        )
    if not model.layers and model.readout is None:
        raise ValueError("the SNN has no layers and no readout: nothing to export")
    n_in = model.layers[0].linear.w.shape[0] if model.layers else model.readout.linear.w.shape[0]
    nodes, edges = {"input": nir.Input(input_type=np.array([n_in]))}, []
    src = "input"
    for k, layer in enumerate(model.layers):
        src = _layer(nir, nodes, edges, src, k, layer, dt)
    if model.readout is not None:
        src = _readout(nir, nodes, edges, src, model.readout, dt)
    n_out = model.readout.n if model.readout is not None else model.layers[-1].n
    nodes["output"] = nir.Output(output_type=np.array([n_out]))
    edges.append((src, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"source": "neurosim", "dt_ms": dt})
