"""Throughput of the whole-brain EnKF (twin a, or twin b with --twin b) at 16 / 64 / 256 members.

    python benchmarks/assimilate_throughput.py [--members 16,64,256] [--windows 3] [--tr 800]
    python benchmarks/assimilate_throughput.py --twin b --regions 20 --neurons 400 --windows 2

Twin b: ``ns.assimilate.SpikingTwin`` (conductance LIF, AMPA/NMDA/GABA_A/GABA_B, OU
background, dt = 1 ms; ``--neurons`` per region), the same compiled window step; throughput =
members x neurons x simulated seconds per wall second.

One compiled window step (every member forecast over one TR with ``vmap``, then the
stochastic EnKF analysis with per-region localisation) of ``ns.assimilate.RWWTwin``
(reduced Wong–Wang on tvb-data's 76 regions with delays, BOLD on a 10 ms clock, dt = 1 ms).
``compile_s`` is the window step's compile (``run_filter``'s, lowered and compiled ahead);
``run_s`` the wall time of ``--windows`` windows (the loop fetches every window's record, so
each window is complete, i.e. blocked on, before the next starts). Throughput =
members x simulated steps per wall second, and members x regions x simulated seconds per
wall second. One JSON object per line.
"""

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np

import neurosim as ns


def one(E, windows, tr, regions, seed=0):
    W, L = ns.assimilate.tvb_connectome(regions)
    twin = ns.assimilate.RWWTwin(W, L, tr, "abs")
    n = twin.n
    k = jax.random.key(seed)
    io0 = twin.io_t.forward(twin.io_t.inverse(0.32) + 0.6 * jax.random.normal(k, (E, n)))
    members = jax.vmap(twin.init_member, in_axes=(0, 0, None))(
        jax.random.split(jax.random.fold_in(k, 1), E), io0, 0.03
    )
    obs = jnp.asarray(np.random.default_rng(seed).normal(0.0, 0.05, (windows, n)))
    loc_xy, loc_yy = twin.localisation(update_g=False)
    res = ns.assimilate.run_filter(
        twin.forecast, twin.get, twin.put, members, obs, 0.01**2, jax.random.fold_in(k, 2),
        loc_xy=loc_xy, loc_yy=loc_yy, progress=False,
    )  # fmt: skip
    jax.block_until_ready(res.members)
    steps = windows * twin.steps
    return {
        "members": E, "regions": n, "tr_ms": tr, "windows": windows, "steps": steps,
        "compile_s": round(res.compile_s, 2), "run_s": round(res.run_s, 3),
        "member_steps_per_s": round(E * steps / res.run_s, 1),
        "member_region_sim_s_per_s": round(E * n * steps * 1e-3 / res.run_s, 2),
        "s_per_window": round(res.run_s / windows, 3),
        "backend": jax.default_backend(),
    }  # fmt: skip


def one_b(E, windows, tr, regions, neurons, seed=0):
    con = ns.connectome.Connectome.from_tvb_data(76).subset(list(range(regions)))
    twin = ns.assimilate.SpikingTwin(con, neurons, tr, wiring_key=jax.random.key(seed))
    k = jax.random.key(seed)
    ks = jax.random.split(k, (3, E))
    h0 = twin.h_t.forward(8.0 * jax.random.normal(ks[2, 0], (E, 1, regions)))
    members = jax.vmap(twin.init_member)(ks[0], h0, ks[1])
    obs = jnp.asarray(np.random.default_rng(seed).normal(1.0, 0.05, (windows, regions)))
    loc_xy, loc_yy = twin.localisation()
    res = ns.assimilate.run_filter(
        twin.forecast, twin.get, twin.put, members, obs, 0.01**2, jax.random.fold_in(k, 2),
        loc_xy=loc_xy, loc_yy=loc_yy, progress=False,
    )  # fmt: skip
    jax.block_until_ready(res.members)
    sim_s = windows * tr * 1e-3
    return {
        "twin": "b", "members": E, "regions": regions, "neurons": twin.n_neurons, "tr_ms": tr,
        "windows": windows, "compile_s": round(res.compile_s, 2), "run_s": round(res.run_s, 3),
        "s_per_window": round(res.run_s / windows, 3),
        "member_neuron_sim_s_per_s": round(E * twin.n_neurons * sim_s / res.run_s, 1),
        "backend": jax.default_backend(),
    }  # fmt: skip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", default="16,64,256")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--tr", type=float, default=800.0)
    ap.add_argument("--regions", type=int, default=76)
    ap.add_argument("--twin", choices=("a", "b"), default="a")
    ap.add_argument("--neurons", type=int, default=400, help="twin b: neurons per region")
    a = ap.parse_args()
    for E in (int(x) for x in a.members.split(",")):
        if a.twin == "b":
            row = one_b(E, a.windows, a.tr, a.regions, a.neurons)
        else:
            row = one(E, a.windows, a.tr, a.regions)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
