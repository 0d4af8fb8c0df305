"""The documentation: every page's Python code runs, and the site's generators do their job.

Each page under ``docs/`` with fenced ``python`` blocks is run as one script (its blocks in
order, as a reader would paste them) in a fresh interpreter in a temporary directory. A page
opts out with ``<!-- docs-test: skip (why) -->`` (code that needs files a CLI run writes, or
repeats a tested page) and is marked slow with ``<!-- docs-test: slow -->``. The strict build
and the browser check are ``make docs-check`` (run by ``.ci/run``); here are the pieces that
need neither mkdocs nor a browser: the API pages list every public name, the link checker
finds broken links.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import pkgutil
import re
import subprocess
import sys
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages():
    out = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        if not BLOCK.search(text) or "<!-- docs-test: skip" in text:
            continue
        marks = [pytest.mark.slow] if "<!-- docs-test: slow -->" in text else []
        out.append(pytest.param(page, id=page.relative_to(DOCS).as_posix(), marks=marks))
    return out


def test_tutorials_are_all_tested():
    tested = {p.values[0].relative_to(DOCS).as_posix() for p in _pages()}
    tutorials = {p.relative_to(DOCS).as_posix() for p in (DOCS / "tutorials").glob("*.md")}
    assert tutorials and tutorials <= tested, tutorials - tested


@pytest.mark.parametrize("page", _pages())
def test_page_code_runs(page, tmp_path):
    code = "\n".join(BLOCK.findall(page.read_text()))
    script = tmp_path / (page.stem + ".py")
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"{page.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    )


def test_api_pages_list_every_public_name():
    import neurosim

    pages = _load("gen_api").pages()
    text = "\n".join(md for _, md in pages.values())
    directives = set(re.findall(r"^::: (\S+)$", text, flags=re.M))
    # Independent listing: every public subpackage on disk, every public module neurosim names.
    subs = {m.name for m in pkgutil.iter_modules(neurosim.__path__) if m.ispkg}
    subs |= {n for n in neurosim.__all__ if isinstance(getattr(neurosim, n), types.ModuleType)}
    subs = {s for s in subs if not s.startswith("_")}
    assert {f"api/{s}.md" for s in subs} | {"api/index.md"} == set(pages)
    expected = set()
    for s in subs:
        module = importlib.import_module(f"neurosim.{s}")
        expected.add(f"neurosim.{s}")
        for name in module.__all__:
            if not isinstance(getattr(module, name), types.ModuleType):
                expected.add(f"neurosim.{s}.{name}")
    for name in neurosim.__all__:
        if not isinstance(getattr(neurosim, name), types.ModuleType):
            expected.add(f"neurosim.{name}")
    assert expected == directives, (expected - directives, directives - expected)


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.M))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages == listed, (pages - listed, listed - pages)


def test_docstring_rewrite():
    rewrite = _load("griffe_docstrings").rewrite
    doc = (
        "Sum, see :func:`~neurosim.run`, :func:``ns.simulate`` and :math:`x^2`.\n\n"
        ".. math::\n    a = b\n\n    c = d\n\nArgs:\n    x: value.\n\n"
        "Example:\n    >>> 1 + 1\n    2\n"
    )
    out = rewrite(doc)
    assert (
        "``neurosim.run``" in out
        and "``ns.simulate``" in out
        and "``x^2``" in out
        and ":func:" not in out
    )
    assert "```text\na = b\n\nc = d\n```" in out
    assert "\nExamples:\n    >>> 1 + 1" in out and "Example:" not in out.replace("Examples:", "")


def test_link_checker_finds_broken_links(tmp_path):
    check_links = _load("check_site").check_links
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<h1 id="top">x</h1><a href="a/">ok</a><a href="a/#sec">ok</a><a href="#top">ok</a>'
        '<a href="https://example.org/x">external</a><a href="b/">missing</a>'
        '<a href="a/#nope">bad fragment</a><img src="fig.png"><a href="../up.html">out</a>'
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="sec">s</h2><a href="../index.html#top">')
    problems = check_links(tmp_path)
    assert sorted(problems) == sorted(
        [
            "index.html: b/ (no such file)",
            "index.html: a/#nope (no id 'nope' on the target page)",
            "index.html: fig.png (no such file)",
            "index.html: ../up.html (leaves the site)",
        ]
    )


def test_benchmark_figures_are_drawn_from_the_results_tables(tmp_path):
    figures = _load("benchmarks/figures")
    text = figures.RESULTS.read_text()
    times = figures.run_times(text)
    assert {"neurosim", "NEST 3.10"} <= set(times) and len(times["neurosim"]) >= 2
    rates = figures.validation_rates(text)
    assert set(rates) == {"COBA", "CUBA", "COBAHH"}
    assert all(0 < v[0] < 100 and 0 < v[2] < 100 for v in rates.values())
    drawn = figures.draw(tmp_path)
    for p in drawn:  # the pages show the committed copies
        assert p.stat().st_size > 0 and (DOCS / "benchmarks" / p.name).is_file()
        assert (
            f"]({p.name})"
            in (DOCS / "benchmarks" / "results.md").read_text()
            + (DOCS / "benchmarks" / "validation.md").read_text()
        )
