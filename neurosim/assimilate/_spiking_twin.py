"""The Digital-Twin-Brain-style spiking twin model (issue 18, twin b): one member's window.

Per region an E/I network of conductance LIF neurons (:func:`neurosim.connectome.dtb_network`)
with four receptors -- AMPA and NMDA on every excitatory synapse (local and long-range, with
tract-length delays), GABA_A and GABA_B on every inhibitory one (presets of
:mod:`neurosim.synapses`) -- and an Ornstein–Uhlenbeck background current. Each receptor's
drive onto neuron ``i`` of region ``r`` is scaled by ``h[r] * gamma[i]``
(:class:`neurosim.synapses.ScaledConductance`): ``h`` a per-region hyperparameter and
``gamma`` a Gamma(5, 1/5) factor drawn once per member and receptor and kept
(:func:`gamma_heterogeneity`). BOLD per region: the fraction of the region's neurons spiking
(in-loop :class:`neurosim.network.PopulationRate`) drives :class:`neurosim.bold.BOLDReadout`
on a 10 ms decimated clock, sampled every TR. A member is a dict: the network state, the
unconstrained hyperparameters ``u`` ``(P, R)`` (logit, the estimated receptors) and the fixed
factors ``gamma`` ``(4, n)``. The analysed vector is ``u`` and the haemodynamic ``s, f, v, q``;
the neural state is never touched by the analysis.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import bold as _bold
from .. import synapses as _syn
from ..network import run as _run_net
from ._params import Bounded, gamma_heterogeneity, random_walk

__all__ = ["SpikingTwin", "RECEPTORS"]

RECEPTORS = ("AMPA", "NMDA", "GABA_A", "GABA_B")
# weight scales on the builder's w_e / w_i (nS): AMPA and GABA_A carry most of the charge,
# NMDA (2/100 ms, Mg-blocked) and GABA_B (60/200 ms) a slow part
SCALES = {"AMPA": 2.0, "NMDA": 0.02, "GABA_A": 1.5, "GABA_B": 0.01}
H_LO, H_HI = 0.5, 1.5  # bounds of every hyperparameter (multiplier, prior mean 1)
DT = 1.0  # ms
DECIMATE = 10  # BOLD clock: 10 ms
EFFICACY = 0.01  # Balloon efficacy per Hz: the drive is the spike fraction per 10 ms


def _receptor(name, n):
    preset = getattr(_syn, name)()
    out = _syn.ScaledConductance(preset.output, jnp.ones(n))
    return _syn.SynapseModel(preset.kinetics, out, name)


class SpikingTwin:
    """The spiking model and one member's window forecast (pure), shared by truth and ensemble.

    Args:
        connectome: a :class:`neurosim.connectome.Connectome` (the regions used).
        neurons_per_region: neurons per region (80 % excitatory).
        tr: repetition time (ms), a whole number of 10 ms BOLD steps.
        estimate: receptors whose per-region hyperparameters are estimated (the others stay
            at 1); a subset of ``RECEPTORS``.
        rw: random-walk std of the hyperparameters per window (logit units, scale 10 as DTB).
        wiring_key: the network's wiring (shared by truth and members).
        **builder: passed to :func:`neurosim.connectome.dtb_network` (``k_e``, ``w_e``, ...).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> con = ns.connectome.Connectome(np.ones((2, 2)), centres=np.eye(2, 3) * 30.0)
        >>> tw = ns.assimilate.SpikingTwin(con, 40, 800.0, k_e=8, k_i=2, k_ext=4)
        >>> tw.n_neurons, tw.n_params
        (80, 2)
    """

    def __init__(self, connectome, neurons_per_region, tr, estimate=("AMPA",), rw=0.5,
                 wiring_key=None, **builder):  # fmt: skip
        from ..connectome import dtb_network

        bad = [r for r in estimate if r not in RECEPTORS]
        if bad or not estimate or len(set(estimate)) != len(estimate):
            raise ValueError(
                f"estimate must be distinct receptors among {RECEPTORS}, got {estimate!r}"
            )
        n = connectome.n * int(neurons_per_region)
        rec = {s: tuple((_receptor(r, n), SCALES[r]) for r in RECEPTORS if _sign(r) == s)
               for s in ("E", "I")}  # fmt: skip
        brain = dtb_network(connectome, neurons_per_region=int(neurons_per_region),
                            receptors=rec, key=wiring_key, **builder)  # fmt: skip
        self.tr, self.R, self.layout = float(tr), connectome.n, brain.layout
        self.n_neurons = brain.layout.n
        self.steps = _bold.steps_per(self.tr, DT)
        _bold.steps_per(self.tr, DT * DECIMATE)  # TR must be a whole number of BOLD steps
        self.estimate = tuple(estimate)
        self.n_params = len(self.estimate) * self.R
        self.h_t = Bounded(H_LO, H_HI, scale=10.0)
        self.rw = float(rw)
        self.net = brain.network
        names = [r.name for r in self.net.populations[0].receptors]
        self.rec_index = tuple(names.index(r) for r in RECEPTORS)
        self.region_of = jnp.asarray(brain.layout.region_of)
        self.size = jnp.asarray(brain.layout.size, jnp.float32)
        self.bw = _bold.BalloonWindkessel(self.R, efficacy=EFFICACY)

    def hyper(self, m):
        """``(4, R)`` hyperparameters of every receptor (1 where not estimated)."""
        h = self.h_t.forward(m["u"])
        rows = [h[self.estimate.index(r)] if r in self.estimate else jnp.ones(self.R)
                for r in RECEPTORS]  # fmt: skip
        return jnp.stack(rows)

    def network(self, m):
        """The network with the member's per-neuron gains ``h[region] * gamma``."""
        gains = self.hyper(m)[:, self.region_of] * m["gamma"]
        return eqx.tree_at(
            lambda net: [net.populations[0].receptors[k].output.gain for k in self.rec_index],
            self.net, [gains[j] for j in range(len(RECEPTORS))],
        )  # fmt: skip

    def init_member(self, key, h, gamma_key):
        """A member at hyperparameters ``h`` ``(P, R)``, factors drawn from ``gamma_key``."""
        gamma = gamma_heterogeneity(gamma_key, jnp.ones(len(RECEPTORS)), self.n_neurons)
        return {
            "net": self.net.init_state(key, DT),
            "bold": self.bw.init(None, DT * DECIMATE),
            "u": self.h_t.inverse(jnp.asarray(h, jnp.float32).reshape(len(self.estimate), -1)),
            "gamma": gamma,
        }

    def _neural(self, m, key, n_chunks):
        """``n_chunks`` x 10 ms of the network: (network state, drive (n_chunks, R) in Hz)."""
        net = self.network(m)

        def chunk(st, _):
            st, out = _run_net(net, st, DECIMATE, DT, key=key)
            counts = jax.ops.segment_sum(out.spikes["brain"].sum(0), self.region_of, self.R)
            return st, counts / (self.size * DECIMATE * DT * 1e-3)

        return jax.lax.scan(chunk, m["net"], None, length=n_chunks)

    def settle(self, m, key, ms=1000.0):
        """Neural spin-up (``ms``), then the BOLD state at its closed-form fixed point for the
        mean drive of the second half (skips the haemodynamic transient from rest)."""
        k = int(ms / (DT * DECIMATE))
        st, z = self._neural(m, key, k)
        bs, _ = _bold.steady_state(self.bw, z[k // 2 :].mean(0))
        return {**m, "net": st, "bold": bs}

    def simulate(self, m, key):
        """One TR with the member's own parameters: (member, BOLD (R,))."""
        st, z = self._neural(m, key, self.steps // DECIMATE)

        def hemo(b, zz):
            b, y = self.bw.step(b, zz, 0, DT * DECIMATE, None)
            return b, y

        bs, ys = jax.lax.scan(hemo, m["bold"], z)
        return {**m, "net": st, "bold": bs}, ys[-1]

    def forecast(self, m, t, key):
        k1, k2 = jax.random.split(key)
        m = {**m, "u": random_walk(k1, m["u"], self.rw)}
        return self.simulate(m, k2)

    def get(self, m):
        b = m["bold"]
        return jnp.concatenate([m["u"].ravel(), b.s, b.f, b.v, b.q])

    def put(self, m, x):
        P, R = self.n_params, self.R
        s, f, v, q = (x[P + i * R : P + (i + 1) * R] for i in range(4))
        f, v, q = (jnp.maximum(a, 1e-5) for a in (f, v, q))  # as DTB: keep them positive
        u = x[:P].reshape(m["u"].shape)
        return {**m, "u": u, "bold": _bold.BalloonState(s, f, v, q)}

    def localisation(self):
        """``loc_xy`` (D, M), ``loc_yy`` (M, M): a region's rows see only its own BOLD."""
        eye = np.eye(self.R)
        rows = [eye] * len(self.estimate) + [eye] * 4
        return jnp.asarray(np.concatenate(rows, 0)), jnp.eye(self.R)


def _sign(receptor):
    return "E" if receptor in ("AMPA", "NMDA") else "I"
