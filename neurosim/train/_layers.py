"""Spiking layers for gradient training, built on the neuron models' own step functions.

A layer is ``Linear`` (input weights, pA per input spike) -> exponential current synapse
(``tau_syn``) -> a neurosim neuron population (``ns.neurons.LIF``, ``ALIF``, ...), optionally
with recurrent weights. The neuron update is the population's ``step`` -- the same code that
:func:`neurosim.simulate` runs -- so a trained layer simulates identically in a network.

For feed-forward layers the input product ``x @ W`` is computed for all time steps at once,
outside the recurrence (one large matrix product, see BENCHMARKS.md, training section); only
the synapse and neuron updates run inside the ``scan``. Recurrent input ``z(t-1) @ W_rec`` is
added inside the loop.

Timing within step ``t``: the input spikes ``x(t)`` raise the synaptic current
``i(t) = i(t-1) exp(-dt/tau_syn) + x(t) @ W (+ z(t-1) @ W_rec)``, then the neuron integrates
over ``dt`` with ``i(t)`` held and emits ``z(t)``: a layer adds no delay.

All functions act on one sample (time axis first, ``(T, n)``); batch with ``jax.vmap``.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_positive, check_size
from ..neurons import LIF, AbstractNeuron, FastSigmoid, SynapticDrive
from ..synapses import AbstractKinetics, Delta, Exponential
from ._scan import scan

__all__ = ["Linear", "SpikingLayer", "default_neuron", "psp_peak"]


def default_neuron(n: int) -> LIF:
    """The LIF used by :func:`make_snn` unless told otherwise.

    ``tau_m`` = 10 ms, ``e_l`` = ``v_reset`` = -65 mV, ``v_th`` = -50 mV, no refractory period,
    ``g_l`` = 10 nS, and the SuperSpike surrogate of Zenke & Vogels 2021 (*Neural Comput.*
    33:899): steepness 10 per threshold unit and peak 1 per threshold unit, i.e. with the
    15 mV from reset to threshold ``scale = 10/15`` per mV and ``amplitude = 1/15`` per mV.
    """
    return LIF(
        n,
        tau_m=10.0,
        e_l=-65.0,
        v_th=-50.0,
        v_reset=-65.0,
        t_ref=0.0,
        g_l=10.0,
        surrogate=FastSigmoid(10.0 / 15.0, amplitude=1.0 / 15.0),
    )


def psp_peak(tau_m: float, tau_syn: float | None, dt: float = 1.0) -> float:
    """Peak of the membrane deflection (mV) per ``w / g_l`` (pA/nS) for one input spike.

    For an exponential current ``w exp(-t/tau_syn)`` into ``tau_m du/dt = -u + I/g_l`` the PSP
    is ``(w/g_l) tau_syn/(tau_syn - tau_m) (e^{-t/tau_syn} - e^{-t/tau_m})``; with
    ``tau_syn = None`` the current lasts one step and the jump is ``1 - exp(-dt/tau_m)``.
    """
    if tau_syn is None:
        return 1.0 - math.exp(-dt / tau_m)
    if abs(tau_syn - tau_m) < 1e-9:
        return math.exp(-1.0)  # limit tau_s -> tau_m: (t/tau) e^{-t/tau}, peak 1/e
    t_star = math.log(tau_m / tau_syn) * tau_m * tau_syn / (tau_m - tau_syn)
    return tau_syn / (tau_syn - tau_m) * (math.exp(-t_star / tau_syn) - math.exp(-t_star / tau_m))


def current_synapse(tau_syn, n: int) -> AbstractKinetics:
    """The synaptic kinetics of a layer: ``Exponential(tau_syn)`` or, for ``None``, a current
    lasting one step (``Delta`` kinetics: the increments of a step, consumed in that step);
    bound to ``n`` neurons. The same kinetics objects a network uses."""
    return (Delta() if tau_syn is None else Exponential(tau_syn)).bind(n)


def synaptic_current(synapse: AbstractKinetics, i_prev, current, dt):
    """One step of a layer's synapse: ``i_prev`` decays over ``dt``, ``current`` is added."""
    key = "jump" if isinstance(synapse, Delta) else "g"
    _, i_syn = synapse.step({key: i_prev}, current, 0, dt, None)
    return i_syn


