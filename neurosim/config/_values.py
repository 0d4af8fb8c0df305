"""Checking and normalising the values of a config: numbers with units, distributions, arrays.

A normalised value is plain TOML data (numbers in the canonical unit, lists, distribution
tables ``{dist = "normal", loc = ..., std = ...}``), so a normalised spec can be written back.
"""

from __future__ import annotations

import math
import re

from ._errors import Where, suggest
from ._registry import CANONICAL, INIT_BOUNDS, INIT_DISTS, UNITS, dimension

__all__ = [
    "number", "integer", "string", "boolean", "value", "table", "check_keys", "lowest", "span"
]  # fmt: skip

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*?)?\s*$")


def _show(v) -> str:
    return repr(v) if not isinstance(v, str) else repr(v)


def number(v, at: Where, dim: str | None = None, *, lo=None, hi=None, lo_open=False) -> float:
    """A finite number (or a ``"5 ms"`` string of dimension ``dim``) in the canonical unit."""
    key = at.path.rsplit(".", 1)[-1].split("[")[0]
    unit_hint = f" ({CANONICAL[dim]})" if dim else ""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        at.fail(
            f"must be a number{unit_hint}, got {_show(v)} ({type(v).__name__}); write e.g. "
            f"{key} = 1.0"
        )
    if isinstance(v, str):
        m = _QUANTITY.match(v)
        if not m:
            at.fail(f"must be a number{unit_hint}, got the string {v!r}; write e.g. {key} = 1.0")
        unit = (m.group(2) or "").strip()
        if not unit:
            x = float(m.group(1))
        elif unit not in UNITS:
            at.fail(
                f"unknown unit {unit!r} in {v!r}{suggest(unit, UNITS)}; known units: "
                f"{', '.join(UNITS)}"
            )
        else:
            got, factor = UNITS[unit]
            if dim is None:
                at.fail(
                    f"{v!r} carries a unit, but {key!r} has no known dimension; give a plain number"
                )
            if got != dim:
                choices = [u for u, (d, _) in UNITS.items() if d == dim]
                at.fail(
                    f"{v!r} is a {got}, but {key!r} is a {dim}; use {' or '.join(choices)} "
                    f'(e.g. "{m.group(1)} {CANONICAL[dim]}") or a plain number in '
                    f"{CANONICAL[dim]}"
                )
            x = float(m.group(1)) * factor
    else:
        x = float(v)
    if not math.isfinite(x) and not (hi is None and x == math.inf and key == "stop"):
        at.fail(f"must be a finite number{unit_hint}, got {v!r}")
    u = f" {CANONICAL[dim]}" if dim else ""
    if lo is not None and (x <= lo if lo_open else x < lo):
        at.fail(f"must be {'>' if lo_open else '>='} {lo:g}{u}, got {x:g}")
    if hi is not None and x > hi:
        at.fail(f"must be <= {hi:g}{u}, got {x:g}")
    return x


def integer(v, at: Where, *, lo=None) -> int:
    """An integer (a float with an integral value is refused: sizes are counts)."""
    if isinstance(v, bool) or not isinstance(v, int):
        at.fail(f"must be an integer, got {_show(v)} ({type(v).__name__})")
    if lo is not None and v < lo:
        at.fail(f"must be an integer >= {lo}, got {v}")
    return int(v)


def string(v, at: Where, choices=None) -> str:
    if not isinstance(v, str):
        at.fail(f'must be a string, got {_show(v)} ({type(v).__name__}); quote it: "..."')
    if choices is not None and v not in choices:
        at.fail(f"must be one of {list(choices)}, got {v!r}{suggest(v, choices)}")
    return v


def boolean(v, at: Where) -> bool:
    if not isinstance(v, bool):
        at.fail(f"must be true or false, got {_show(v)} ({type(v).__name__})")
    return v


def table(v, at: Where) -> dict:
    if not isinstance(v, dict):
        at.fail(f"must be a table ({{ key = value, ... }}), got {_show(v)} ({type(v).__name__})")
    return v


