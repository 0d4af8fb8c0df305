"""Import hygiene: no import cycles, no private names reached across subpackages.

* Each subpackage imports first in a fresh interpreter, in several orders (a cycle shows up
  as an ``ImportError``/``AttributeError`` on a partially initialised module only for some
  entry points, so every entry point is tried).
* The module-level imports between subpackages form an acyclic graph (the static version of
  the same property: it also holds for entry orders not tried above).
* No module imports a private name (``_x``), or a name from a private module, of another
  subpackage; the root's private modules (``neurosim._validate``, ``neurosim._streams``, ...)
  are the shared layer below every subpackage and may be imported for their public names.
"""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "neurosim"
SUBPACKAGES = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())

# Entry orders. Importing ``neurosim.x`` normally runs ``neurosim/__init__.py`` first, which
# imports every subpackage in one fixed order; so the child interpreter installs a bare
# ``neurosim`` package (its ``__path__`` only) and the subpackages really are entered in the
# order given. The real ``neurosim/__init__.py`` then runs last, into the same package.
FIRST = ("ops", "connectivity", "network", "rates", "train", "fit", "plasticity")
ORDERS = [(name,) for name in FIRST] + [("connectivity", "ops"), ("synapses", "neurons", "ops")]

_CHILD = """
import importlib, sys, types
pkg = types.ModuleType({pkg!r})
pkg.__path__ = [{path!r}]
pkg.__file__ = {init!r}
sys.modules[{pkg!r}] = pkg
for name in {order!r}:
    m = importlib.import_module({pkg!r} + "." + name)
    assert m.__all__, name
exec(compile(open({init!r}).read(), {init!r}, "exec"), pkg.__dict__)
"""


def _child(order, pkg="neurosim", root=PKG) -> subprocess.Popen:
    code = _CHILD.format(pkg=pkg, path=str(root), init=str(root / "__init__.py"), order=order)
    env = dict(os.environ, PYTHONPATH=str(root.parent), JAX_PLATFORMS="cpu")
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_subpackages_import_first_in_fresh_interpreters():
    """Every order in its own fresh interpreter (started together; ~4 s of CPU each)."""
    procs = [(order, _child(order)) for order in ORDERS]
    failed = []
    for order, proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            failed.append(f"order {' -> '.join(order)}:\n{err[-1500:]}")
    assert not failed, "\n\n".join(failed)


def test_the_child_harness_detects_a_cycle(tmp_path):
    """The harness itself: a cycle through two subpackages' __init__ fails when entered."""
    root = tmp_path / "toy"
    for name, other in (("a", "b"), ("b", "a")):
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("from ._x import X\n\n__all__ = ['X']\n")
        (root / name / "_x.py").write_text(f"from ..{other} import X as Y\n\nX = 1\n")
    (root / "__init__.py").write_text("")
    proc = _child(("a",), pkg="toy", root=root)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "partially initialized" in err


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_pkg = parts[-1] == "__init__"
        module = parts[:-1] if is_pkg else parts
        package = module if is_pkg else module[:-1]
        yield path, module, package


def _absolute(node: ast.ImportFrom, package: tuple) -> tuple:
    if node.level == 0:
        return tuple((node.module or "").split("."))
    base = package[: len(package) - (node.level - 1)]
    return base + (tuple(node.module.split(".")) if node.module else ())


def _top_imports(tree):
    """Import nodes executed at import time (module body, including ``if``/``try`` blocks)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            stack.extend(ast.iter_child_nodes(node))


def _subpackage(module: tuple) -> str:
    """``neurosim.ops._csr`` -> ``ops``; root modules (``neurosim._validate``) -> themselves."""
    return module[1] if len(module) > 1 else "<root>"


def test_no_private_names_across_subpackages():
    bad = []
    for path, module, package in _modules():
        own = _subpackage(module)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):  # function-local imports count too
            if isinstance(node, ast.Import):
                targets = [(tuple(a.name.split(".")), None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, package)
                targets = [(base, a.name) for a in node.names]
            else:
                continue
            for target, name in targets:
                if target[0] != "neurosim" or len(target) < 2:
                    continue
                other = target[1]
                root_module = not (PKG / other).is_dir()
                if root_module or other == own:
                    # The root layer (neurosim._x) is shared: only its private names are off.
                    if root_module and other != own and name and name.startswith("_"):
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
                    continue
                private_module = any(p.startswith("_") for p in target[2:])
                private_name = name is not None and name.startswith("_")
                if private_module or private_name:
                    where = ".".join(target) + (f".{name}" if name else "")
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {where}")
    assert not bad, "private names imported across subpackages:\n" + "\n".join(bad)


def test_module_level_imports_between_subpackages_are_acyclic():
    graph: dict[str, set[str]] = {}
    for path, module, package in _modules():
        if len(module) < 2:
            continue  # neurosim/__init__.py imports everything by design
        src = _subpackage(module)
        for node in _top_imports(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _absolute(node, package)
            if target[0] != "neurosim":
                continue
            names = [a.name for a in node.names] if len(target) == 1 else [target[1]]
            for dst in names:
                if dst != src:
                    graph.setdefault(src, set()).add(dst)
    # Depth-first search for a back edge; report the cycle.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(u):
        state[u] = 1
        path.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                cycle = path[path.index(v) :] + [v]
                raise AssertionError("import cycle between subpackages: " + " -> ".join(cycle))
            if v not in state:
                visit(v)
        path.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u)
    assert "ops" in graph and "connectivity" not in graph.get("ops", ())
