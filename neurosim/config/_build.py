"""A normalised spec -> a :class:`neurosim.NetworkBuilder`, through its public methods only.

The builder is seeded with ``jax.random.key(run.seed)`` (with ``[network] conventions``) and
the parts are added in the order of the file (populations, inputs, projections, Poisson
inputs, gap junctions, rate populations, couplings, readouts), so a config and the Python
code that makes the same calls build the same network; this is how
``examples/configs/coba.toml`` reproduces ``ns.models.coba`` bit for bit. A projection's
``salt`` gives it ``key=fold_in(key(seed), salt)`` (as ``ns.models.potjans_diesmann`` keys
each projection). Errors the
constructors or the builder raise are re-raised as :class:`ConfigError` with the entry's
key path.
"""

from __future__ import annotations

import contextlib
import pathlib

import jax
import numpy as np

from .. import connectome as cm
from .. import rates
from ..network import NetworkBuilder
from ._errors import ConfigError, Where
from ._registry import INIT_BOUNDS, INIT_DISTS, parameters, registry
from ._schema import STRUCTURAL

__all__ = ["builder"]


@contextlib.contextmanager
def _at(where: Where):
    """Re-raise the builder's and constructors' ValueError/TypeError at ``where``."""
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, TypeError, ImportError, FileNotFoundError) as e:
        raise ConfigError(where.source, where.path, str(e)) from e


def _obj(v, typ: str = "number"):
    """A normalised value -> what the constructor takes."""
    if isinstance(v, dict):
        if "dist" in v:
            cls, fields = INIT_DISTS[v["dist"]]
            bounds = {b: v[b] for b in INIT_BOUNDS.get(v["dist"], ()) if b in v}
            return cls(*(_obj(v[f]) for f in fields), **bounds)
        return {k: _obj(x) for k, x in v.items()}
    if isinstance(v, list) and typ != "int" and not all(isinstance(x, str) for x in v):
        return np.asarray(v, dtype=np.float64)
    return v


def _kwargs(kind: str, name: str, entry: dict, structural=()) -> dict:
    out = {}
    for p, (_, typ) in parameters(kind, name).items():
        if p not in entry or p in structural:
            continue
        v = entry[p]
        if p == "integrator":
            v = registry("integrator")[v]()
        elif p == "surrogate":
            v = registry("surrogate")[v]()
        elif p == "noise" and kind == "rate_model":
            v = rates.AdditiveNoise(dict(v))
        else:
            v = _obj(v, typ)
        out[p] = v
    return out


def _make(kind: str, entry: dict, key: str = "model", structural=(), **fixed):
    name = entry[key]
    kwargs = _kwargs(kind, name, entry, (key, *structural))
    return registry(kind)[name](**fixed, **kwargs)


def _path(p: str, base: pathlib.Path) -> str:
    q = pathlib.Path(p)
    return str(q if q.is_absolute() else base / q)


def _connectome(c: dict, base: pathlib.Path):
    if "tvb_data" in c:
        return cm.Connectome.from_tvb_data(c["tvb_data"])
    if "zip" in c:
        return cm.Connectome.from_zip(_path(c["zip"], base))
    no_lengths = "tract_lengths" not in c and "centres" not in c  # then no delays: zeros
    if isinstance(c["weights"], str):
        files = {k: _path(c[k], base) for k in ("weights", "tract_lengths", "centres") if k in c}
        lengths = files["weights"] if no_lengths else files.get("tract_lengths")
        con = cm.Connectome.from_files(files["weights"], lengths, files.get("centres"))
        return cm.Connectome(con.weights, np.zeros_like(con.weights)) if no_lengths else con
    w = np.asarray(c["weights"], np.float64)
    lengths = np.zeros_like(w) if no_lengths else c.get("tract_lengths")
    return cm.Connectome(
        w,
        None if lengths is None else np.asarray(lengths, np.float64),
        centres=None if "centres" not in c else np.asarray(c["centres"], np.float64),
    )


def _rate_coupling(e: dict, base: pathlib.Path):
    con = _connectome(e["connectome"], base)
    if not e.get("self_connections", False):
        con = con.without_self_connections()
    normalize = e.get("normalize", "row_sum")
    if normalize != "none":
        con = con.normalized(normalize)
    delays = con.delays(e["velocity"]) if "velocity" in e else None
    kwargs = _kwargs("rate_coupling", e["model"], e, STRUCTURAL["couplings"])
    return registry("rate_coupling")[e["model"]](con.weights, delays=delays, **kwargs)