def check_keys(tbl: dict, at: Where, allowed, required=()) -> None:
    """Refuse unknown keys (with a did-you-mean) and missing required ones."""
    allowed = list(allowed)
    for k in tbl:
        if k not in allowed:
            at.key(k).fail(
                f"unknown key{suggest(k, allowed)}; allowed here: {', '.join(sorted(allowed))}"
            )
    for k in required:
        if k not in tbl:
            at.fail(f"missing required key {k!r}; add {k} = ...")


def distribution(v: dict, at: Where, dim: str | None) -> dict:
    """``{dist = "normal", loc, std}`` / ``uniform (low, high)`` / ``constant (value)`` /
    ``truncated_normal (loc, std; low, high optional)`` / ``clipped (of = another
    distribution; low, high optional)``; an omitted bound is no bound (-inf / inf)."""
    kind = string(v.get("dist"), at.key("dist"), INIT_DISTS) if "dist" in v else None
    if kind is None:
        at.fail(f"a distribution needs dist = one of {list(INIT_DISTS)}")
    fields, bounds = INIT_DISTS[kind][1], INIT_BOUNDS.get(kind, ())
    check_keys(v, at, ("dist", *fields, *bounds), required=fields)
    out = {"dist": kind}
    for f in fields:
        if f == "of":
            inner = table(v[f], at.key(f))
            if "dist" not in inner:
                at.key(f).fail(
                    'must be a distribution table, e.g. of = { dist = "normal", loc = 1.5, '
                    f"std = 0.75 }}; got {inner!r}"
                )
            out[f] = distribution(inner, at.key(f), dim)
        else:
            out[f] = number(v[f], at.key(f), dim, lo=0.0 if f == "std" else None)
    for f in bounds:
        if f in v:
            out[f] = number(v[f], at.key(f), dim)
    if kind == "uniform" and not out["low"] <= out["high"]:
        at.fail(f"uniform needs low <= high, got low = {out['low']:g}, high = {out['high']:g}")
    if "low" in bounds and "low" in out and "high" in out and not out["low"] < out["high"]:
        at.fail(f"{kind} needs low < high, got low = {out['low']:g}, high = {out['high']:g}")
    return out


def span(d) -> tuple[float, float]:
    """``(lowest, highest)`` a normalised number, list or distribution can take (+-inf:
    unbounded)."""
    if not isinstance(d, dict):
        if isinstance(d, list):
            return (min(d), max(d)) if d else (0.0, 0.0)
        return d, d
    if d["dist"] == "constant":
        return d["value"], d["value"]
    if d["dist"] == "uniform":
        return d["low"], d["high"]
    if d["dist"] == "clipped":
        lo, hi = span(d["of"])
        return max(lo, d.get("low", -math.inf)), min(hi, d.get("high", math.inf))
    if d["std"] == 0:
        return d["loc"], d["loc"]
    if d["dist"] == "truncated_normal":
        return d.get("low", -math.inf), d.get("high", math.inf)
    return -math.inf, math.inf


def lowest(d) -> float:
    """The smallest value a normalised number or distribution can take (-inf: unbounded)."""
    return span(d)[0]


def value(v, at: Where, kind: str = "number", dim: str | None = "auto"):
    """A model parameter of type ``kind`` (see :func:`neurosim.config._registry.parameters`)."""
    if dim == "auto":
        dim = dimension(at.path.rsplit(".", 1)[-1].split("[")[0])
    if kind == "bool":
        return boolean(v, at)
    if kind == "str":
        return string(v, at)
    if kind == "int":
        if isinstance(v, list):
            return [integer(x, at.item(i)) for i, x in enumerate(v)]
        return integer(v, at)
    if isinstance(v, dict):
        if "dist" in v or kind == "number":
            return distribution(v, at, dim)
        return {k: value(x, at.key(k), "number", dim) for k, x in v.items()}
    if isinstance(v, list):
        if kind == "any" and all(isinstance(x, str) for x in v):
            return list(v)
        return [value(x, at.item(i), "number", dim) for i, x in enumerate(v)]
    if kind == "any" and isinstance(v, (str, bool)):
        return v
    return number(v, at, dim)
