"""Jansen–Rit neural mass model of a cortical column."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax

from .._validate import check_nonnegative, check_positive, check_size
from ._base import AbstractRateModel, node_inits, node_integration, node_params

__all__ = ["JansenRit"]


class JansenRit(AbstractRateModel):
    r"""Jansen & Rit (1995) neural mass: pyramidal cells with excitatory and inhibitory
    interneurons, each population a second-order synaptic kernel and a sigmoid.

    .. math::
        \ddot y_0 &= A a\, S(y_1 - y_2) - 2a \dot y_0 - a^2 y_0 \\
        \ddot y_1 &= A a\, \big(p + C_2 S(C_1 y_0) + c\big) - 2a \dot y_1 - a^2 y_1 \\
        \ddot y_2 &= B b\, C_4 S(C_3 y_0) - 2b \dot y_2 - b^2 y_2 \\
        S(v) &= \frac{2 e_0}{1 + e^{r (v_0 - v)}}

    written as six first-order equations (``y3 = dy0/dt``, ``y4 = dy1/dt``,
    ``y5 = dy2/dt``). ``y1 - y2`` (mV), the pyramidal membrane potential, is the EEG-like
    signal (observable ``"eeg"``); a node sends its pyramidal firing rate ``S(y1 - y2)``
    (1/ms) to the others, entering as extra afferent rate ``c`` like ``p``. Units: mV, ms,
    rates in 1/ms. ``C_1 = C``, ``C_2 = 0.8 C``, ``C_3 = C_4 = 0.25 C``.

    Defaults are Jansen & Rit (1995, *Biol. Cybern.* 73:357), Table 1 (A = 3.25 mV,
    B = 22 mV, a = 100/s, b = 50/s, C = 135, e0 = 2.5/s, v0 = 6 mV, r = 0.56/mV), with the
    constant afferent rate p = 220/s, the mean of their 120–320/s uniform input (as in The
    Virtual Brain, whose default v0 is 5.52 mV). The column oscillates at ~10.9 Hz (alpha)
    with v0 = 6 mV and at ~6.8 Hz with v0 = 5.52 mV.

    Args:
        n: number of nodes.
        A, B: maximal excitatory / inhibitory PSP amplitudes (mV), > 0.
        a, b: inverse time constants of the excitatory / inhibitory kernels (1/ms), > 0.
        C: average number of synaptic contacts, >= 0.
        e0: half the maximal firing rate (1/ms), > 0.
        v0: potential at half-maximal firing (mV).
        r: sigmoid steepness (1/mV), > 0.
        p: afferent input rate to the pyramidal cells (1/ms).
        init: initial values per variable (numbers or ``ns.init`` objects), default 0.
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, neurosim as ns
        >>> jr = ns.rates.JansenRit(1, v0=6.0)
        >>> res = ns.rates.simulate(jr, None, 1000.0, 0.1, key=jax.random.key(0),
        ...                         record=["eeg"])
    """

    n: int = eqx.field(static=True)
    A: jax.Array
    B: jax.Array
    a: jax.Array
    b: jax.Array
    C: jax.Array
    e0: jax.Array
    v0: jax.Array
    r: jax.Array
    p: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("y0", "y1", "y2", "y3", "y4", "y5")

    def __init__(
        self,
        n: int,
        *,
        A=3.25,
        B=22.0,
        a=0.1,
        b=0.05,
        C=135.0,
        e0=0.0025,
        v0=6.0,
        r=0.56,
        p=0.22,
        init=None,
        integrator=None,
        noise=None,
    ):
        self.n = check_size("n", n)
        positive = {"A": (A, "mV"), "B": (B, "mV"), "a": (a, "1/ms"), "b": (b, "1/ms"),
                    "e0": (e0, "1/ms"), "r": (r, "1/mV")}  # fmt: skip
        for name, (val, unit) in positive.items():
            check_positive(name, val, unit)
        check_nonnegative("C", C)
        par = node_params(n, A=A, B=B, a=a, b=b, C=C, e0=e0, v0=v0, r=r, p=p)
        for name, val in par.items():
            setattr(self, name, val)
        self.inits = node_inits(self.state_names, dict.fromkeys(self.state_names, 0.0), init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def sigmoid(self, v):
        """Firing rate (1/ms) of a population with mean membrane potential ``v`` (mV)."""
        return 2.0 * self.e0 * jax.nn.sigmoid(self.r * (v - self.v0))

    def vector_field(self, state, c):
        y0, y1, y2 = state["y0"], state["y1"], state["y2"]
        y3, y4, y5 = state["y3"], state["y4"], state["y5"]
        a, b, C = self.a, self.b, self.C
        return {
            "y0": y3,
            "y1": y4,
            "y2": y5,
            "y3": self.A * a * self.sigmoid(y1 - y2) - 2.0 * a * y3 - a * a * y0,
            "y4": self.A * a * (self.p + 0.8 * C * self.sigmoid(C * y0) + c)
            - 2.0 * a * y4
            - a * a * y1,
            "y5": self.B * b * 0.25 * C * self.sigmoid(0.25 * C * y0) - 2.0 * b * y5 - b * b * y2,
        }

    def output(self, state):
        return self.sigmoid(state["y1"] - state["y2"])

    def observables(self, state, c):
        return {"eeg": state["y1"] - state["y2"]}
