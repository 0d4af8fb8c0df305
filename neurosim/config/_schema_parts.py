"""Schema of the parts added for the NEST models: per-neuron Poisson input, gap junctions,
projection dynamics (STP, STDP, both stacked), timing conventions and which spikes to record.

Each function takes the raw table (``at``: its key path) and returns its normalised form, or
raises :class:`~neurosim.config.ConfigError` naming the key path, the value and what is
allowed, as :mod:`neurosim.config._schema` does for the other sections.
"""

from __future__ import annotations

import dataclasses
import functools
import typing

from ._errors import Where
from ._registry import registry
from ._values import check_keys, integer, number, string, value

__all__ = [
    "conventions",
    "dynamics",
    "gap_junction",
    "poisson_input",
    "record_spikes",
    "literal_choices",
    "salt",
    "check_generator",
    "check_plastic_weights",
    "CONVENTIONS",
]

CONVENTIONS = ("default", "nest")
_POISSON = ("name", "target", "rate", "weight", "synapse", "output", "receptor")
_GAP = ("name", "target", "connectivity", "weight")


@functools.cache
def literal_choices(kind: str, name: str) -> dict:
    """``{param: allowed strings}`` of the ``Literal[...]`` parameters of a registered model."""
    target = registry(kind)[name]
    try:
        hints = typing.get_type_hints(getattr(target, "__init__", target))
    except Exception:  # an annotation that cannot be resolved: the constructor checks
        return {}
    return {
        p: typing.get_args(h) for p, h in hints.items() if typing.get_origin(h) is typing.Literal
    }


def conventions(v, at: Where):
    """``"default"`` / ``"nest"``, or a table of :class:`neurosim.network.Conventions`' fields."""
    from ..network import Conventions

    if isinstance(v, str):
        return string(v, at, CONVENTIONS)
    if not isinstance(v, dict):
        at.fail(
            f'must be "default", "nest" or a table {{ delay = "total", refractory = "nest", '
            f'spike_time = "end" }}, got {v!r} ({type(v).__name__})'
        )
    hints = typing.get_type_hints(Conventions)
    fields = {f.name: typing.get_args(hints[f.name]) for f in dataclasses.fields(Conventions)}
    check_keys(v, at, fields)
    return {k: string(x, at.key(k), fields[k]) for k, x in v.items()}


def _member(v, at: Where) -> dict:
    from ._schema import _component

    entry = _component(v, at, "dynamics", "model")
    for p, allowed in literal_choices("dynamics", entry["model"]).items():
        if p in entry:
            string(entry[p], at.key(p), allowed)
    return entry


def dynamics(v, at: Where):
    """One projection-dynamics table, or a list of them applied in order (``ns.plasticity.Stack``:
    e.g. short-term plasticity and STDP on one projection)."""
    if isinstance(v, list):
        if not v:
            at.fail('must name at least one rule: [{ model = "TsodyksMarkram", ... }, ...]')
        return [_member(m, at.item(i)) for i, m in enumerate(v)]
    if not isinstance(v, dict):
        at.fail(
            'must be a table { model = "TsodyksMarkram", U = 0.5, tau_rec = 800.0 } or a list '
            f"of them (stacked), got {v!r} ({type(v).__name__})"
        )
    return _member(v, at)


def check_plastic_weights(proj: dict, at: Where) -> None:
    """An STDP rule's weights start within its ``[w_min, w_max]`` (else the network could be
    built but not simulated): the weight's range must lie inside the bounds."""
    import inspect

    from ._values import span

    rules = proj["dynamics"] if isinstance(proj["dynamics"], list) else [proj["dynamics"]]
    for rule in rules:
        defaults = inspect.signature(registry("dynamics")[rule["model"]]).parameters
        if "w_min" not in defaults:
            continue
        w_min = rule.get("w_min", defaults["w_min"].default)
        w_max = rule.get("w_max", defaults["w_max"].default)
        lo, hi = span(proj["weight"])
        if lo < w_min or hi > w_max:
            at.key("weight").fail(
                f"{rule['model']} needs initial weights in [w_min, w_max] = [{w_min:g}, "
                f"{w_max:g}], but weight = {proj['weight']} ranges over [{lo:g}, {hi:g}]; "
                "bound it (truncated_normal with low/high, uniform) or move w_min/w_max"
            )


