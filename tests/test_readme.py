"""The README's Python snippets run as written (one script, in order)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_snippets_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile("\n".join(blocks), str(README), "exec"), namespace)  # noqa: S102
    assert (tmp_path / "raster.png").exists()
    # The fitting snippet recovers the ground-truth parameters (12 ms, 8 nS).
    fitted = [float(x) for x in namespace["params"]]
    assert abs(fitted[0] - 12.0) < 0.12 and abs(fitted[1] - 8.0) < 0.08, fitted
