"""Sharded-run checks executed in a subprocess with forced CPU devices (see test_distributed.py).

``python tests/sharded_cases.py CASE D1,D2,...`` builds the case's network, runs it on one
device with :func:`neurosim.simulate` (the reference) and sharded over each device count
with :func:`neurosim.distributed.simulate`, and prints one JSON line per device count.
"""

from __future__ import annotations

import json
import sys

import equinox as eqx
import jax
import numpy as np

import neurosim as ns


def coba(n=64):
    # In-degree 8 at n = 64 (the benchmark's 80 would be all-to-all): an active raster.
    k = 8.0 if n < 1000 else 80.0
    return ns.models.coba(n=n, in_degree=k, key=jax.random.key(0)), 60.0, {}


def delays():
    """A replicated Poisson drive, E/I LIF with per-synapse and homogeneous delays, group
    slices on both sides and a noisy input on one group (exchange every 6 steps)."""
    b = ns.NetworkBuilder(key=jax.random.key(3))
    b.add_population("X", ns.neurons.PoissonSource(16, rate=400.0))
    lif = ns.neurons.LIF(48, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0,
                         g_l=10.0, v_init=ns.init.Uniform(-60.0, -50.0))  # fmt: skip
    b.add_population("P", lif, groups={"E": 40, "I": 8})
    exc = dict(synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))
    inh = dict(synapse=ns.synapses.Exponential(10.0), output=ns.synapses.COBA(-80.0))
    fp = ns.connectivity.FixedProbability
    b.connect("X", "P", fp(0.5), weight=3.0, delay=ns.init.Uniform(0.5, 3.0), **exc)
    b.connect("E", "P", fp(0.3), weight=2.0, delay=ns.init.Uniform(0.5, 4.0), **exc)
    b.connect("I", "E", fp(0.5), weight=8.0, delay=0.7, **inh)
    b.connect("E", "I", fp(0.4), weight=ns.init.Uniform(1.0, 3.0), delay=1.0, **exc)
    b.add_input("E", ns.inputs.OUCurrent(mean=120.0, std=60.0, tau=5.0))
    return b.build(), 60.0, {"chunk_steps": 77}


def nest_poisson():
    """NEST conventions and per-neuron Poisson inputs (a Potjans-Diesmann-like pair of
    populations): per-synapse and homogeneous delays, a Delta projection (the jump rule), a
    Poisson input on a group slice and one with per-neuron rates."""
    b = ns.NetworkBuilder(key=jax.random.key(5), conventions="nest")
    lif = dict(tau_m=10.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, g_l=25.0)
    b.add_population("E", ns.neurons.LIF(48, v_init=ns.init.Normal(-58.0, 5.0), **lif),
                     groups={"E1": 24, "E2": 24})  # fmt: skip
    b.add_population("I", ns.neurons.LIF(16, v_init=ns.init.Normal(-58.0, 5.0), **lif))
    exc = dict(synapse=ns.synapses.Exponential(0.5), output=ns.synapses.CUBA())
    ftn = ns.connectivity.FixedTotalNumber
    b.connect("E", "E", ftn(300), weight=ns.init.TruncatedNormal(90.0, 9.0, low=0.0),
              delay=ns.init.TruncatedNormal(1.5, 0.75, low=0.05), **exc)  # fmt: skip
    b.connect("E", "I", ftn(150), weight=90.0, delay=0.8, **exc)
    b.connect("I", "E", ftn(200), weight=-350.0,
              delay=ns.init.TruncatedNormal(0.75, 0.4, low=0.05), **exc)  # fmt: skip
    b.connect("I", "E2", ns.connectivity.FixedProbability(0.2), weight=-0.5, delay=0.3,
              synapse=ns.synapses.Delta())  # fmt: skip
    b.add_poisson_input("E1", rate_hz=16_000.0, weight=90.0, **exc)
    b.add_poisson_input("E2", rate_hz=np.linspace(12_000.0, 18_000.0, 24), weight=90.0, **exc)
    b.add_poisson_input("I", rate_hz=15_000.0, weight=90.0, **exc)
    return b.build(), 60.0, {"chunk_steps": 250}


def procedural():
    """COBA 64 with procedural connectivity: every device regenerates the spiking rows."""
    net = ns.models.coba(n=64, in_degree=8.0, key=jax.random.key(0), connectivity="procedural")
    assert isinstance(net.projections[0].conn, ns.ops.ProceduralBernoulli)
    return net, 60.0, {}


