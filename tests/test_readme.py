"""The README's Python snippets run as written, each on its own (a reader pastes one)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_snippets():
    assert len(BLOCKS) >= 5
    assert any("ns.viz.raster(" in b for b in BLOCKS)  # checked below: the figure is written
    assert any("optax.adam(0.3)" in b for b in BLOCKS)  # checked below: the fit converges


@pytest.mark.slow
@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_snippet_runs_on_its_own(k, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}  # fresh: nothing from the snippets before it
    exec(compile(BLOCKS[k], f"{README}:snippet{k + 1}", "exec"), namespace)  # noqa: S102
    if "ns.viz.raster(" in BLOCKS[k]:
        assert (tmp_path / "raster.png").exists()
    if "optax.adam(0.3)" in BLOCKS[k]:
        # The fitting snippet recovers the ground-truth parameters (12 ms, 8 nS).
        fitted = [float(x) for x in namespace["params"]]
        assert abs(fitted[0] - 12.0) < 0.12 and abs(fitted[1] - 8.0) < 0.08, fitted
