"""The reduced Wong–Wang + BOLD twin model on a connectome: one member's window forecast.

Shared by the twin experiment (:func:`twin_experiment`), ``neurosim assimilate`` and
``examples/assimilate_whole_brain.py``: one-population reduced Wong–Wang nodes (Deco et al.
2013; TVB defaults) coupled through a connectome with tract-length delays, additive noise on
``S``, dt = 1 ms (Heun); BOLD (:class:`neurosim.bold.BalloonWindkessel`) driven by ``S`` on a
10 ms decimated clock, sampled every TR. A member is a dict: the rate network state, the
haemodynamic state, unconstrained ``I_o`` per region (logit) and ``G``, and in ``"z"``
observation mode an affine readout (per-region offset, global log-scale).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import bold as _bold
from .. import rates as _rates
from ._params import Bounded, random_walk

__all__ = ["RWWTwin", "free_bold", "oracle_forecast", "fc_vector"]

IO_MEAN, IO_CV, IO_LO, IO_HI = 0.32, 0.03, 0.28, 0.36  # nA
G_TRUE, G_G0, G_LO, G_HI = 0.03, 0.025, 0.01, 0.036  # G0: prior mean
SPEED = 5.0  # mm/ms
SIGMA_S = 0.003  # noise on S per sqrt(ms)
DT = 1.0  # ms
DECIMATE = 10  # BOLD clock: 10 ms


class RWWTwin:
    """The model and one member's window forecast (pure), shared by truth and ensemble.

    Args:
        W: ``(n, n)`` coupling weights (``W[i, j]`` from j to i), normalised, zero diagonal.
        L: ``(n, n)`` tract lengths (mm); delays ``L / 5 mm/ms``.
        tr: repetition time (ms), a whole number of 10 ms BOLD steps.
        obs_mode: ``"abs"`` (BOLD in model units) or ``"z"`` (through an affine readout).
        rw_io, rw_g: random-walk std per window of ``I_o`` and ``G`` (logit units).
        update_neural: also put each region's gating ``S`` in the analysed vector.

    Example:
        >>> import jax, numpy as np, neurosim as ns
        >>> tw = ns.assimilate.RWWTwin(np.ones((2, 2)) - np.eye(2), np.full((2, 2), 10.0),
        ...                            800.0, "abs")
        >>> m = tw.init_member(jax.random.key(0), 0.32, 0.03)
        >>> tw.get(m).shape
        (11,)
    """

    def __init__(self, W, L, tr, obs_mode, rw_io=0.03, rw_g=0.01, update_neural=False):
        self.n = W.shape[0]
        self.update_neural = update_neural
        self.tr = tr
        self.obs_mode = obs_mode
        self.steps = _bold.steps_per(tr, DT)
        self.model = _rates.ReducedWongWang(self.n, I_o=IO_MEAN)
        self.cpl = _rates.LinearCoupling(W, G=G_TRUE, delays=L / SPEED)
        self.noise = _rates.AdditiveNoise({"S": SIGMA_S})
        self.bw = _bold.BalloonWindkessel(self.n)
        self.io_t = Bounded(IO_LO, IO_HI)
        self.g_t = Bounded(G_LO, G_HI)
        self.rw_io, self.rw_g, self.rw_off = rw_io, rw_g, 0.01  # random walks (logit units)

    def init_member(self, key, io, g):
        rs = _rates.init_state(self.model, self.cpl, key, DT, nodes={"S": jnp.full(self.n, 0.1)})
        m = {
            "rate": rs,
            "bold": self.bw.init(None, DT * DECIMATE),
            "u_io": self.io_t.inverse(io),
            "u_g": self.g_t.inverse(g),
        }
        if self.obs_mode == "z":
            m["off"] = jnp.zeros(self.n)
            m["u_scale"] = jnp.zeros(())
        return m

    def settle(self, m, key, ms=2000.0):
        """Neural spin-up (``ms``), then the BOLD state at its closed-form fixed point for the
        mean ``S`` (skips the ~30 s haemodynamic transient from rest)."""
        model = eqx.tree_at(lambda x: x.I_o, self.model, self.io_t.forward(m["u_io"]))
        cpl = eqx.tree_at(lambda x: x.G, self.cpl, self.g_t.forward(m["u_g"]))
        k = int(ms / DT)
        rs, tr = _rates.run(model, cpl, m["rate"], k, DT, key=key, noise=self.noise,
                              record=["S"])  # fmt: skip
        bs, _ = _bold.steady_state(self.bw, tr.traces["nodes.S"][k // 2 :].mean(0))
        return {**m, "rate": rs, "bold": bs}

    def simulate(self, m, key):
        """One TR with the member's own parameters: (member, BOLD (n,))."""
        model = eqx.tree_at(lambda x: x.I_o, self.model, self.io_t.forward(m["u_io"]))
        cpl = eqx.tree_at(lambda x: x.G, self.cpl, self.g_t.forward(m["u_g"]))
        rs, tr = _rates.run(model, cpl, m["rate"], self.steps, DT, key=key,
                              noise=self.noise, record=["S"])  # fmt: skip
        bs, y = _bold.run_bold(self.bw, tr.traces["nodes.S"], DT, self.tr, state=m["bold"],
                                 decimate=DECIMATE)  # fmt: skip
        return {**m, "rate": rs, "bold": bs}, y[-1]

    def readout(self, m, y):
        if self.obs_mode == "z":
            return (y - m["off"]) * jnp.exp(-m["u_scale"])
        return y

    def forecast(self, m, t, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        m = {**m, "u_io": random_walk(k1, m["u_io"], self.rw_io)}
        m = {**m, "u_g": random_walk(k2, m["u_g"], self.rw_g)}
        if self.obs_mode == "z":
            m = {
                **m,
                "off": random_walk(k3, m["off"], self.rw_off * jnp.exp(m["u_scale"])),
            }
        m, y = self.simulate(m, k4)
        return m, self.readout(m, y)

    def get(self, m):
        b = m["bold"]
        parts = [m["u_io"], m["u_g"][None], b.s, b.f, b.v, b.q]
        if self.obs_mode == "z":
            parts += [m["off"], m["u_scale"][None]]
        if self.update_neural:
            parts += [m["rate"].nodes[0]["S"]]
        return jnp.concatenate(parts)

    def put(self, m, x):
        n = self.n
        u_io, u_g = x[:n], x[n]
        s, f, v, q = (x[n + 1 + i * n : n + 1 + (i + 1) * n] for i in range(4))
        f, v, q = (jnp.maximum(a, 1e-5) for a in (f, v, q))  # as DTB: keep them positive
        out = {**m, "u_io": u_io, "u_g": u_g, "bold": _bold.BalloonState(s, f, v, q)}
        if self.obs_mode == "z":
            o = n + 1 + 4 * n
            out = {**out, "off": x[o : o + n], "u_scale": x[o + n]}
        if self.update_neural:  # the current gating S (the delay ring keeps its past)
            S = jnp.clip(x[-n:], 0.0, 1.0)
            out = {**out, "rate": eqx.tree_at(lambda r: r.nodes[0]["S"], m["rate"], S)}
        return out

    def rtps_vector(self, params=0.0, states=0.0):
        """Per-component RTPS factors ``(D,)`` for :func:`run_filter`: ``params`` on the
        augmented parameters (``I_o``, ``G``, and the z-mode readout), ``states`` on the
        haemodynamic (and, with ``update_neural``, neural) states."""
        n = self.n
        parts = [np.full(n + 1, params), np.full(4 * n, states)]
        if self.obs_mode == "z":
            parts += [np.full(n + 1, params)]
        if self.update_neural:
            parts += [np.full(n, states)]
        return jnp.asarray(np.concatenate(parts), jnp.float32)

    def localisation(self, update_g=True):
        """``loc_xy`` (D, M): a region's rows see its own observation; global rows 1/M (the G
        row 0 when G is fixed)."""
        n = self.n
        eye = np.eye(n)
        rows = [eye, np.full((1, n), 1.0 / n if update_g else 0.0)] + [eye] * 4
        if self.obs_mode == "z":
            rows += [eye, np.full((1, n), 1.0 / n)]
        if self.update_neural:
            rows += [eye]
        return jnp.asarray(np.concatenate(rows, 0)), jnp.eye(n)


_FREE = {}


def free_bold(twin, io, g, key, n_tr, spin):
    """BOLD of a free run with fixed parameters (vmapped over parameter sets), (k, n_tr, n).

    Compiled once per (twin, n_tr, spin); call it with the same batch size to reuse it.
    """
    fn = _FREE.get((id(twin), n_tr, spin))
    if fn is None:
        fn = _FREE[(id(twin), n_tr, spin)] = jax.jit(jax.vmap(_free_one(twin, n_tr, spin)))
    return np.asarray(fn(io, g, key))


def _free_one(twin, n_tr, spin):

    def one(io, g, k):
        m = twin.init_member(jax.random.fold_in(k, 0), io, g)
        m = twin.settle(m, jax.random.fold_in(k, 1))

        def body(m, kk):
            m, y = twin.simulate(m, kk)
            return m, y

        _, ys = jax.lax.scan(body, m, jax.random.split(k, n_tr + spin))
        return ys[spin:]

    return one


def oracle_forecast(twin, io, g, key, n_tr, spin, k_draws=8):
    """The best one-window forecast any filter could make: from the truth's exact state at
    each window start (neural and haemodynamic), the mean BOLD of ``k_draws`` runs with fresh
    noise. Returns ``(truth BOLD, oracle BOLD)``, each ``(n_tr, n)``; the truth is the same
    series as :func:`free_bold` with this key (same operations, same keys)."""

    def one(io, g, k):
        m = twin.init_member(jax.random.fold_in(k, 0), io, g)
        m = twin.settle(m, jax.random.fold_in(k, 1))

        def body(m, kk):
            ks = jax.random.split(jax.random.fold_in(kk, 99), k_draws)
            _, yo = jax.vmap(twin.simulate, in_axes=(None, 0))(m, ks)
            m, y = twin.simulate(m, kk)
            return m, (y, yo.mean(0))

        _, (ys, yo) = jax.lax.scan(body, m, jax.random.split(k, n_tr + spin))
        return ys[spin:], yo[spin:]

    ys, yo = jax.jit(one)(io, g, key)
    return np.asarray(ys), np.asarray(yo)


def fc_vector(y):
    """Upper triangle of the region-by-region correlation of ``y`` ``(T, n)`` (FC)."""
    c = np.corrcoef(y.T)
    return c[np.triu_indices(c.shape[0], 1)]