def multiscale():
    """LIF E/I <-> ReducedWongWangEI(2) (tests/test_multiscale.py's mixed network): delayed
    rate couplings, a current drive onto 2 regions of E, synaptic and population activity back
    (one delayed, one not), a population-rate and an LFP readout (regions cut across blocks)."""
    b = ns.NetworkBuilder(key=jax.random.key(4))
    lif = ns.neurons.LIF(40, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=2.0,
                         g_l=10.0, i_e=110.0, v_init=ns.init.Uniform(-60.0, -50.0))  # fmt: skip
    b.add_population("P", lif, groups={"E": 32, "I": 8})
    cuba = ns.synapses.CUBA()
    b.connect("E", "P", ns.connectivity.FixedProbability(0.4), weight=25.0, receptor="exc",
              synapse=ns.synapses.Exponential(5.0), output=cuba, delay=0.5)  # fmt: skip
    b.connect("I", "P", ns.connectivity.FixedProbability(0.5), weight=-60.0, receptor="inh",
              synapse=ns.synapses.Exponential(10.0), output=cuba, delay=0.3)  # fmt: skip
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    W = np.array([[0.0, 1.0], [0.5, 0.0]])
    b.couple("wong", "wong", ns.rates.LinearCoupling(W, G=0.5, delays=3.0 * W))
    b.couple("wong", "E", ns.network.CurrentDrive(G=100.0), delay=1.0)
    b.couple("E", "wong", ns.network.SynapticActivity("exc", G=0.002), delay=2.0)
    b.couple("P", "wong", ns.network.PopulationActivity(G=0.01, tau=5.0))
    b.add_readout("rate", ns.network.PopulationRate(tau=5.0), source="P", regions=5)
    b.add_readout("lfp", ns.network.SynapticLFP(("exc", "inh")), source="E", regions=2)
    return b.build(), 60.0, {}


def pd():
    """The Potjans-Diesmann microcircuit at 1 % (770 neurons in 8 populations of uneven sizes,
    207 ... 11: padded blocks), Poisson background, NEST conventions."""
    # quiet at this in-degree (~0.4 Hz): 150 ms for ~40 spikes
    return ns.models.potjans_diesmann(scale=0.01, key=jax.random.key(0)), 150.0, {}


def brain():
    rng = np.random.default_rng(0)
    w = rng.random((4, 4))
    con = ns.connectome.Connectome(w, centres=rng.random((4, 3)) * 40.0)
    net = ns.connectome.dtb_network(con, neurons_per_region=16, k_e=6, k_i=2, k_ext=4,
                                    w_e=0.5, key=jax.random.key(2)).network  # fmt: skip
    return net, 60.0, {}


CASES = {
    "coba": coba,
    "coba4k": lambda: coba(4000),
    "delays": delays,
    "brain": brain,
    "nest_poisson": nest_poisson,
    "pd": pd,
    "multiscale": multiscale,
    "procedural": procedural,
}


def _rel_diff(a, b) -> float:
    """Largest leaf-wise ``max|a - b| / max(1, max|a|)`` over the float leaves of two states."""
    out = 0.0
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x, float), np.asarray(y, float)
        if x.size:
            out = max(out, float(np.max(np.abs(x - y))) / max(1.0, float(np.max(np.abs(x)))))
    return out


def grad(counts):
    """``d loss / d v(0)`` and ``d loss / d i_e`` through 20 steps, sharded vs one device."""
    net = ns.models.coba(n=64, key=jax.random.key(0))
    s0 = net.init_state(jax.random.key(1), 0.1)
    key = jax.random.key(2)
    w = jax.numpy.linspace(0.5, 1.5, 64)

    def loss(v0, i_e, runner):
        n = eqx.tree_at(lambda m: m.populations[0].neuron.i_e, net, i_e)
        st = eqx.tree_at(lambda s: s.neurons[0]["v"], s0, v0)
        s1, spikes = runner(n, st)
        return jax.numpy.sum(s1.neurons[0]["v"]) + jax.numpy.sum(spikes["P"] * w)

    args = (s0.neurons[0]["v"] + 4.0, net.populations[0].neuron.i_e)
    one = jax.grad(loss, argnums=(0, 1))(
        *args, lambda n, s: (lambda r: (r[0], r[1].spikes))(ns.run(n, s, 20, 0.1, key=key))
    )
    for d in counts:
        mesh = ns.distributed.make_mesh(d)
        g = jax.grad(loss, argnums=(0, 1))(
            *args, lambda n, s, mesh=mesh: ns.distributed.run(n, s, 20, 0.1, key=key, mesh=mesh)
        )
        print(json.dumps(dict(devices=d, grad_rel_diff=_rel_diff(one, g),
                              grad_norm=float(np.linalg.norm(np.asarray(one[0]))))))  # fmt: skip