def _per_neuron(v, at: Where, dim, lo=None) -> float | list:
    """A number or a list of numbers (one per neuron), not a distribution."""
    if isinstance(v, dict):
        at.fail(f"must be a number or a list with one per neuron, not a distribution: got {v!r}")
    if isinstance(v, list):
        if not v:
            at.fail("must be a number or a non-empty list with one per neuron, got []")
        return [number(x, at.item(i), dim, lo=lo) for i, x in enumerate(v)]
    return number(v, at, dim, lo=lo)


def poisson_input(tbl: dict, at: Where) -> dict:
    """``[[poisson_inputs]]``: each neuron of ``target`` its own Poisson train of ``rate`` Hz
    (:meth:`neurosim.NetworkBuilder.add_poisson_input`)."""
    from ._schema import _component, _weight_dimension

    check_keys(tbl, at, _POISSON, required=("target", "rate", "weight"))
    out = {k: string(tbl[k], at.key(k)) for k in ("name", "target", "receptor") if k in tbl}
    out["rate"] = _per_neuron(tbl["rate"], at.key("rate"), "rate", lo=0.0)
    if "synapse" in tbl:
        out["synapse"] = _component(tbl["synapse"], at.key("synapse"), "synapse", "model")
    elif "receptor" not in tbl:
        at.fail(
            'give synapse = { model = "Exponential", tau = 0.5 } (the kinetics of the receptor '
            'it feeds) or receptor = "..." naming a receptor of a projection onto the target'
        )
    if "output" in tbl:
        if "synapse" not in tbl:
            at.key("output").fail("needs synapse = {...} (the kinetics of a new receptor)")
        out["output"] = _component(tbl["output"], at.key("output"), "output", "model")
    dim = _weight_dimension(out["synapse"], out.get("output")) if "synapse" in out else None
    out["weight"] = _per_neuron(tbl["weight"], at.key("weight"), dim)
    return out


def gap_junction(tbl: dict, at: Where) -> dict:
    """``[[gap_junctions]]``: electrical coupling within ``target`` (conductance, nS)."""
    from ._schema import _component

    check_keys(tbl, at, _GAP, required=("target", "connectivity", "weight"))
    out = {k: string(tbl[k], at.key(k)) for k in ("name", "target") if k in tbl}
    conn = _component(tbl["connectivity"], at.key("connectivity"), "generator", "generator")
    check_generator(conn, at.key("connectivity"))
    out["connectivity"] = conn
    w = value(tbl["weight"], at.key("weight"), "number", "conductance")
    if isinstance(w, float) and w < 0:
        at.key("weight").fail(f"must be >= 0 nS, got {w:g}; a junction is a conductance")
    out["weight"] = w
    return out


def record_spikes(v, at: Where):
    """``true`` / ``"all"`` (every population), ``false`` (none) or a list of population
    names; absent: every population but spike sources."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return string(v, at, ("all",))
    if isinstance(v, list):
        return [string(x, at.item(i)) for i, x in enumerate(v)]
    at.fail(
        'must be true, false, "all" or a list of population names (["L23E", "L4E"]), got '
        f"{v!r} ({type(v).__name__})"
    )


def salt(v, at: Where) -> int:
    """A projection's key salt: its draws come from ``fold_in(key(seed), salt)``."""
    n = integer(v, at, lo=0)
    if n >= 2**32:
        at.fail(f"must be < 2**32 (jax.random.fold_in takes 32 bits), got {n}")
    return n


def check_generator(conn: dict, at: Where) -> None:
    """Ranges the generators' signatures do not say: ``p`` in [0, 1], ``k``/``n`` >= 0."""
    if "p" in conn:
        number(conn["p"], at.key("p"), lo=0.0, hi=1.0)
    for k in ("k", "n"):
        if k in conn:
            integer(conn[k], at.key(k), lo=0)
