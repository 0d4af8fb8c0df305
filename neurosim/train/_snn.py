"""A stack of spiking layers with a leaky-integrator readout, and a builder for it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check_positive, check_size
from ..neurons import AbstractNeuron
from ..synapses import AbstractKinetics
from ._layers import (
    Linear,
    SpikingLayer,
    _mean,
    current_synapse,
    default_neuron,
    psp_peak,
    synaptic_current,
)
from ._scan import scan

__all__ = ["LeakyReadout", "SNN", "SNNOutput", "make_snn"]


class LeakyReadout(eqx.Module):
    """Non-spiking leaky integrator readout: ``u(t) = k u(t-1) + (1 - k) I(t) / g_l``.

    ``k = exp(-dt/tau_m)``; ``u`` (mV, relative to rest) is the exact solution of
    ``tau_m du/dt = -u + I/g_l`` with the current ``I(t) = z(t) @ W (+ bias)`` held over the
    step (or filtered by ``tau_syn``): the LIF membrane without threshold. Used for
    max-membrane / last-membrane classification and as the e-prop readout (Bellec et al.
    2020).

    Args:
        n_in, n_out: sizes.
        key: random key.
        tau_m: membrane time constant (ms).
        tau_syn: synaptic current decay (ms) or None.
        g_l: leak conductance (nS).
        weight_std: weight std (pA); default ``g_l * 5 mV / (psp_peak sqrt(n_in))``.
        bias: trainable bias current (pA).
        dt: time step the default initialisation assumes (ms).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> ro = ns.train.LeakyReadout(8, 2, key=jax.random.key(0))
        >>> state, u = ro(jnp.ones((20, 8)), dt=1.0)
        >>> u.shape
        (20, 2)
    """

    linear: Linear
    tau_m: jax.Array
    g_l: jax.Array
    synapse: AbstractKinetics

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        key,
        tau_m=20.0,
        tau_syn=None,
        g_l=10.0,
        weight_std=None,
        bias: bool = False,
        dt: float = 1.0,
    ):
        check_positive("tau_m", tau_m, "ms")
        check_positive("g_l", g_l, "nS")
        if tau_syn is not None:
            check_positive("tau_syn", tau_syn, "ms")
        if weight_std is None:
            eta = psp_peak(_mean(tau_m), None if tau_syn is None else _mean(tau_syn), dt)
            weight_std = _mean(g_l) * 5.0 / (eta * math.sqrt(n_in))
        self.linear = Linear(n_in, n_out, key=key, std=weight_std, bias=bias)
        f = jnp.result_type(float)
        self.tau_m = jnp.broadcast_to(jnp.asarray(tau_m, f), (n_out,))
        self.g_l = jnp.broadcast_to(jnp.asarray(g_l, f), (n_out,))
        self.synapse = current_synapse(tau_syn, n_out)

    @property
    def tau_syn(self) -> jax.Array | None:
        """Synaptic decay (ms), or None for a current lasting one step."""
        return getattr(self.synapse, "tau", None)

    @property
    def n(self) -> int:
        return self.tau_m.shape[0]

    def init_state(self) -> dict:
        z = jnp.zeros((self.n,), self.tau_m.dtype)
        return {"u": z, "i_syn": z}

    def cell(self, state, current, dt):
        i_syn = synaptic_current(self.synapse, state["i_syn"], current, dt)
        k = jnp.exp(-dt / self.tau_m)
        u = k * state["u"] + (1.0 - k) * i_syn / self.g_l
        return {"u": u, "i_syn": i_syn}, u

    def step(self, state, z, dt):
        return self.cell(state, self.linear(z), dt)

    def __call__(self, zs, dt, *, state=None, checkpoint=None, levels: int = 2):
        """Integrate spikes ``zs`` (``(T, n_in)``); returns ``(state, u)`` with ``u (T, n_out)``."""
        state = self.init_state() if state is None else state
        return scan(
            lambda s, c: self.cell(s, c, dt),
            state,
            self.linear(zs),
            checkpoint=checkpoint,
            levels=levels,
        )


class SNNOutput(NamedTuple):
    """Outputs of :class:`SNN`: per layer ``(T, n)`` spikes and membrane potentials (mV), the
    readout ``u`` (``(T, n_out)`` mV, or None) and the final state."""

    spikes: tuple
    v: tuple
    readout: jax.Array | None
    state: dict


class SNN(eqx.Module):
    """A stack of :class:`SpikingLayer` and an optional :class:`LeakyReadout`.

    ``model(xs, dt)`` runs layer after layer (each one a scan with its input product done for
    all steps at once); ``model.step(state, x, dt)`` advances every layer by one step (for
    online rules and truncated BPTT). Both compute the same thing.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [20, 64, 10])
        >>> x = (jax.random.uniform(jax.random.key(1), (50, 20)) < 0.1).astype(float)
        >>> out = net(x, dt=1.0)
        >>> out.readout.shape
        (50, 10)
    """

    layers: tuple[SpikingLayer, ...]
    readout: LeakyReadout | None

    def init_state(self, key=None) -> dict:
        key = jax.random.key(0) if key is None else key
        keys = jax.random.split(key, max(len(self.layers), 1))
        return {
            "layers": tuple(lay.init_state(k) for lay, k in zip(self.layers, keys, strict=False)),
            "readout": None if self.readout is None else self.readout.init_state(),
        }

    def __call__(self, xs, dt, *, state=None, checkpoint=None, levels: int = 2) -> SNNOutput:
        state = self.init_state() if state is None else state
        spikes, vs, new_layers = [], [], []
        h = xs
        for lay, st in zip(self.layers, state["layers"], strict=True):
            st, h, v = lay(h, dt, state=st, checkpoint=checkpoint, levels=levels)
            spikes.append(h)
            vs.append(v)
            new_layers.append(st)
        u, ro_state = None, None
        if self.readout is not None:
            ro_state, u = self.readout(
                h, dt, state=state["readout"], checkpoint=checkpoint, levels=levels
            )
        new_state = {"layers": tuple(new_layers), "readout": ro_state}
        return SNNOutput(tuple(spikes), tuple(vs), u, new_state)

    def step(self, state: dict, x, dt):
        """One step of every layer: ``(state, (spikes per layer, readout u or None))``."""
        new_layers, spikes = [], []
        h = x
        for lay, st in zip(self.layers, state["layers"], strict=True):
            st, h = lay.step(st, h, dt)
            new_layers.append(st)
            spikes.append(h)
        ro_state, u = state["readout"], None
        if self.readout is not None:
            ro_state, u = self.readout.step(state["readout"], h, dt)
        return {"layers": tuple(new_layers), "readout": ro_state}, (tuple(spikes), u)


def make_snn(
    key,
    sizes,
    *,
    neuron: Callable[[int], AbstractNeuron] = default_neuron,
    tau_syn=5.0,
    recurrent: bool = False,
    readout: bool = True,
    readout_tau=20.0,
    readout_tau_syn=None,
    weight_gain: float = 1.0,
    recurrent_gain: float = 0.5,
    readout_std=None,
    bias: bool = False,
    dt: float = 1.0,
) -> SNN:
    """Build a spiking network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    With ``readout=True`` the last size is a :class:`LeakyReadout`; otherwise every size after
    the first is a spiking layer.

    Args:
        key: random key.
        sizes: layer sizes, starting with the number of inputs.
        neuron: ``n -> neuron model`` for the hidden layers (default :func:`default_neuron`).
        tau_syn: synaptic decay of the hidden layers (ms) or None.
        recurrent: give every hidden layer recurrent weights.
        readout, readout_tau, readout_tau_syn, readout_std: the readout (see
            :class:`LeakyReadout`).
        weight_gain, recurrent_gain, bias, dt: see :class:`SpikingLayer`.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [5, 100, 3], recurrent=True)
    """
    sizes = [check_size("sizes[i]", int(s)) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    hidden = sizes[1:-1] if readout else sizes[1:]
    keys = jax.random.split(key, len(hidden) + 1)
    layers, n_in = [], sizes[0]
    for k, n in zip(keys, hidden, strict=False):
        layers.append(
            SpikingLayer(
                n_in,
                neuron(n),
                key=k,
                tau_syn=tau_syn,
                recurrent=recurrent,
                weight_gain=weight_gain,
                recurrent_gain=recurrent_gain,
                bias=bias,
                dt=dt,
            )
        )
        n_in = n
    ro = None
    if readout:
        ro = LeakyReadout(
            n_in,
            sizes[-1],
            key=keys[-1],
            tau_m=readout_tau,
            tau_syn=readout_tau_syn,
            weight_std=readout_std,
            bias=bias,
            dt=dt,
        )
    return SNN(tuple(layers), ro)
