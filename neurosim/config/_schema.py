"""The config schema: each table's keys, checked and normalised (see docs/config.md).

:func:`check` takes the parsed TOML (a dict) and returns the normalised spec: every key
known, every value of the right type and range, numbers in ms/mV/nS/pA/pF/Hz, every name
defined once and every reference to a name defined. Whatever the model constructors and the
builder check beyond this is reported by :mod:`neurosim.config._build` with the same key path.
"""

from __future__ import annotations

from . import _schema_parts as parts
from ._errors import Where, suggest
from ._registry import KINDS, parameters, registry
from ._values import check_keys, integer, lowest, number, string, table, value

__all__ = ["check", "SECTIONS", "SEED_MAX", "STRUCTURAL"]

SEED_MAX = 2**32 - 1
SECTIONS = (
    "network",
    "run",
    "populations",
    "inputs",
    "projections",
    "poisson_inputs",
    "gap_junctions",
    "rate_populations",
    "couplings",
    "readouts",
)
# Keys of each array-of-tables entry that are not parameters of the model it names.
STRUCTURAL = {
    "populations": ("name", "model", "size", "groups"),
    "inputs": ("name", "model", "target"),
    "rate_populations": ("name", "model", "size"),
    "couplings": (
        "name",
        "model",
        "pre",
        "post",
        "delay",
        "regions",
        "nodes",
        "connectome",
        "normalize",
        "self_connections",
        "velocity",
    ),
    "readouts": ("name", "model", "source", "regions", "variable"),
}
_PROJECTION = ("name", "pre", "post", "connectivity", "weight", "delay", "synapse", "output")
_PROJECTION += ("receptor", "backend", "dynamics", "salt")
_KIND = {
    "populations": "neuron",
    "inputs": "current",
    "rate_populations": "rate_model",
    "readouts": "readout",
}
_OBJECT_KEYS = {"integrator": "integrator", "surrogate": "surrogate"}


def _model(tbl: dict, at: Where, kind: str, key: str = "model") -> str:
    if key not in tbl:
        at.fail(f"missing required key {key!r}: {KINDS[kind]}, one of {sorted(registry(kind))}")
    name = string(tbl[key], at.key(key))
    known = registry(kind)
    if name not in known:
        at.key(key).fail(
            f"unknown {kind.replace('_', ' ')} {name!r}{suggest(name, known)}; choose from "
            f"{', '.join(sorted(known))}"
        )
    return name


def _params(tbl: dict, at: Where, kind: str, name: str, structural, dims=None) -> dict:
    """The model's parameters among ``tbl``'s keys, checked against its signature."""
    params = parameters(kind, name)
    check_keys(tbl, at, [*structural, *params])
    out = {}
    for p, (required, typ) in params.items():
        if p not in tbl:
            if required:
                at.fail(f"{name} needs parameter {p!r}; add {p} = ...")
            continue
        v = tbl[p]
        if p in _OBJECT_KEYS:
            out[p] = string(v, at.key(p), registry(_OBJECT_KEYS[p]))
        elif p == "noise" and kind == "rate_model":
            noise = table(v, at.key(p))
            out[p] = {k: number(s, at.key(p).key(k), lo=0.0) for k, s in noise.items()}
        else:
            dim = (dims or {}).get(p, "auto")
            out[p] = value(v, at.key(p), typ, dim)
    return out


def _names(v, at: Where) -> list:
    if isinstance(v, int) and not isinstance(v, bool):
        return integer(v, at, lo=1)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    if isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return [integer(x, at.item(i), lo=0) for i, x in enumerate(v)]
    at.fail(f"must be a number of regions (int), a list of group names or of ints; got {v!r}")


