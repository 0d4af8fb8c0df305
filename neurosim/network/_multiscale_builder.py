"""Builder methods for rate populations, couplings across scales and in-loop readouts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import AbstractIntegrator
from ..neurons import AbstractSpikeSource
from ..rates import AbstractCoupling, AbstractRateModel, AdditiveNoise
from ._couplings import AbstractCrossCoupling, CurrentDrive, RateDrive, SynapticActivity
from ._multiscale import CrossCoupling, NodeCoupling, RatePopulation
from ._regions import resolve_regions

__all__ = ["MultiscaleMixin", "check_rate_parts", "signal_shape"]


def check_rate_parts(model, coupling=None, noise=None, integrator=None) -> None:
    """Raise ``ValueError`` for a mismatched model / rate coupling / noise / integrator."""
    if not isinstance(model, AbstractRateModel):
        raise ValueError(
            f"model must be a neurosim.rates model (ns.rates.ReducedWongWangEI, ...), got "
            f"{type(model).__name__}"
        )
    if coupling is not None:
        if not isinstance(coupling, AbstractCoupling):
            raise ValueError(
                f"coupling must be a neurosim.rates coupling or None, got {type(coupling).__name__}"
            )
        if coupling.n != model.n:
            raise ValueError(
                f"coupling weights are ({coupling.n}, {coupling.n}) but the model has "
                f"{model.n} nodes; give weights of shape ({model.n}, {model.n})"
            )
    if noise is not None:
        if not isinstance(noise, AdditiveNoise):
            raise ValueError(f"noise must be ns.rates.AdditiveNoise or None, got {noise!r}")
        unknown = sorted(set(noise.sigma) - set(model.state_names))
        if unknown:
            raise ValueError(
                f"noise on unknown state variables {unknown}; the model has "
                f"{list(model.state_names)}"
            )
        for name, s in noise.sigma.items():
            if s.ndim > 1 or (s.ndim == 1 and s.shape[0] not in (1, model.n)):
                raise ValueError(
                    f"noise sigma[{name!r}] must be a scalar or ({model.n},), got {s.shape}"
                )
    if integrator is not None and not isinstance(integrator, AbstractIntegrator):
        raise ValueError(
            f"integrator must be an ns.integrators object (e.g. ns.integrators.Heun()), "
            f"got {integrator!r}"
        )


def signal_shape(model, variable: str | None, what: str):
    """Shape of a node signal (output, state variable or observable); checked to be (n,)."""
    x0 = jax.eval_shape(model.init, jax.random.key(0), 0.1)
    c0 = jax.eval_shape(model.output, x0)
    if variable is None:
        shape = c0.shape
    elif variable in x0:
        shape = x0[variable].shape
    else:
        obs = jax.eval_shape(
            model.observables, x0, jax.ShapeDtypeStruct(c0.shape, jnp.result_type(float))
        )
        if variable not in obs:
            raise ValueError(
                f"{what}: {type(model).__name__} has no state variable or observable "
                f"{variable!r}; it has {list(x0) + list(obs)}"
            )
        shape = obs[variable].shape
    if tuple(shape) != (model.n,):
        raise ValueError(
            f"{what}: the node signal {variable or 'output'!r} has shape {tuple(shape)}, but "
            f"cross-scale couplings and readouts need one value per node ({model.n},); pick a "
            "scalar state variable or observable with variable="
        )
    return shape


def _node_map(nodes, n_regions: int, n_nodes: int, what: str) -> tuple[int, ...]:
    if nodes is None:
        if n_regions != n_nodes:
            raise ValueError(
                f"{what}: {n_regions} regions but {n_nodes} nodes; give regions= with one "
                f"region per node, or nodes= (the node index of each region)"
            )
        return ()
    arr = np.asarray(nodes)
    if arr.shape != (n_regions,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{what}: nodes must be an integer array with one node index per region, shape "
            f"({n_regions},); got {nodes!r:.80}"
        )
    if arr.min() < 0 or arr.max() >= n_nodes:
        raise ValueError(f"{what}: nodes must lie in [0, {n_nodes}), got {arr.tolist()}")
    if np.array_equal(arr, np.arange(n_nodes)):
        return ()
    return tuple(int(i) for i in arr)


def _delay(delay, what: str) -> float:
    if isinstance(delay, bool) or np.ndim(delay) != 0:
        raise ValueError(
            f"{what}: delay must be one number (ms, homogeneous), got {delay!r}; per-edge "
            "delays of rate couplings go into the coupling (delays=)"
        )
    d = float(delay)
    if not np.isfinite(d) or d < 0:
        raise ValueError(f"{what}: delay must be finite and >= 0 ms, got {delay!r}")
    return d


class MultiscaleMixin:
    """:class:`neurosim.NetworkBuilder` methods for rate populations, couplings, readouts."""

    def _rate_index(self, name: str) -> int:
        for r, rp in enumerate(self._rate_pops):
            if rp.name == name:
                return r
        return -1

    def _known(self) -> list[str]:
        return (
            [p["name"] for p in self._pops]
            + [g for p in self._pops for g, *_ in p["groups"]]
            + [rp.name for rp in self._rate_pops]
        )

    def _side(self, name: str, role: str):
        """``("rate", r, None)`` or ``("spiking", i, slice)`` for a population name."""
        r = self._rate_index(name) if isinstance(name, str) else -1
        if r >= 0:
            return "rate", r, None
        for i, p in enumerate(self._pops):
            if p["name"] == name:
                return "spiking", i, (0, p["neuron"].n)
            for g, a, b in p["groups"]:
                if g == name:
                    return "spiking", i, (a, b)
        raise ValueError(f"{role} {name!r} is not a population or group; known: {self._known()}")

    # -- rate populations ------------------------------------------------------------------
    def add_rate_population(
        self,
        name: str,
        model: AbstractRateModel,
        *,
        noise: AdditiveNoise | None = None,
        integrator: AbstractIntegrator | None = None,
    ) -> str:
        """Add a population of ``model.n`` neural-mass nodes (regions).

        Args:
            name: population name (used in couplings and traces, e.g. ``"wong.S_e"``).
            model: a rate model (``ns.rates.ReducedWongWangEI(n)``, ...).
            noise: additive noise (``ns.rates.AdditiveNoise``) or None.
            integrator: drift integrator (default: the model's, ``ns.integrators.Heun()``);
                the node input ``c`` is held over each step. ``noise`` and ``integrator``
                replace the model's own (``model.with_integration``).

        Returns:
            The name.

        Example:
            >>> import neurosim as ns
            >>> b = ns.NetworkBuilder()
            >>> b.add_rate_population("wong", ns.rates.ReducedWongWangEI(4))
            'wong'
        """
        check_rate_parts(model, None, noise, integrator)
        self._new_name(name)
        if noise is not None or integrator is not None:
            model = model.with_integration(integrator=integrator, noise=noise)
        self._rate_pops.append(RatePopulation(name=name, model=model))
        return name

    # -- couplings -------------------------------------------------------------------------
    def couple(
        self,
        pre: str,
        post: str,
        coupling,
        *,
        delay=0.0,
        regions=None,
        nodes=None,
        name: str | None = None,
    ) -> str:
        """Couple two populations across or within scales.

        * rate -> rate (``pre == post``, a rate population): ``coupling`` is a connectome
          coupling (``ns.rates.LinearCoupling(W, G, delays=...)``, ``DifferenceCoupling``,
          ``KuramotoCoupling``) with per-edge delays of its own;
        * spiking -> rate: :class:`~neurosim.network.PopulationActivity` or
          :class:`~neurosim.network.SynapticActivity` from a spiking population or group to a
          rate population;
        * rate -> spiking: :class:`~neurosim.network.CurrentDrive` (pA into neurons) or
          :class:`~neurosim.network.RateDrive` (the rate of a spike-source population).

        Args:
            pre, post: population (or, on the spiking side, group) names.
            coupling: the coupling object (above).
            delay: cross-scale couplings: homogeneous delay (ms, >= 0), rounded to whole
                steps; rate -> rate delays are per edge, in the coupling.
            regions: how the spiking neurons split into regions (cross-scale only): None
                (one region per node: equal contiguous blocks), an int (that many equal
                blocks), a list of group names, or an integer array (region per neuron).
            nodes: node index of each region (default: region ``k`` is node ``k``).
            name: default ``"pre->post"``.

        Returns:
            The coupling's name.

        Example:
            >>> import jax, numpy as np, neurosim as ns
            >>> b = ns.NetworkBuilder(key=jax.random.key(0))
            >>> b.add_population("E", ns.neurons.LIF(200), groups={"E0": 100, "E1": 100})
            'E'
            >>> b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
            'wong'
            >>> b.couple("wong", "wong", ns.rates.LinearCoupling(np.ones((2, 2)), G=0.1))
            'wong->wong'
            >>> b.couple("wong", "E", ns.network.CurrentDrive(G=300.0), delay=2.0)
            'wong->E'
            >>> b.couple("E", "wong", ns.network.PopulationActivity(G=0.01), regions=["E0", "E1"])
            'E->wong'
        """
        kind_pre, i_pre, sl_pre = self._side(pre, "pre")
        kind_post, i_post, sl_post = self._side(post, "post")
        if name is None:
            name, k = f"{pre}->{post}", 1
            while name in self._names:
                k += 1
                name = f"{pre}->{post}#{k}"
        what = f"coupling {name!r}"
        if isinstance(coupling, AbstractCoupling):
            if kind_pre != "rate" or kind_post != "rate" or i_pre != i_post:
                raise ValueError(
                    f"{what}: a {type(coupling).__name__} couples the nodes of one rate "
                    f"population with each other (pre == post == a rate population), got "
                    f"{pre!r} -> {post!r}; use PopulationActivity / SynapticActivity / "
                    "CurrentDrive / RateDrive across scales"
                )
            if regions is not None or nodes is not None:
                raise ValueError(f"{what}: regions= and nodes= are for cross-scale couplings")
            if _delay(delay, what) != 0.0:
                raise ValueError(
                    f"{what}: delay={delay!r}; rate -> rate delays are per edge: give them to "
                    f"the coupling, {type(coupling).__name__}(W, G, delays=...)"
                )
            check_rate_parts(self._rate_pops[i_pre].model, coupling)
            self._new_name(name)
            self._node_couplings.append(NodeCoupling(name=name, pop=i_pre, coupling=coupling))
            return name
        if not isinstance(coupling, AbstractCrossCoupling):
            raise ValueError(
                f"{what}: coupling must be a rate coupling (ns.rates.LinearCoupling, ...) or a "
                "cross-scale coupling (ns.network.PopulationActivity, SynapticActivity, "
                f"CurrentDrive, RateDrive), got {type(coupling).__name__}"
            )
        want = tuple(coupling.direction.split("->"))
        if (kind_pre, kind_post) != want:
            raise ValueError(
                f"{what}: {type(coupling).__name__} couples "
                f"{coupling.direction.replace('->', ' -> ')}, but {pre!r} is a {kind_pre} "
                f"and {post!r} a {kind_post} population"
            )
        d = _delay(delay, what)
        spk, sl, rate = (
            (i_pre, sl_pre, i_post) if kind_pre == "spiking" else (i_post, sl_post, i_pre)
        )
        pop = self._pops[spk]
        model = self._rate_pops[rate].model
        n_sl = sl[1] - sl[0]
        n_default = model.n if nodes is None else int(np.size(nodes))
        rm = resolve_regions(regions, n_sl, pop["groups"], sl[0], n_default, what)
        node_map = _node_map(nodes, rm.n_regions, model.n, what)
        receptor = -1
        if kind_pre == "spiking":
            if model.coupling_shape() != ():
                raise ValueError(
                    f"{what}: {type(model).__name__} takes a coupling input of shape "
                    f"(n, {', '.join(map(str, model.coupling_shape()))}); spiking -> rate "
                    "couplings need a model with one input per node"
                )
            if isinstance(coupling, SynapticActivity):
                names = [rc.name for rc in pop["receptors"]]
                if coupling.receptor not in names:
                    raise ValueError(
                        f"{what}: population {pop['name']!r} has no receptor "
                        f"{coupling.receptor!r}; it has {names} (receptors are made by connect)"
                    )
                receptor = names.index(coupling.receptor)
        else:
            signal_shape(model, coupling.variable, what)
            target = pop["neuron"]
            if isinstance(coupling, CurrentDrive) and isinstance(target, AbstractSpikeSource):
                raise ValueError(
                    f"{what}: {post!r} is a spike source ({type(target).__name__}) and has no "
                    "membrane for a CurrentDrive; use RateDrive, or target a neuron population"
                )
            if isinstance(coupling, RateDrive) and not isinstance(target, AbstractSpikeSource):
                raise ValueError(
                    f"{what}: a RateDrive sets the rate of a spike source, but {post!r} is a "
                    f"{type(target).__name__} population; add a source population "
                    "(ns.neurons.PoissonSource(n, rate=0.0)) and connect it, or use CurrentDrive"
                )
        coupling = coupling.bind(rm.n_regions)
        self._new_name(name)
        self._cross.append(
            CrossCoupling(
                name=name,
                spiking=spk,
                spiking_slice=sl,
                rate=rate,
                nodes=node_map,
                regions=rm,
                receptor=receptor,
                delay=d,
                coupling=coupling,
            )
        )
        return name