def record(counts):
    """``record_spikes`` and spike stamps: sharded == one device, for every choice, with the
    default conventions and NEST's end-of-step stamps and refractory counts (a replicated
    Poisson source drives a sharded LIF population)."""
    nest_like = ns.network.Conventions(refractory="nest", spike_time="end")
    for name, conventions in (("default", None), ("nest_stamps", nest_like)):
        b = ns.NetworkBuilder(key=jax.random.key(3), conventions=conventions)
        b.add_population("X", ns.neurons.PoissonSource(8, rate=400.0))
        lif = ns.neurons.LIF(16, i_e=150.0, t_ref=2.0, v_init=ns.init.Uniform(-65.0, -50.0))
        b.add_population("P", lif)
        b.connect("X", "P", ns.connectivity.FixedProbability(0.5), weight=3.0,
                  synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))  # fmt: skip
        net = b.build()
        key = jax.random.key(1)
        for choice in (None, "all", "X", ["P"], ()):
            ref = ns.simulate(net, 30.0, 0.1, key=key, progress=False, record_spikes=choice)
            for d in counts:
                mesh = ns.distributed.make_mesh(d)
                res = ns.distributed.simulate(net, 30.0, 0.1, key=key, mesh=mesh,
                                              record_spikes=choice, chunk_steps=70)  # fmt: skip
                via = ns.simulate(net, 30.0, 0.1, key=key, mesh=mesh, record_spikes=choice)
                print(json.dumps(dict(
                    devices=d, conventions=name, record_spikes=choice,
                    recorded_ref=list(ref.spikes_recorded), recorded=list(res.spikes_recorded),
                    recorded_via_mesh=list(via.spikes_recorded),
                    n_spikes_ref={p.name: int(ref.spikes(p.name)[0].size)
                                  for p in net.populations if p.name in ref.spikes_recorded},
                    raster_equal=all(np.array_equal(ref.spike_indices, r.spike_indices)
                                     and np.array_equal(ref.spike_times, r.spike_times)
                                     for r in (res, via)),
                    first_time_ref=float(ref.spike_times[0]) if ref.n_spikes else None,
                    rate_hz_equal=ref.rate_hz == res.rate_hz,
                )), flush=True)  # fmt: skip


def main(case: str, counts: list[int]) -> None:
    if case == "grad":
        return grad(counts)
    if case == "record":
        return record(counts)
    net, duration, kw = CASES[case]()
    key = jax.random.key(1)
    ref = ns.simulate(net, duration, 0.1, key=key, progress=False, **kw)
    for d in counts:
        mesh = ns.distributed.make_mesh(d)
        res = ns.distributed.simulate(net, duration, 0.1, key=key, mesh=mesh, **kw)
        lay, _ = ns.distributed.shard(net, mesh, 0.1)
        fields = ("neurons", "receptors", "delay_rings", "nodes", "node_input", "node_history",
                  "cross", "readouts", "readout_values")  # fmt: skip
        a = [getattr(ref.final_state, f) for f in fields]
        b = [getattr(res.final_state, f) for f in fields]
        print(json.dumps(dict(
            devices=d,
            n_spikes_ref=int(ref.spike_indices.size),
            raster_equal=bool(np.array_equal(ref.spike_indices, res.spike_indices)
                              and np.array_equal(ref.spike_times, res.spike_times)),
            state_rel_diff=_rel_diff(a, b),
            history_equal=all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(
                jax.tree.leaves(ref.final_state.history), jax.tree.leaves(res.final_state.history),
                strict=True)),
            interval=lay.interval,
            bytes_per_step=lay.bytes_received_per_step(),
        )), flush=True)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], [int(x) for x in sys.argv[2].split(",")])
