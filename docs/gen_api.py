"""mkdocs hook: the API reference, generated from the package's public names at build time.

One page per public subpackage or module of ``neurosim`` (every package under ``neurosim/`` whose
name has no leading underscore, plus the modules ``neurosim.__all__`` names), each listing every
name of its ``__all__`` with a mkdocstrings ``:::`` directive, and an overview page with the
top-level names. Nothing is written to disk: the pages exist only inside the build, so a new
subpackage gets its page (and its place in the navigation) with no edit here or in ``mkdocs.yml``.

Run as a script it prints the pages it would generate (``python docs/gen_api.py``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types

PACKAGE = "neurosim"
NAV_TITLE = "API reference"
API_DIR = "api"


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
        names = [n for n in names if getattr(vars(module)[n], "__module__", "") == module.__name__]
    return list(names)


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    line = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    line = re.sub(r":[a-z:]+:`+~?([^`]+)`+", r"`\1`", line)  # reST roles -> inline code
    return line.replace("|", "\\|")


def submodules(package: types.ModuleType) -> list[str]:
    """Public subpackages and the public modules ``package.__all__`` names, sorted."""
    found = {m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg}
    for name in getattr(package, "__all__", []):
        if isinstance(getattr(package, name, None), types.ModuleType):
            found.add(name)
    return sorted(n for n in found if not n.startswith("_"))


def _entries(qualname: str, module: types.ModuleType) -> list[str]:
    names = _public_names(module)
    rows = ["| name | summary |", "|---|---|"]
    body = []
    for name in names:
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):  # a re-exported module: link to its own page
            continue
        rows.append(f"| [`{name}`](#{qualname}.{name}) | {_summary(obj)} |")
        body += [f"::: {qualname}.{name}"]
        if isinstance(obj, type) and any(b.__name__.endswith("Mixin") for b in obj.__mro__):
            # A class assembled from mixins (NetworkBuilder): show the mixins' methods too.
            body += ["    options:", "      inherited_members: true"]
        body += [""]
    return (rows + [""] if len(rows) > 2 else []) + body


def pages() -> dict[str, tuple[str, str]]:
    """``{uri: (nav title, markdown)}`` of every generated page, the overview first."""
    package = importlib.import_module(PACKAGE)
    subs = submodules(package)
    overview = [
        f"# `{PACKAGE}`",
        "",
        "Generated from the docstrings of every public name at build time. "
        f"`import {PACKAGE} as ns` gives the names below; each subpackage has a page:",
        "",
    ]
    for s in subs:
        module = importlib.import_module(f"{PACKAGE}.{s}")
        overview.append(f"- [`{PACKAGE}.{s}`]({s}.md): {_summary(module)}")
    overview += ["", "## Top-level names", ""]
    top = types.ModuleType(PACKAGE)
    top.__all__ = [
        n for n in package.__all__ if not isinstance(getattr(package, n), types.ModuleType)
    ]
    for n in top.__all__:
        setattr(top, n, getattr(package, n))
    overview += _entries(PACKAGE, top)
    out = {f"{API_DIR}/index.md": ("Overview", "\n".join(overview) + "\n")}
    for s in subs:
        qual = f"{PACKAGE}.{s}"
        module = importlib.import_module(qual)
        text = [
            f"# `{qual}`",
            "",
            f"::: {qual}",
            "    options:",
            "      members: false",
            "      show_root_heading: false",
            "      show_root_toc_entry: false",
            "",
        ]
        text += _entries(qual, module)
        out[f"{API_DIR}/{s}.md"] = (qual, "\n".join(text) + "\n")
    return out


_PAGES: dict[str, tuple[str, str]] = {}


def on_config(config, **kwargs):
    """Fill the navigation's "API reference" entry with the generated pages."""
    _PAGES.clear()
    _PAGES.update(pages())
    api_nav = [{title: uri} for uri, (title, _) in _PAGES.items()]
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and NAV_TITLE in item:
            config["nav"][i] = {NAV_TITLE: api_nav}
            break
    else:
        raise ValueError(
            f"mkdocs.yml: the nav needs an entry {NAV_TITLE!r} for the generated pages"
        )
    return config


def on_files(files, config, **kwargs):
    """Add the generated pages to the build (in memory; nothing is written under docs/)."""
    from mkdocs.structure.files import File

    for uri, (_, text) in _PAGES.items():
        files.append(File.generated(config, uri, content=text))
    return files


if __name__ == "__main__":
    for uri, (title, text) in pages().items():
        print(f"== {uri} ({title}): {text.count(':::')} directives")
