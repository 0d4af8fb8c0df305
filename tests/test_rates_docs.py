"""The docstring examples of neurosim.rates and neurosim.analysis run as written."""

import doctest
import importlib
import pkgutil

import pytest

import neurosim as ns

MODULES = [
    f"{pkg.__name__}.{m.name}"
    for pkg in (ns.rates, ns.analysis)
    for m in pkgutil.iter_modules(pkg.__path__)
]


@pytest.mark.slow
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
