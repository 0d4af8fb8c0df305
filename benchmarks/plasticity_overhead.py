"""Cost of plasticity on the COBA benchmark network (n = 4000, 1 s, dt = 0.1 ms).

    python benchmarks/plasticity_overhead.py [--n 4000] [--repeats 3] [--dense]

The excitatory projection E -> P (~256k synapses) gets, in turn: no dynamics, Tsodyks–Markram
STP, STP with unit release (``U = 1``, ``tau_rec = 1 us``: ``u x = 1`` at every spike, so the
spike trains are the static run's and the STP work is timed at equal spike counts), pair STDP
(event-driven) and, with ``--dense``, pair STDP with the dense (all-synapse, O(nnz) per step:
meant for accelerators) update. Variants run interleaved in one process; the minimum of
``repeats`` runs (compile excluded) is printed, one JSON object per line, with its ratio to
the static run.
"""

import argparse
import json

import equinox as eqx
import jax

import neurosim as ns


def variants(dense: bool):
    out = {
        "static": None,
        "stp": ns.plasticity.TsodyksMarkram(U=0.2, tau_rec=200.0, tau_facil=100.0),
        "stp_unit": ns.plasticity.TsodyksMarkram(U=1.0, tau_rec=1e-3),
        "stdp_event": ns.plasticity.PairSTDP(a_plus=0.01, a_minus=0.0105, w_max=12.0),
    }
    if dense:
        out["stdp_dense"] = ns.plasticity.PairSTDP(
            a_plus=0.01, a_minus=0.0105, w_max=12.0, update="dense"
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0)
    ap.add_argument("--dense", action="store_true", help="also time the dense STDP update")
    args = ap.parse_args()
    base = ns.models.coba(n=args.n, key=jax.random.key(0))
    nets = {
        k: eqx.tree_at(
            lambda net: net.projections[0].dynamics, base, d, is_leaf=lambda x: x is None
        )
        for k, d in variants(args.dense).items()
    }
    best = {k: float("inf") for k in nets}
    info = {}
    for k, net in nets.items():  # compile
        res = ns.simulate(net, args.duration, 0.1, key=jax.random.key(1), progress=False)
        info[k] = {"compile_s": round(res.compile_s, 2), "rate_hz": round(res.rate_hz, 2)}
    for _ in range(args.repeats):
        for k, net in nets.items():
            res = ns.simulate(net, args.duration, 0.1, key=jax.random.key(1), progress=False)
            best[k] = min(best[k], res.run_s)
    for k in nets:
        print(
            json.dumps(
                {
                    "variant": k,
                    "n": args.n,
                    "run_s": round(best[k], 3),
                    "vs_static": round(best[k] / best["static"], 2),
                    **info[k],
                    "synapses_E": base.projections[0].conn.nnz,
                }
            )
        )


if __name__ == "__main__":
    main()
