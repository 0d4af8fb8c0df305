"""Builder method for in-loop readouts (population rate, LFP proxy, BOLD and other values)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._multiscale import ReadoutSlot
from ._multiscale_builder import signal_shape
from ._readouts import SIGNALS, AbstractReadout
from ._regions import resolve_regions

__all__ = ["ReadoutMixin"]


class ReadoutMixin:
    """:meth:`neurosim.NetworkBuilder.add_readout`."""

    # -- readouts --------------------------------------------------------------------------
    def add_readout(
        self, name: str, readout, *, source: str, regions=None, variable: str | None = None
    ) -> str:
        """Add an in-loop readout (recorded with ``ns.Trace(name)``; see
        :mod:`neurosim.network._readouts`).

        Args:
            name: readout name.
            readout: :class:`~neurosim.network.PopulationRate`,
                :class:`~neurosim.network.SynapticLFP`, or any component with
                ``init(key, dt)``/``step(state, drive, i, dt, key)`` that takes a value (e.g.
                a BOLD model); size-generic ones are bound with ``bind(n)``.
            source: a spiking population or group (spikes / currents readouts), a rate
                population (its output, or ``variable``) or an earlier readout (its value).
            regions: spiking sources: the regions (as in :meth:`couple`; default one region).
            variable: rate sources: node state variable or observable (default: output).

        Returns:
            The name.

        Example:
            >>> import jax, neurosim as ns
            >>> b = ns.NetworkBuilder()
            >>> b.add_population("P", ns.neurons.PoissonSource(100, rate=10.0))
            'P'
            >>> b.add_readout("rate", ns.network.PopulationRate(tau=10.0), source="P", regions=4)
            'rate'
        """
        what = f"readout {name!r}"
        signal = readout.signal if isinstance(readout, AbstractReadout) else "value"
        if signal not in SIGNALS:
            raise ValueError(f"{what}: signal must be one of {SIGNALS}, got {signal!r}")
        if not (
            callable(getattr(readout, "init", None)) and callable(getattr(readout, "step", None))
        ):
            raise ValueError(
                f"{what}: a readout needs init(key, dt) and step(state, drive, i, dt, key); got "
                f"{type(readout).__name__}"
            )
        readouts = [ro.name for ro in self._readouts]
        receptors, rm, sl, var = (), None, (0, 0), None
        if source in readouts:
            kind, src = "readout", readouts.index(source)
            n_out = self._readouts[src].n_out
        else:
            side, src, sl = self._side(source, "source")
            kind = "node" if side == "rate" else signal
            if side == "rate":
                model = self._rate_pops[src].model
                signal_shape(model, variable, what)
                n_out, var = model.n, variable
            else:
                pop = self._pops[src]
                rm = resolve_regions(regions, sl[1] - sl[0], pop["groups"], sl[0], 1, what)
                n_out = rm.n_regions
                if signal == "currents":
                    names = [rc.name for rc in pop["receptors"]]
                    missing = [r for r in readout.receptors if r not in names]
                    if missing:
                        raise ValueError(
                            f"{what}: population {pop['name']!r} has no receptor(s) {missing}; "
                            f"it has {names}"
                        )
                    receptors = tuple(names.index(r) for r in readout.receptors)
        if kind in ("node", "readout") and signal != "value":
            raise ValueError(
                f"{what}: {type(readout).__name__} reads {signal} of a spiking population, but "
                f"source {source!r} is a {'rate population' if kind == 'node' else 'readout'}"
            )
        if kind in ("spikes", "currents") and variable is not None:
            raise ValueError(f"{what}: variable= is for rate-population sources")
        if kind == "value":
            raise ValueError(
                f"{what}: {type(readout).__name__} takes a value (a node's output or a readout); "
                f"source {source!r} is a spiking population (chain it after a PopulationRate "
                "readout of that population)"
            )
        if callable(getattr(readout, "bind", None)):
            readout = readout.bind(n_out)
        self._check_readout(readout, n_out, what)
        self._new_name(name)
        self._readouts.append(
            ReadoutSlot(
                name=name,
                kind=kind,
                source=src,
                source_slice=sl,
                regions=rm,
                receptors=receptors,
                variable=var,
                n_out=n_out,
                readout=readout,
            )
        )
        return name

    @staticmethod
    def _check_readout(readout, n_out: int, what: str) -> None:
        dtype = jnp.result_type(float)
        st = jax.eval_shape(readout.init, jax.random.key(0), 0.1)
        drive = jax.ShapeDtypeStruct((n_out,), dtype)
        _, out = jax.eval_shape(
            readout.step, st, drive, jax.ShapeDtypeStruct((), jnp.int32), 0.1, jax.random.key(0)
        )
        if tuple(out.shape) != (n_out,):
            raise ValueError(
                f"{what}: {type(readout).__name__}.step returns a value of shape "
                f"{tuple(out.shape)}, but its source gives {n_out} values; it must return "
                f"shape ({n_out},)"
            )
