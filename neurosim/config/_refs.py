"""Names in a config: each defined once, each reference to one defined (with did-you-mean)."""

from __future__ import annotations

from ._errors import Where, suggest
from ._registry import registry

__all__ = ["check_references", "default_names"]


def _auto(pre: str, post: str, taken: set) -> str:
    name, k = f"{pre}->{post}", 1
    while name in taken:
        k += 1
        name = f"{pre}->{post}#{k}"
    return name


def default_names(spec: dict) -> dict:
    """``{section: [name of each entry]}``, with the builder's default names where none given."""
    taken: set = set()
    for p in spec["populations"]:
        taken |= {p["name"], *p.get("groups", {})}
    taken |= {r["name"] for r in spec["rate_populations"]}
    out = {}
    for section in ("inputs", "projections", "poisson_inputs", "gap_junctions", "couplings"):
        names = []
        for i, e in enumerate(spec[section]):
            if "name" in e:
                n = e["name"]
            elif section == "inputs":
                n = f"input{i}->{e['target']}"
            elif section == "poisson_inputs":
                n = f"poisson{i}->{e['target']}"
            elif section == "gap_junctions":
                n = f"gap:{e['target']}"
            else:
                n = _auto(e["pre"], e["post"], taken)
            names.append(n)
            taken.add(n)
        out[section] = names
    return out


def _spike_source(pop: dict) -> bool:
    from ..neurons import AbstractSpikeSource

    return issubclass(registry("neuron")[pop["model"]], AbstractSpikeSource)


def check_references(spec: dict, top: Where) -> None:
    """Refuse a name defined twice and a reference to an undefined name."""
    seen: dict = {}

    def define(name: str, at: Where) -> None:
        if not name or any(c in name for c in ". /"):
            at.fail(f"names must be non-empty, without '.', '/' or spaces, got {name!r}")
        if name in seen:
            at.fail(f"duplicate name {name!r}, already defined at {seen[name]}; rename one")
        seen[name] = at.path

    spiking, sources = {}, set()
    for i, p in enumerate(spec["populations"]):
        at = top.key("populations").item(i)
        define(p["name"], at.key("name"))
        spiking[p["name"]] = p["name"]
        for g in p.get("groups", {}):
            define(g, at.key("groups").key(g))
            spiking[g] = p["name"]
        if _spike_source(p):
            sources |= {p["name"], *p.get("groups", {})}
    rate = set()
    for i, r in enumerate(spec["rate_populations"]):
        define(r["name"], top.key("rate_populations").item(i).key("name"))
        rate.add(r["name"])
    names = default_names(spec)

    def ref(name: str, at: Where, allowed: set, what: str) -> None:
        if name not in allowed:
            at.fail(
                f"{name!r} is not {what}{suggest(name, allowed)}; defined: "
                f"{', '.join(sorted(allowed)) or 'none'}"
            )

    for i, e in enumerate(spec["inputs"]):
        at = top.key("inputs").item(i)
        ref(e["target"], at.key("target"), set(spiking) - sources, "a neuron population or group")
        define(names["inputs"][i], at.key("name"))
    for i, e in enumerate(spec["projections"]):
        at = top.key("projections").item(i)
        ref(e["pre"], at.key("pre"), set(spiking), "a spiking population or group")
        ref(e["post"], at.key("post"), set(spiking) - sources, "a neuron population or group")
        define(names["projections"][i], at.key("name"))
    neurons = set(spiking) - sources
    for section in ("poisson_inputs", "gap_junctions"):
        for i, e in enumerate(spec[section]):
            at = top.key(section).item(i)
            ref(e["target"], at.key("target"), neurons, "a neuron population or group")
            define(names[section][i], at.key("name"))
    for i, e in enumerate(spec["couplings"]):
        at = top.key("couplings").item(i)
        both = set(spiking) | rate
        ref(e["pre"], at.key("pre"), both, "a population or group")
        ref(e["post"], at.key("post"), both, "a population or group")
        define(names["couplings"][i], at.key("name"))
    readouts = set()
    for i, e in enumerate(spec["readouts"]):
        at = top.key("readouts").item(i)
        ref(
            e["source"],
            at.key("source"),
            set(spiking) | rate | readouts,
            "a population, group or earlier readout",
        )
        define(e["name"], at.key("name"))
        readouts.add(e["name"])
    chosen = spec["run"].get("record_spikes")
    if isinstance(chosen, list):
        pops = {p["name"] for p in spec["populations"]}
        for i, name in enumerate(chosen):
            ref(name, top.key("run").key("record_spikes").item(i), pops, "a spiking population")
    for i, r in enumerate(spec["run"]["record"]):
        head = r["target"].split(".", 1)[0]
        ref(
            head,
            top.key("run").key("record").item(i).key("target"),
            set(seen),
            "a defined name (the part before the first '.': 'P' in 'P.v')",
        )