def _population(tbl, at):
    name = _model(tbl, at, "neuron")
    out = {"name": string(tbl.get("name"), at.key("name")) if "name" in tbl else None}
    if out["name"] is None:
        at.fail("missing required key 'name'; add name = \"P\"")
    out["model"] = name
    if "size" not in tbl:
        at.fail("missing required key 'size' (number of neurons); add size = 100")
    out["size"] = integer(tbl["size"], at.key("size"), lo=1)
    if "groups" in tbl:
        groups = table(tbl["groups"], at.key("groups"))
        sizes = {g: integer(s, at.key("groups").key(g), lo=1) for g, s in groups.items()}
        if sum(sizes.values()) != out["size"]:
            at.key("groups").fail(
                f"group sizes sum to {sum(sizes.values())}, but size = {out['size']}; make "
                "them add up"
            )
        out["groups"] = sizes
    out.update(_params(tbl, at, "neuron", name, STRUCTURAL["populations"]))
    return out


def _component(v, at: Where, kind: str, key: str, dims=None) -> dict:
    v = table(v, at)
    name = _model(v, at, kind, key)
    return {key: name, **_params(v, at, kind, name, (key,), dims)}


def _weight_dimension(synapse: dict, output: dict | None) -> str:
    """nS for conductance outputs and receptor presets, pA for CUBA, mV for voltage jumps."""
    model = (output or {}).get("model")
    if synapse["model"] in ("AMPA", "GABA_A", "GABA_B", "NMDA") or model in ("COBA", "MgBlock"):
        return "conductance"
    if model == "VoltageJump" or (model is None and synapse["model"] == "Delta"):
        return "voltage"
    return "current"


def _projection(tbl, at):
    check_keys(tbl, at, _PROJECTION, required=("pre", "post", "connectivity", "synapse"))
    out = {
        k: string(tbl[k], at.key(k))
        for k in ("name", "pre", "post", "receptor", "backend")
        if k in tbl
    }
    out["connectivity"] = _component(
        tbl["connectivity"], at.key("connectivity"), "generator", "generator"
    )
    parts.check_generator(out["connectivity"], at.key("connectivity"))
    out["synapse"] = _component(tbl["synapse"], at.key("synapse"), "synapse", "model")
    if "output" in tbl:
        out["output"] = _component(tbl["output"], at.key("output"), "output", "model")
    dim = _weight_dimension(out["synapse"], out.get("output"))
    if "weight" not in tbl:
        at.fail("missing required key 'weight' (nS for COBA, pA for CUBA); add weight = 1.0")
    out["weight"] = value(tbl["weight"], at.key("weight"), "number", dim)
    if "delay" in tbl:
        d = value(tbl["delay"], at.key("delay"), "number", "time")
        if isinstance(d, float) and d < 0:
            at.key("delay").fail(f"must be >= 0 ms, got {d:g}; a delay beyond the one step")
        if isinstance(d, (dict, list)) and lowest(d) < 0:
            at.key("delay").fail(
                f"a delay distribution must stay >= 0 ms, got {d}; bound it below, e.g. "
                '{ dist = "truncated_normal", loc = 1.5, std = 0.75, low = 0.05 } or '
                '{ dist = "clipped", of = {...}, low = 0.0 }'
            )
        out["delay"] = d
    if "dynamics" in tbl:
        out["dynamics"] = parts.dynamics(tbl["dynamics"], at.key("dynamics"))
        parts.check_plastic_weights(out, at)
    if "salt" in tbl:
        out["salt"] = parts.salt(tbl["salt"], at.key("salt"))
    return out


def _rate_population(tbl, at):
    name = _model(tbl, at, "rate_model")
    for k in ("name", "size"):
        if k not in tbl:
            at.fail(f"missing required key {k!r}; add {k} = ...")
    out = {
        "name": string(tbl["name"], at.key("name")),
        "model": name,
        "size": integer(tbl["size"], at.key("size"), lo=1),
    }
    out.update(_params(tbl, at, "rate_model", name, STRUCTURAL["rate_populations"]))
    return out