def _regions(v):
    return v if isinstance(v, (int, type(None))) or isinstance(v[0], str) else np.asarray(v)


def _dynamics(d):
    """A dynamics table -> its object; a list -> ``ns.plasticity.Stack`` of them, in order."""
    if isinstance(d, list):
        from ..plasticity import Stack

        return Stack(*(_make("dynamics", m) for m in d))
    return _make("dynamics", d)


def _conventions(c):
    from ..network import Conventions

    return Conventions(**c) if isinstance(c, dict) else c


def builder(spec: dict, source: str = "<dict>", base_dir=".") -> NetworkBuilder:
    """A builder holding every part of ``spec`` (a normalised spec), not yet built."""
    base = pathlib.Path(base_dir)
    top = Where(source)
    key = jax.random.key(spec["run"]["seed"])
    with _at(top.key("network").key("conventions")):
        conventions = _conventions(spec["network"].get("conventions"))
    b = NetworkBuilder(key=key, conventions=conventions)
    for i, p in enumerate(spec["populations"]):
        at = top.key("populations").item(i)
        with _at(at):
            neuron = _make("neuron", p, structural=STRUCTURAL["populations"], n=p["size"])
            b.add_population(p["name"], neuron, groups=p.get("groups"))
    for i, e in enumerate(spec["inputs"]):
        at = top.key("inputs").item(i)
        with _at(at):
            current = _make("current", e, structural=STRUCTURAL["inputs"])
            b.add_input(e["target"], current, name=e.get("name"))
    for i, e in enumerate(spec["projections"]):
        at = top.key("projections").item(i)
        with _at(at.key("connectivity")):
            gen = _make("generator", e["connectivity"], key="generator")
        with _at(at.key("synapse")):
            syn = _make("synapse", e["synapse"])
        with _at(at.key("output")):
            out = _make("output", e["output"]) if "output" in e else None
        with _at(at.key("dynamics")):
            dyn = _dynamics(e["dynamics"]) if "dynamics" in e else None
        with _at(at):
            b.connect(
                e["pre"],
                e["post"],
                gen,
                weight=_obj(e["weight"]),
                synapse=syn,
                output=out,
                receptor=e.get("receptor"),
                delay=_obj(e.get("delay", 0.0)),
                backend=e.get("backend", "auto"),
                dynamics=dyn,
                key=None if "salt" not in e else jax.random.fold_in(key, e["salt"]),
                name=e.get("name"),
            )
    for i, e in enumerate(spec["poisson_inputs"]):
        at = top.key("poisson_inputs").item(i)
        with _at(at.key("synapse")):
            syn = _make("synapse", e["synapse"]) if "synapse" in e else None
        with _at(at.key("output")):
            out = _make("output", e["output"]) if "output" in e else None
        with _at(at):
            b.add_poisson_input(
                e["target"],
                rate_hz=_obj(e["rate"]),
                weight=_obj(e["weight"]),
                synapse=syn,
                output=out,
                receptor=e.get("receptor"),
                name=e.get("name"),
            )
    for i, e in enumerate(spec["gap_junctions"]):
        at = top.key("gap_junctions").item(i)
        with _at(at.key("connectivity")):
            gen = _make("generator", e["connectivity"], key="generator")
        with _at(at):
            b.gap_junctions(e["target"], gen, weight=_obj(e["weight"]), name=e.get("name"))
    for i, r in enumerate(spec["rate_populations"]):
        at = top.key("rate_populations").item(i)
        with _at(at):
            model = _make("rate_model", r, structural=STRUCTURAL["rate_populations"], n=r["size"])
            b.add_rate_population(r["name"], model)
    for i, e in enumerate(spec["couplings"]):
        at = top.key("couplings").item(i)
        with _at(at):
            if e["model"] in registry("rate_coupling"):
                b.couple(e["pre"], e["post"], _rate_coupling(e, base), name=e.get("name"))
            else:
                c = _make("cross_coupling", e, structural=STRUCTURAL["couplings"])
                b.couple(
                    e["pre"],
                    e["post"],
                    c,
                    delay=e.get("delay", 0.0),
                    regions=_regions(e.get("regions")),
                    nodes=None if "nodes" not in e else np.asarray(e["nodes"]),
                    name=e.get("name"),
                )
    for i, e in enumerate(spec["readouts"]):
        at = top.key("readouts").item(i)
        with _at(at):
            ro = _make("readout", e, structural=STRUCTURAL["readouts"])
            b.add_readout(
                e["name"],
                ro,
                source=e["source"],
                regions=_regions(e.get("regions")),
                variable=e.get("variable"),
            )
    return b