def _mean(x) -> float:
    return float(np.mean(np.asarray(x)))


class Linear(eqx.Module):
    """Dense weights: ``x @ weight (+ bias)``, in pA per unit of input (per spike).

    The trainable arrays are dimensionless: ``weight = w * unit`` and ``bias = b * unit`` with
    a fixed ``unit`` (pA, the initial weight std), so ``w`` is O(1) and optimiser step sizes
    (e.g. Adam's learning rate) mean the same for every layer whatever its physical scale.

    Args:
        n_in, n_out: sizes.
        key: random key for the Gaussian initialisation ``w ~ N(0, 1)``.
        std: weight standard deviation (pA), the ``unit``; default ``1/sqrt(n_in)``.
        bias: add a trainable bias current, initialised to 0.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> lin = ns.train.Linear(4, 3, key=jax.random.key(0), std=10.0)
        >>> lin(jnp.ones(4)).shape
        (3,)
    """

    w: jax.Array
    b: jax.Array | None
    unit: float = eqx.field(static=True)

    def __init__(self, n_in: int, n_out: int, *, key, std=None, bias: bool = False):
        n_in, n_out = check_size("n_in", n_in), check_size("n_out", n_out)
        std = 1.0 / math.sqrt(n_in) if std is None else float(std)
        check_positive("std", std, "pA")
        dtype = jnp.result_type(float)
        self.unit = std
        self.w = jax.random.normal(key, (n_in, n_out), dtype)
        self.b = jnp.zeros((n_out,), dtype) if bias else None

    @property
    def weight(self) -> jax.Array:
        """Weights (pA per input unit), ``(n_in, n_out)``."""
        return self.w * self.unit

    @property
    def bias(self) -> jax.Array | None:
        """Bias current (pA) or None."""
        return None if self.b is None else self.b * self.unit

    def __call__(self, x):
        y = (x @ self.w) * self.unit
        return y if self.b is None else y + self.b * self.unit


