"""BOLD as an in-loop readout: Balloon–Windkessel haemodynamics stepped inside the simulation."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import replace_static
from ..network import AbstractReadout
from ._balloon import BalloonState, BalloonWindkessel
from ._run import steps_per

__all__ = ["BOLDReadout"]


class BOLDReadout(AbstractReadout):
    r"""Balloon–Windkessel BOLD per region, stepped inside the loop and sampled every TR.

    A ``"value"`` readout: add it with :meth:`neurosim.NetworkBuilder.add_readout` with
    ``source=`` a rate population (its node output, or ``variable=``) or an earlier readout,
    e.g. a :class:`~neurosim.network.PopulationRate` of a spiking population (Hz) — so the
    drive ``z`` is one value per region each step. A spiking population cannot be its source
    directly (chain it after a population-rate readout).

    Clocks: the haemodynamics (:class:`BalloonWindkessel`, RK4) advance once every
    ``decimate`` simulation steps, by ``decimate * dt`` with the mean drive of those steps
    (the decimated clock of :func:`run_bold`). The readout's value is the BOLD sampled at the
    end of each TR and held until the next sample (0, the resting BOLD, before the first), so
    ``ns.Trace(name, every=readout.every(dt))`` records exactly one sample per TR, the same
    series as ``run_bold(model, recorded_drive, dt, tr, decimate=decimate)``. With
    ``tr=None`` the value is the BOLD after every haemodynamic step. TR boundaries are counted
    from step 0 (``t = 0``) with the integer step counter.

    State (recordable as ``"name.var"``): ``s, f, v, q`` (the haemodynamic state), ``acc``
    (drive summed since the last haemodynamic step) and ``y`` (the held sample).

    Args:
        tr: repetition time (ms), a whole multiple of ``decimate * dt``; None: no sampling.
        decimate: simulation steps per haemodynamic step (integer >= 1).
        model: a :class:`BalloonWindkessel` whose parameters to use (its size is rebound);
            default: the published set documented there.
        **params: instead of ``model``, keyword parameters of :class:`BalloonWindkessel`
            (``kappa``, ``gamma``, ``tau``, ``alpha``, ``E0``, ``V0``, ``k1``–``k3``,
            ``efficacy``).

    Example:
        >>> import jax, neurosim as ns
        >>> b = ns.NetworkBuilder()
        >>> b.add_population("P", ns.neurons.PoissonSource(40, rate=20.0))
        'P'
        >>> b.add_readout("rate", ns.network.PopulationRate(tau=10.0), source="P", regions=2)
        'rate'
        >>> b.add_readout("bold", ns.bold.BOLDReadout(tr=100.0, decimate=10), source="rate")
        'bold'
        >>> ns.bold.BOLDReadout(tr=100.0, decimate=10).every(0.1)
        1000
    """

    model: BalloonWindkessel
    tr: float | None = eqx.field(static=True)
    decimate: int = eqx.field(static=True)
    n: int | None = eqx.field(static=True, default=None)
    signal: ClassVar[str] = "value"

    def __init__(
        self,
        tr: float | None = 2000.0,
        *,
        decimate: int = 1,
        model: BalloonWindkessel | None = None,
        n: int | None = None,
        **params,
    ):
        if tr is not None:
            if isinstance(tr, bool) or not isinstance(tr, (int, float)) or not tr > 0:
                raise ValueError(f"tr must be a repetition time > 0 ms (or None), got {tr!r}")
            tr = float(tr)
        if isinstance(decimate, bool) or not isinstance(decimate, int) or decimate < 1:
            raise ValueError(
                f"decimate must be an integer >= 1 (simulation steps per haemodynamic step), "
                f"got {decimate!r}"
            )
        if model is not None and params:
            raise ValueError(
                f"pass either model= or BalloonWindkessel parameters, not both (got model and "
                f"{sorted(params)})"
            )
        if model is None:
            model = BalloonWindkessel(1 if n is None else n, **params)
        elif not isinstance(model, BalloonWindkessel):
            raise TypeError(
                f"model must be a neurosim.bold.BalloonWindkessel, got {type(model).__name__}"
            )
        self.model = model if n is None else replace_static(model, n=int(n))
        self.tr = tr
        self.decimate = decimate
        self.n = n

    def bind(self, n: int):
        """A copy sized for ``n`` regions."""
        return replace_static(self, n=int(n), model=replace_static(self.model, n=int(n)))

    def every(self, dt: float) -> int:
        """Simulation steps per TR at step ``dt`` (ms): the ``every=`` of its trace.

        Raises ValueError if ``tr`` is not a whole multiple of ``decimate * dt``.
        """
        if self.tr is None:
            return self.decimate
        return steps_per(self.tr, float(dt) * self.decimate) * self.decimate

    def init(self, key, dt) -> dict:
        """Rest (``s = 0``, ``f = v = q = 1``), no accumulated drive, held sample 0."""
        del key
        n = self._size()
        try:
            dt_value = float(dt)
        except (TypeError, jax.errors.ConcretizationTypeError):
            dt_value = None  # traced dt: checked by the caller's own dt
        if dt_value is not None:
            self.every(dt_value)  # the TR must be a whole number of haemodynamic steps
        one = jnp.ones((n,), jnp.result_type(float))
        zero = jnp.zeros_like(one)
        return {"s": zero, "f": one, "v": one, "q": one, "acc": zero, "y": zero}

    def step(self, state, drive, i, dt, key):
        """Accumulate ``drive`` ``(n,)``; every ``decimate`` steps advance the haemodynamics,
        at the end of each TR take a sample; returns ``(state, held sample)``."""
        del key
        acc = state["acc"] + jnp.asarray(drive, state["acc"].dtype)
        done = jnp.asarray(i, jnp.int32) + 1  # steps finished after this one
        tick = done % self.decimate == 0
        hemo = BalloonState(s=state["s"], f=state["f"], v=state["v"], q=state["q"])
        new, bold = self.model.step(hemo, acc / self.decimate, i, dt * self.decimate, None)
        hemo = jax.tree.map(lambda a, b: jnp.where(tick, a, b), new, hemo)
        if self.tr is None:
            sample = tick
        else:
            per_tr = jnp.round(self.tr / dt).astype(jnp.int32)  # simulation steps per TR
            sample = done % per_tr == 0
        y = jnp.where(sample, bold, state["y"])
        acc = jnp.where(tick, jnp.zeros_like(acc), acc)
        out = {"s": hemo.s, "f": hemo.f, "v": hemo.v, "q": hemo.q, "acc": acc, "y": y}
        return out, y
