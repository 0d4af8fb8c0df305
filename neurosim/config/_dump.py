"""Writing a spec back as TOML: a small writer for the subset a spec uses.

Written by hand rather than adding a dependency (``tomli-w``): a spec holds only tables,
arrays of tables, strings, booleans, integers, floats, lists and inline tables, and floats
are written with ``repr`` (shortest text that reads back to the same float), so
``load(dump(spec))`` gives the same spec and the same network.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import re

__all__ = ["dumps_spec", "relocate"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_ORDER = ("network", "run")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON escapes are valid TOML basic strings
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} as TOML")


def _inline(v) -> bool:
    """A value written on its key's line (scalars, lists, small or distribution tables)."""
    return not isinstance(v, dict) or "dist" in v or len(_scalar(v)) <= 80


def _stack(v) -> bool:
    """A list of tables too long for one line (stacked projection dynamics): one a line."""
    return isinstance(v, list) and bool(v) and isinstance(v[0], dict) and len(_scalar(v)) > 80


def _table(lines: list, header: str, tbl: dict) -> None:
    lines.append(header)
    subs = []
    for k, v in tbl.items():
        if v is None:
            continue
        if _stack(v):
            lines.append(f"{_key(k)} = [")
            lines.extend(f"    {_scalar(x)}," for x in v)
            lines.append("]")
        elif _inline(v):
            lines.append(f"{_key(k)} = {_scalar(v)}")
        else:
            subs.append((k, v))
    name = header.strip("[]")
    for k, v in subs:
        lines.append("")
        _table(lines, f"[{name}.{_key(k)}]", v)


def dumps_spec(spec: dict) -> str:
    """The TOML text of a normalised spec."""
    lines = ["# neurosim network config (docs/config.md)", ""]
    for section in (*_ORDER, *(s for s in spec if s not in _ORDER)):
        v = spec.get(section)
        if isinstance(v, dict):
            _table(lines, f"[{section}]", v)
            lines.append("")
        elif isinstance(v, list):
            for entry in v:
                _table(lines, f"[[{section}]]", entry)
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def relocate(spec: dict, base_dir, dest_dir) -> dict:
    """A copy of ``spec`` whose relative connectome file paths (relative to ``base_dir``)
    are rewritten relative to ``dest_dir``."""
    base, dest = pathlib.Path(base_dir).resolve(), pathlib.Path(dest_dir).resolve()
    out = {**spec, "couplings": []}
    for c in spec.get("couplings", []):
        c = dict(c)
        con = dict(c.get("connectome", {}))
        for k in ("zip", "weights", "tract_lengths", "centres"):
            if isinstance(con.get(k), str) and not os.path.isabs(con[k]):
                con[k] = os.path.relpath(base / con[k], dest)
        if con:
            c["connectome"] = con
        out["couplings"].append(c)
    return out