def _connectome(v, at: Where) -> dict:
    v = table(v, at)
    forms = ("tvb_data", "zip", "weights")
    given = [f for f in forms if f in v]
    if len(given) != 1:
        at.fail(
            "give exactly one of tvb_data = 76 (regions of the tvb-data sample), "
            'zip = "path.zip" (TVB layout) or weights = "path.txt" / [[...]] (with '
            f"tract_lengths optional); got {sorted(v) or 'none'}"
        )
    if given[0] == "tvb_data":
        check_keys(v, at, ("tvb_data",))
        from ..connectome import TVB_DATA_REGIONS

        n = integer(v["tvb_data"], at.key("tvb_data"))
        if n not in TVB_DATA_REGIONS:
            at.key("tvb_data").fail(f"must be one of {list(TVB_DATA_REGIONS)}, got {n}")
        return {"tvb_data": n}
    if given[0] == "zip":
        check_keys(v, at, ("zip",))
        return {"zip": string(v["zip"], at.key("zip"))}
    check_keys(v, at, ("weights", "tract_lengths", "centres"))
    out = {}
    for k in ("weights", "tract_lengths", "centres"):
        if k in v:
            out[k] = v[k] if isinstance(v[k], str) else value(v[k], at.key(k), "number", None)
    return out


def _coupling(tbl, at):
    kinds = ("rate_coupling", "cross_coupling")
    m = string(tbl.get("model"), at.key("model")) if "model" in tbl else None
    kind = next((k for k in kinds if m in registry(k)), None)
    if kind is None:
        known = [*registry("rate_coupling"), *registry("cross_coupling")]
        if m is None:
            at.fail(f"missing required key 'model', one of {known}")
        at.key("model").fail(f"unknown coupling {m!r}{suggest(m, known)}; choose from {known}")
    check_keys(tbl, at, [*STRUCTURAL["couplings"], *parameters(kind, m)], ("pre", "post"))
    out = {k: string(tbl[k], at.key(k)) for k in ("name", "pre", "post") if k in tbl}
    out["model"] = m
    if kind == "rate_coupling":
        for k in ("delay", "regions", "nodes"):
            if k in tbl:
                at.key(k).fail(
                    f"is for cross-scale couplings; a {m} takes its delays from the "
                    "connectome's tract lengths and velocity"
                )
        if "connectome" not in tbl:
            at.fail(f"a {m} needs connectome = {{ tvb_data = 76 }} (or a file, or weights)")
        out["connectome"] = _connectome(tbl["connectome"], at.key("connectome"))
        if "normalize" in tbl:
            out["normalize"] = string(
                tbl["normalize"], at.key("normalize"), ("row_sum", "max", "none")
            )
        if "self_connections" in tbl:
            out["self_connections"] = value(
                tbl["self_connections"], at.key("self_connections"), "bool"
            )
        if "velocity" in tbl:
            out["velocity"] = number(tbl["velocity"], at.key("velocity"), lo=0.0, lo_open=True)
            con = out["connectome"]
            if "weights" in con and "tract_lengths" not in con and "centres" not in con:
                at.key("velocity").fail(
                    "delays need tract lengths: add tract_lengths (mm) or centres (mm) to the "
                    "connectome, or drop velocity (no delays)"
                )
    else:
        for k in ("connectome", "normalize", "self_connections", "velocity"):
            if k in tbl:
                at.key(k).fail(f"is for rate -> rate couplings, not a {m}")
        if "delay" in tbl:
            out["delay"] = number(tbl["delay"], at.key("delay"), "time", lo=0.0)
        if "regions" in tbl:
            out["regions"] = _names(tbl["regions"], at.key("regions"))
        if "nodes" in tbl:
            if not isinstance(tbl["nodes"], list):
                at.key("nodes").fail(f"must be a list of node indices, got {tbl['nodes']!r}")
            out["nodes"] = [
                integer(x, at.key("nodes").item(i), lo=0) for i, x in enumerate(tbl["nodes"])
            ]
    out.update(_params(tbl, at, kind, m, STRUCTURAL["couplings"]))
    return out


def _input(tbl, at):
    name = _model(tbl, at, "current")
    if "target" not in tbl:
        at.fail("missing required key 'target' (a population or group name)")
    out = {"target": string(tbl["target"], at.key("target")), "model": name}
    if "name" in tbl:
        out["name"] = string(tbl["name"], at.key("name"))
    out.update(_params(tbl, at, "current", name, STRUCTURAL["inputs"]))
    return out