class SpikingLayer(eqx.Module):
    """``Linear`` -> exponential current synapse -> spiking neurons (optionally recurrent).

    Args:
        n_in: number of inputs.
        neuron: the neuron population (``n`` neurons), e.g. ``ns.neurons.LIF(128, ...)``.
        key: random key for the weights.
        tau_syn: synaptic current decay (ms), or None for a current lasting one step.
        recurrent: add recurrent weights ``n -> n`` (previous step's spikes).
        weight_gain: input weight std in units of "one PSP-weighted input of size
            ``(v_th - e_l)/sqrt(n_in)``"; i.e. ``std = gain (v_th - e_l) g_l /
            (psp_peak sqrt(n_in))`` (pA). 1 drives the summed input of ``n_in`` single
            spikes to about threshold. Needs a neuron with ``v_th``, ``e_l``, ``g_l``,
            ``tau_m`` (LIF, ALIF), else pass ``weight_std``.
        recurrent_gain: the same for recurrent weights (``n`` inputs).
        weight_std: explicit input weight std (pA), overriding ``weight_gain``.
        bias: trainable bias current (pA).
        dt: time step the initialisation assumes (ms; only used with ``tau_syn=None``).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> layer = ns.train.SpikingLayer(20, ns.train.default_neuron(32), key=jax.random.key(0))
        >>> x = (jax.random.uniform(jax.random.key(1), (50, 20)) < 0.1).astype(float)
        >>> state, spikes, v = layer(x, dt=1.0)
        >>> spikes.shape
        (50, 32)
    """

    linear: Linear
    neuron: AbstractNeuron
    recurrent: Linear | None
    synapse: AbstractKinetics

    def __init__(
        self,
        n_in: int,
        neuron: AbstractNeuron,
        *,
        key,
        tau_syn=5.0,
        recurrent: bool = False,
        weight_gain: float = 1.0,
        recurrent_gain: float = 0.5,
        weight_std=None,
        bias: bool = False,
        dt: float = 1.0,
    ):
        if not isinstance(neuron, AbstractNeuron):
            raise ValueError(f"neuron must be a neurosim neuron model, got {type(neuron)}")
        if tau_syn is not None:
            check_positive("tau_syn", tau_syn, "ms")
        k_in, k_rec = jax.random.split(key)
        n = neuron.n

        def std(gain, fan_in):
            try:
                gap = _mean(neuron.v_th) - _mean(neuron.e_l)
                eta = psp_peak(_mean(neuron.tau_m), None if tau_syn is None else _mean(tau_syn), dt)
                return gain * gap * _mean(neuron.g_l) / (eta * math.sqrt(fan_in))
            except AttributeError as e:
                raise ValueError(
                    f"{type(neuron).__name__} has no v_th/e_l/g_l/tau_m: pass weight_std (pA)"
                ) from e

        self.linear = Linear(
            n_in,
            n,
            key=k_in,
            std=weight_std if weight_std is not None else std(weight_gain, n_in),
            bias=bias,
        )
        self.neuron = neuron
        self.recurrent = Linear(n, n, key=k_rec, std=std(recurrent_gain, n)) if recurrent else None
        self.synapse = current_synapse(tau_syn, n)

    @property
    def tau_syn(self) -> jax.Array | None:
        """Synaptic decay (ms), or None for a current lasting one step."""
        return getattr(self.synapse, "tau", None)

    @property
    def n(self) -> int:
        return self.neuron.n

    def init_state(self, key=None) -> dict:
        """Neuron state (from ``neuron.init``), synaptic current (pA), last spikes."""
        key = jax.random.key(0) if key is None else key
        z = jnp.zeros((self.n,), jnp.result_type(float))
        return {"neuron": self.neuron.init(key, None), "i_syn": z, "z": z}

    def core(self, state: dict, current, dt):
        """The element-wise part of a step (synapse + neuron) for a given input current (pA).

        ``state`` holds ``"neuron"`` and ``"i_syn"``; returns ``(state, spikes)``. Every
        neuron depends only on its own state and current (used by e-prop). The synapse and
        the neuron step through their component ``step`` (the code a network runs; the layer
        is time-invariant, so the step counter passed is 0).
        """
        i_syn = synaptic_current(self.synapse, state["i_syn"], current, dt)
        drive = SynapticDrive(0.0, i_syn)
        neuron_state, z = self.neuron.step(state["neuron"], drive, 0, dt, None)
        return {"neuron": neuron_state, "i_syn": i_syn}, z

    def cell(self, state: dict, current, dt):
        """One step given the feed-forward current ``x(t) @ W`` (pA): ``(state, spikes)``."""
        if self.recurrent is not None:
            current = current + self.recurrent(state["z"])
        core, z = self.core({"neuron": state["neuron"], "i_syn": state["i_syn"]}, current, dt)
        return {**core, "z": z}, z

    def step(self, state: dict, x, dt):
        """One step from input spikes ``x`` (shape ``(n_in,)``)."""
        return self.cell(state, self.linear(x), dt)

    def __call__(self, xs, dt, *, state=None, checkpoint=None, levels: int = 2):
        """Run over input spikes ``xs`` (``(T, n_in)``); returns ``(state, spikes, v)``.

        ``spikes`` and ``v`` (membrane potential after reset, mV) are ``(T, n)``.
        ``checkpoint``/``levels``: see :func:`neurosim.train.scan`.
        """
        state = self.init_state() if state is None else state
        currents = self.linear(xs)  # all time steps at once, outside the recurrence

        def body(s, c):
            s, z = self.cell(s, c, dt)
            return s, (z, s["neuron"]["v"])

        state, (z, v) = scan(body, state, currents, checkpoint=checkpoint, levels=levels)
        return state, z, v
