"""``neurosim run potjans_diesmann|brunel2000``: the NEST validation networks on the CLI.

Their options (``--scale``, ``--k-scale``, ``--background``; ``--g``, ``--eta``, ``--J``)
live here; ``neurosim/cli.py`` only registers them and calls :func:`build`. ``--n`` does not
apply (the size follows ``--scale``); ``summary.json`` records the network's neuron count as
``n`` and the options under ``checks.model_options``.
"""

from __future__ import annotations

import sys
import time

__all__ = ["NEST_MODELS", "add_options", "build"]

NEST_MODELS = ("potjans_diesmann", "brunel2000")
_BYTES_PER_SYNAPSE = 12  # int32 target, float32 weight, float32 delay (per-synapse delays)
_NEST_DT = 0.1


def add_options(run) -> None:
    """Add the NEST models' options to the ``run`` sub-parser."""
    g = run.add_argument_group("potjans_diesmann and brunel2000")
    g.add_argument(
        "--scale", type=float, default=None,
        help="network size: potjans_diesmann N_scaling in (0, 1] (default 0.1); brunel2000 "
        "N_E = 10000 x scale (default 1)",
    )  # fmt: skip
    g.add_argument(
        "--k-scale", type=float, default=None,
        help="potjans_diesmann in-degree scaling K_scaling in (0, 1] (default: --scale)",
    )  # fmt: skip
    g.add_argument(
        "--background", default="poisson", choices=("poisson", "dc"),
        help="potjans_diesmann external drive: Poisson inputs or their mean as a DC current",
    )  # fmt: skip
    g.add_argument("--g", type=float, default=5.0, help="brunel2000 relative inhibition")
    g.add_argument("--eta", type=float, default=2.0, help="brunel2000 nu_ext / nu_thr")
    g.add_argument("--J", type=float, default=0.1, help="brunel2000 EPSP (mV)")


def _options(args) -> dict:
    if args.model == "potjans_diesmann":
        scale = 0.1 if args.scale is None else args.scale
        return {"scale": scale, "k_scale": args.k_scale, "background": args.background}
    scale = 1.0 if args.scale is None else args.scale
    return {"g": args.g, "eta": args.eta, "J": args.J, "scale": scale}


def _synapses(args, opts) -> tuple[int, int]:
    """``(neurons, stored synapses)`` of the requested network, before building it."""
    from . import models

    if args.model == "potjans_diesmann":
        p = models.potjans_diesmann_parameters(opts["scale"], opts["k_scale"], opts["background"])
        n = int(p["sizes"].sum())
        return n, int(p["n_synapses"].sum())  # the Poisson drive stores no synapses
    p = models.brunel2000_parameters(opts["g"], opts["eta"], opts["J"], scale=opts["scale"])
    n = p["n_e"] + p["n_i"]
    return n, n * (p["c_e"] + p["c_i"])


def build(args, fail):
    """``(network, kwargs, checks, build_s)`` for ``neurosim run``; ``fail(msg)`` exits."""
    import jax

    from . import _preflight as pf
    from . import models

    opts = _options(args)
    try:
        n, n_syn = _synapses(args, opts)
    except (ValueError, TypeError) as e:
        fail(str(e))
    need = n_syn * _BYTES_PER_SYNAPSE
    avail, source = pf.available_memory()
    if need > pf.MEMORY_FRACTION * avail:
        fail(
            f"{args.model} {opts} stores {n_syn} synapses (~{pf.format_bytes(need)}), more than "
            f"{pf.MEMORY_FRACTION:.0%} of the {pf.format_bytes(avail)} available ({source}); "
            "use a smaller --scale"
        )
    if abs(args.dt - _NEST_DT) > 1e-12:
        print(
            f"neurosim: warning: {args.model} is defined (and validated against NEST) at "
            f"dt = {_NEST_DT} ms; --dt {args.dt:g} changes the model",
            file=sys.stderr,
        )
    t0 = time.perf_counter()
    key = jax.random.key(args.seed)
    try:
        factory = getattr(models, args.model)
        if args.model == "potjans_diesmann":
            net = factory(opts["scale"], opts["k_scale"], opts["background"], key=key, dt=args.dt)
        else:
            net = factory(opts["g"], opts["eta"], opts["J"], scale=opts["scale"], key=key,
                          dt=args.dt)  # fmt: skip
    except (ValueError, TypeError) as e:
        fail(str(e))
    args.n = n
    checks = {"synapses": n_syn, "memory_estimate_bytes": need, "model_options": opts}
    return net, {"connectivity": "stored"}, checks, time.perf_counter() - t0