def _readout(tbl, at):
    name = _model(tbl, at, "readout")
    for k in ("name", "source"):
        if k not in tbl:
            at.fail(f'missing required key {k!r}; add {k} = "..."')
    out = {
        "name": string(tbl["name"], at.key("name")),
        "model": name,
        "source": string(tbl["source"], at.key("source")),
    }
    if "regions" in tbl:
        out["regions"] = _names(tbl["regions"], at.key("regions"))
    if "variable" in tbl:
        out["variable"] = string(tbl["variable"], at.key("variable"))
    out.update(_params(tbl, at, "readout", name, STRUCTURAL["readouts"]))
    return out


def _record(v, at: Where) -> list:
    if not isinstance(v, list):
        at.fail('must be a list of targets: ["P.v", { target = "rate", every = 10 }]')
    out = []
    for i, r in enumerate(v):
        a = at.item(i)
        if isinstance(r, str):
            r = {"target": r}
        r = table(r, a)
        check_keys(r, a, ("target", "every", "indices"), required=("target",))
        t = {"target": string(r["target"], a.key("target"))}
        if "every" in r:
            t["every"] = integer(r["every"], a.key("every"), lo=1)
        if "indices" in r:
            if not isinstance(r["indices"], list):
                a.key("indices").fail(f"must be a list of indices, got {r['indices']!r}")
            t["indices"] = [
                integer(x, a.key("indices").item(j), lo=0) for j, x in enumerate(r["indices"])
            ]
        out.append(t)
    return out


def _run(tbl, at):
    check_keys(tbl, at, ("dt", "duration", "seed", "record", "record_spikes", "allow_coarse_dt"))
    out = {
        "dt": number(tbl.get("dt", 0.1), at.key("dt"), "time", lo=0.0, lo_open=True),
        "duration": number(
            tbl.get("duration", 1000.0), at.key("duration"), "time", lo=0.0, lo_open=True
        ),
        "seed": integer(tbl.get("seed", 0), at.key("seed"), lo=0),
        "record": _record(tbl.get("record", []), at.key("record")),
    }
    if "allow_coarse_dt" in tbl:
        out["allow_coarse_dt"] = value(tbl["allow_coarse_dt"], at.key("allow_coarse_dt"), "bool")
    if "record_spikes" in tbl:
        out["record_spikes"] = parts.record_spikes(tbl["record_spikes"], at.key("record_spikes"))
    if out["seed"] > SEED_MAX:
        at.key("seed").fail(f"must be <= {SEED_MAX} (a JAX key holds 32 bits), got {out['seed']}")
    return out


_ENTRY = {
    "populations": _population,
    "inputs": _input,
    "projections": _projection,
    "poisson_inputs": parts.poisson_input,
    "gap_junctions": parts.gap_junction,
    "rate_populations": _rate_population,
    "couplings": _coupling,
    "readouts": _readout,
}


def check(raw: dict, source: str) -> dict:
    """The normalised spec of a parsed config; raises :class:`ConfigError`."""
    top = Where(source)
    check_keys(raw, top, SECTIONS)
    spec = {}
    net = table(raw.get("network", {}), top.key("network"))
    check_keys(net, top.key("network"), ("name", "description", "conventions"))
    spec["network"] = {
        k: string(v, top.key("network").key(k)) for k, v in net.items() if k != "conventions"
    }
    if "conventions" in net:
        at = top.key("network").key("conventions")
        spec["network"]["conventions"] = parts.conventions(net["conventions"], at)
    spec["network"].setdefault("name", "network")
    spec["run"] = _run(table(raw.get("run", {}), top.key("run")), top.key("run"))
    for section, entry in _ENTRY.items():
        items = raw.get(section, [])
        if not isinstance(items, list):
            top.key(section).fail(f"must be an array of tables: write [[{section}]] per entry")
        spec[section] = [
            entry(table(t, top.key(section).item(i)), top.key(section).item(i))
            for i, t in enumerate(items)
        ]
    if not spec["populations"] and not spec["rate_populations"]:
        top.fail("the network has no populations; add a [[populations]] or [[rate_populations]]")
    from ._refs import check_references

    check_references(spec, top)
    return spec
