"""Builder (b): the Digital Twin Brain design, one E/I spiking population per region.

All regions are one neuron population (one group per region) so the network compiles once
whatever the number of regions: region ``r`` occupies the index range
``[start[r], start[r] + size[r])``, its ``n_e[r]`` excitatory neurons first, then its
inhibitory ones. Three stored-CSR projections connect the population to itself:

* ``local_E`` / ``local_I``: block-diagonal; every neuron receives exactly ``k_e`` synapses
  from distinct E neurons and ``k_i`` from distinct I neurons of its own region (no autapses);
* ``long_range``: E -> E between regions, with per-synapse delays ``L[i, j] / velocity`` (ms).
  Each E neuron of region ``i`` receives exactly ``k_ext`` of them; over the region, the
  ``n_e[i] * k_ext`` synapses are split among source regions ``j`` in proportion to
  ``W[i, j]`` (diagonal excluded) by largest-remainder rounding, so the count from ``j`` to ``i``
  differs from ``n_e[i] k_ext W[i, j] / sum_j W[i, j]`` by less than one synapse and the
  counts sum to ``n_e[i] k_ext`` exactly. Source neurons are drawn uniformly among region
  ``j``'s E neurons. A region without inputs (``W[i, :] == 0``) gets no long-range synapses.

The in-degree split ``k_e : k_i : k_ext = 57 : 14 : 29`` follows DTB's 4/7 : 1/7 : 2/7 of an
average in-degree of 100 (E:I = 0.8:0.2, inter-region connections excitatory only; see the
Digital Twin Brain's network generation, Lu et al. 2023, arXiv:2308.01241).

Delays: the engine delivers a spike after its one-step minimum plus ``round(delay / dt)``
steps (round half to even, :mod:`neurosim.network._delays`), so a long-range spike arrives
``dt + round(L / (v dt)) dt`` ms after it was emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from .. import init, inputs, neurons, ops, synapses
from .._validate import check_literal
from ..network import NetworkBuilder
from ._connectome import Connectome

__all__ = ["RegionLayout", "SpikingBrain", "dtb_network", "apportion"]

Cells = Literal["e", "i", "all"]

_RESERVED = ("brain", "local_E", "local_I", "long_range", "background")


@dataclass(frozen=True)
class RegionLayout:
    """Where each region's neurons are in the single population.

    Attributes:
        labels: region labels (``connectome.labels``); ``group_names`` the network's groups.
        start: first neuron of each region ``(R,)``; ``size``: neurons per region;
        n_e: excitatory neurons per region (the first ``n_e[r]`` of the region).
    """

    labels: tuple[str, ...]
    group_names: tuple[str, ...]
    start: np.ndarray
    size: np.ndarray
    n_e: np.ndarray

    @property
    def n(self) -> int:
        """Total number of neurons."""
        return int(self.size.sum())

    @property
    def n_regions(self) -> int:
        return len(self.labels)

    @property
    def region_of(self) -> np.ndarray:
        """Region index of every neuron ``(n,)``."""
        return np.repeat(np.arange(self.n_regions), self.size)

    @property
    def is_excitatory(self) -> np.ndarray:
        """True for the excitatory neurons ``(n,)``."""
        local = np.arange(self.n) - np.repeat(self.start, self.size)
        return local < np.repeat(self.n_e, self.size)

    def e_range(self, r: int) -> tuple[int, int]:
        """Global ``(start, stop)`` of region ``r``'s excitatory neurons."""
        return int(self.start[r]), int(self.start[r] + self.n_e[r])

    def i_range(self, r: int) -> tuple[int, int]:
        """Global ``(start, stop)`` of region ``r``'s inhibitory neurons."""
        return int(self.start[r] + self.n_e[r]), int(self.start[r] + self.size[r])

    def region_rates(self, result, bin_ms: float = 10.0, cells: Cells = "e", t_start=None):
        """Per-region firing rate (Hz) in bins of ``bin_ms`` ms from a simulation's spikes.

        Args:
            result: a :class:`neurosim.SimulationResult` of the network.
            bin_ms: bin width (ms), > 0.
            cells: ``"e"`` (excitatory), ``"i"`` or ``"all"``.
            t_start: start of the first bin (ms; default the run's start).

        Returns:
            ``(bin centres (ms) (T,), rates (T, R) Hz)``.
        """
        check_literal("cells", cells, Cells)
        if not bin_ms > 0:
            raise ValueError(f"bin_ms must be > 0 ms, got {bin_ms!r}")
        t0 = result.t_start if t_start is None else float(t_start)
        t1 = result.t_start + result.simulated_ms
        n_bins = int(np.floor((t1 - t0) / bin_ms + 1e-9))
        exc = self.is_excitatory
        keep = {"e": exc, "i": ~exc, "all": np.ones_like(exc)}[cells]
        counts_per_region = np.bincount(self.region_of[keep], minlength=self.n_regions)
        idx = result.spike_indices
        b = np.floor((result.spike_times - t0) / bin_ms).astype(np.int64)
        m = (b >= 0) & (b < n_bins) & (idx >= 0) & (idx < self.n)
        m &= keep[np.clip(idx, 0, self.n - 1)]
        hist = np.zeros((n_bins, self.n_regions))
        np.add.at(hist, (b[m], self.region_of[idx[m]]), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = hist / (counts_per_region[None, :] * bin_ms * 1e-3)
        return t0 + (np.arange(n_bins) + 0.5) * bin_ms, rates


@dataclass(frozen=True)
class SpikingBrain:
    """What :func:`dtb_network` returns.

    Attributes:
        network: the :class:`neurosim.Network` (population ``"brain"``, one group per region).
        layout: the :class:`RegionLayout` of the neurons.
        long_range_counts: ``(R, R)`` synapses from region ``j`` to region ``i`` at ``[i, j]``.
        connectome: the connectome used.
        velocity: conduction velocity (m/s).
    """

    network: object
    layout: RegionLayout
    long_range_counts: np.ndarray
    connectome: Connectome
    velocity: float


def apportion(total: int, weights) -> np.ndarray:
    """Split ``total`` items in proportion to ``weights`` (largest remainder, Hamilton).

    Each share is ``floor(total w_j / sum w)`` or one more; the shares sum to ``total``; ties of
    the remainders go to the lower index. All-zero weights give zeros.
    """
    w = np.asarray(weights, np.float64)
    s = w.sum()
    if total == 0 or s <= 0:
        return np.zeros(w.shape, np.int64)
    q = total * w / s
    base = np.floor(q).astype(np.int64)
    rest = int(total - base.sum())
    order = np.argsort(-(q - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _rng(key) -> np.random.Generator:
    data = key
    if jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
    return np.random.default_rng([int(x) for x in np.asarray(data).ravel()])


def _sizes(neurons_per_region, n_regions: int) -> np.ndarray:
    arr = np.asarray(neurons_per_region)
    if arr.ndim == 0:
        arr = np.full(n_regions, arr)
    if arr.shape != (n_regions,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"neurons_per_region must be an integer or {n_regions} integers (one per region), "
            f"got {neurons_per_region!r}"
        )
    return arr.astype(np.int64)


def _choose(rng, n_targets: int, n_sources: int, k: int, self_offset: int | None):
    """``(n_targets, k)`` distinct source indices per target; target t != source t + offset."""
    r = rng.random((n_targets, n_sources))
    if self_offset is not None:
        t = np.arange(n_targets)
        s = t - self_offset
        ok = (s >= 0) & (s < n_sources)
        r[t[ok], s[ok]] = np.inf
    return np.argpartition(r, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((n_targets, 0), int)


def _csr(pre, post, n: int, weight, *extra):
    """CSR in presynaptic order (stable), and ``extra`` per-synapse arrays in the same order."""
    order = np.argsort(pre, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    conn = ops.CSR.from_arrays(indptr, post[order].astype(np.int32), weight, n_post=n)
    return (conn, *(np.asarray(x)[order] for x in extra))


def _receptor_table(receptors):
    """``{"E"|"I": ((connect kwargs, weight scale, name suffix), ...)}`` from ``receptors``."""
    if not isinstance(receptors, dict) or set(receptors) != {"E", "I"}:
        raise ValueError(f"receptors must be a dict with keys 'E' and 'I', got {receptors!r:.80}")
    out = {}
    for sign, items in receptors.items():
        rows = []
        for item in items:
            ok = isinstance(item, tuple) and len(item) == 2
            if not ok or not isinstance(item[0], synapses.SynapseModel) or not item[1] >= 0:
                raise ValueError(f"receptors[{sign!r}] entries must be (SynapseModel, scale >= 0), "
                                 f"got {item!r:.80}")  # fmt: skip
            rows.append((dict(synapse=item[0]), float(item[1]), "_" + item[0].name))
        out[sign] = tuple(rows)
    return out


def _group_names(labels) -> tuple[str, ...]:
    names = []
    for lab in labels:
        g = "".join(c if c not in "./ " else "_" for c in lab)
        if g in _RESERVED:
            g = f"region_{g}"
        names.append(g)
    if len(set(names)) != len(names):
        names = [f"r{k}_{g}" for k, g in enumerate(names)]
    return tuple(names)


def dtb_network(
    connectome: Connectome,
    *,
    neurons_per_region=200,
    e_fraction: float = 0.8,
    k_e: int = 57,
    k_i: int = 14,
    k_ext: int = 29,
    w_e: float = 0.2,
    w_i: float = 6.0,
    w_ext: float | None = None,
    tau_e: float = 5.0,
    tau_i: float = 10.0,
    e_e: float = 0.0,
    e_i: float = -80.0,
    velocity: float = 3.0,
    background=None,
    neuron=None,
    receptors=None,
    key=None,
) -> SpikingBrain:
    """The Digital Twin Brain design on a connectome: E/I LIF populations per region.

    See the module docstring for the layout, the wiring rules and the delay rounding.

    Args:
        connectome: the structural connectome (``W[i, j]`` from j to i; its diagonal is
            ignored, within-region wiring is the local E/I connectivity).
        neurons_per_region: neurons per region, an integer or one per region (>= 2).
        e_fraction: fraction of excitatory neurons per region (rounded), in (0, 1).
        k_e, k_i: local in-degree from the region's E and I neurons (per neuron).
        k_ext: long-range in-degree of each E neuron (from other regions' E neurons).
        w_e, w_i: local E and I conductance increments (nS).
        w_ext: long-range conductance increment (nS); default ``w_e``.
        tau_e, tau_i: decay of the excitatory / inhibitory conductances (ms).
        e_e, e_i: reversal potentials (mV).
        velocity: conduction velocity (m/s = mm/ms) for the long-range delays, > 0.
        background: a current (``ns.inputs``, pA) injected into every neuron; default an
            Ornstein–Uhlenbeck current (DTB's background) with mean 110 pA, sd 50 pA,
            tau 10 ms. With the default weights this is an inhibition-dominated,
            fluctuation-driven state (E and I at ~5-7 Hz on TVB's 76 regions); without
            recurrence the same input gives ~21 Hz. Much stronger E weights (e.g. w_e = 0.3 nS
            with w_i = 2 nS) run away to ~200-400 Hz.
        neuron: the neuron model of all ``n`` neurons; default LIF with ``tau_m = 20 ms,
            g_L = 10 nS, E_L = V_reset = -60 mV, V_th = -50 mV, t_ref = 2 ms``, ``v(0)``
            uniform in [-60, -50] mV.
        receptors: None (one exponential COBA receptor per sign, ``tau_e``/``e_e`` and
            ``tau_i``/``e_i``), or ``{"E": ((model, scale), ...), "I": (...)}`` of receptor
            presets (:class:`neurosim.synapses.SynapseModel`, e.g. DTB's AMPA + NMDA and
            GABA_A + GABA_B) and weight scales: every E (I) synapse then acts on each E (I)
            receptor with weight ``w x scale`` (projections ``local_E_<name>``,
            ``long_range_<name>``, ``local_I_<name>``; ``tau_*``/``e_*`` unused).
        key: random key for the wiring (default ``jax.random.key(0)``).

    Returns:
        A :class:`SpikingBrain` (network, layout, long-range counts, connectome, velocity).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> con = ns.connectome.Connectome(np.ones((3, 3)), centres=np.eye(3) * 30.0)
        >>> brain = ns.connectome.dtb_network(con, neurons_per_region=40, k_e=8, k_i=2, k_ext=4)
        >>> brain.layout.n, int(brain.long_range_counts.sum())
        (120, 384)
    """
    if not isinstance(connectome, Connectome):
        raise TypeError(f"connectome must be a ns.connectome.Connectome, got {type(connectome)}")
    R = connectome.n
    size = _sizes(neurons_per_region, R)
    if not 0.0 < float(e_fraction) < 1.0:
        raise ValueError(f"e_fraction must lie in (0, 1), got {e_fraction!r}")
    n_e = np.rint(size * float(e_fraction)).astype(np.int64)
    n_i = size - n_e
    if (n_e < 1).any() or (n_i < 1).any():
        r = int(np.argmin(np.minimum(n_e, n_i)))
        raise ValueError(
            f"region {connectome.labels[r]!r} with {size[r]} neurons has {n_e[r]} E and "
            f"{n_i[r]} I neurons; each region needs at least one of each (more neurons_per_region)"
        )
    for name, k in (("k_e", k_e), ("k_i", k_i), ("k_ext", k_ext)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {k!r}")
    if k_e > n_e.min() - 1:
        raise ValueError(
            f"k_e={k_e} distinct local E inputs need > {k_e} E neurons per region, but the "
            f"smallest region has {n_e.min()}; lower k_e or raise neurons_per_region"
        )
    if k_i > n_i.min() - 1 and k_i > 0:
        # E targets could take n_i inputs, but I targets exclude themselves: n_i - 1 at most.
        raise ValueError(
            f"k_i={k_i} distinct local I inputs need > {k_i} I neurons per region, but the "
            f"smallest region has {n_i.min()}; lower k_i or raise neurons_per_region"
        )
    for name, val in (("w_e", w_e), ("w_i", w_i), ("tau_e", tau_e), ("tau_i", tau_i)):
        if not np.isfinite(val) or val < 0 or (name.startswith("tau") and val == 0):
            raise ValueError(f"{name} must be finite and {'> 0' if 'tau' in name else '>= 0'}, "
                             f"got {val!r}")  # fmt: skip
    w_ext = w_e if w_ext is None else w_ext
    if not np.isfinite(w_ext) or w_ext < 0:
        raise ValueError(f"w_ext must be finite and >= 0 nS, got {w_ext!r}")
    delays_ms = connectome.delays(velocity)
    n = int(size.sum())
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    rng = _rng(key if key is not None else jax.random.key(0))

    # Local, block-diagonal E and I inputs.
    pre_e, post_e, pre_i, post_i = [], [], [], []
    for r in range(R):
        s0, sz, ne = int(start[r]), int(size[r]), int(n_e[r])
        tgt = np.repeat(np.arange(sz), k_e)
        pre_e.append(s0 + _choose(rng, sz, ne, k_e, 0).ravel())
        post_e.append(s0 + tgt)
        tgt = np.repeat(np.arange(sz), k_i)
        pre_i.append(s0 + ne + _choose(rng, sz, sz - ne, k_i, ne).ravel())
        post_i.append(s0 + tgt)

    # Long-range E -> E: counts per region pair follow the weights (diagonal excluded).
    W = np.array(connectome.weights)
    np.fill_diagonal(W, 0.0)
    counts = np.zeros((R, R), np.int64)
    pre_l, post_l, del_l = [], [], []
    for i in range(R):
        counts[i] = apportion(int(n_e[i]) * k_ext, W[i])
        if counts[i].sum() == 0:
            continue
        src_region = rng.permutation(np.repeat(np.arange(R), counts[i]))
        src = start[src_region] + np.floor(rng.random(src_region.size) * n_e[src_region])
        pre_l.append(src.astype(np.int64))
        post_l.append(start[i] + np.repeat(np.arange(n_e[i]), k_ext))
        del_l.append(delays_ms[i, src_region])

    def cat(xs):
        return np.concatenate(xs) if xs else np.zeros(0, np.int64)

    pre_e, post_e, pre_i, post_i = cat(pre_e), cat(post_e), cat(pre_i), cat(post_i)

    if neuron is None:
        neuron = neurons.LIF(n, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0,
                             g_l=10.0, v_init=init.Uniform(-60.0, -50.0))  # fmt: skip
    if not isinstance(neuron, neurons.AbstractNeuron) or neuron.n != n:
        raise ValueError(
            f"neuron must be a neuron model with n={n} (all regions' neurons), got {neuron!r:.80}"
        )
    if background is None:
        background = inputs.OUCurrent(mean=110.0, std=50.0, tau=10.0)
    labels = connectome.labels
    groups = _group_names(labels)
    b = NetworkBuilder(key=key)
    b.add_population("brain", neuron, groups=dict(zip(groups, size.tolist(), strict=True)))
    if receptors is None:
        exc = dict(synapse=synapses.Exponential(tau_e), output=synapses.COBA(e_e))
        inh = dict(synapse=synapses.Exponential(tau_i), output=synapses.COBA(e_i))
        rec = {"E": ((exc, 1.0, ""),), "I": ((inh, 1.0, ""),)}
    else:
        rec = _receptor_table(receptors)
    for sign, pre, post, w in (("E", pre_e, post_e, w_e), ("I", pre_i, post_i, w_i)):
        for kw, scale, sfx in rec[sign]:
            c = _csr(pre, post, n, w * scale)[0]
            b.connect("brain", "brain", c, name=f"local_{sign}{sfx}", **kw)
    if counts.sum() > 0:
        for kw, scale, sfx in rec["E"]:
            c_l, d_l = _csr(cat(pre_l), cat(post_l), n, w_ext * scale, cat(del_l))
            b.connect("brain", "brain", c_l, delay=d_l, name="long_range" + sfx, **kw)
    b.add_input("brain", background, name="background")
    layout = RegionLayout(labels=labels, group_names=groups, start=start, size=size, n_e=n_e)
    return SpikingBrain(
        network=b.build(),
        layout=layout,
        long_range_counts=counts,
        connectome=connectome,
        velocity=float(velocity),
    )
