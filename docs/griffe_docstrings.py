"""griffe extension: render the project's docstring conventions as Markdown, source untouched.

neurosim's docstrings are Google style with a few reStructuredText habits that read well in a
terminal (``help()``) but not as Markdown: an ``Example:`` section of ``>>>`` lines (Markdown
would turn them into nested block quotes), ``:func:`name``` roles and ``.. math::`` blocks.
This extension rewrites the docstring text griffe parses for the site only:

- ``Example:`` becomes ``Examples:`` (griffe's doctest-aware section: code, not quotes);
- ``:func:`x```, ``:class:`x```, ``:math:`x``` and the other roles become inline code ``x``;
- an indented block after ``.. math::`` becomes a fenced code block (the site loads no
  math renderer, so that it works offline).
"""

from __future__ import annotations

import re

try:
    from griffe import Extension
except ImportError:  # without the docs extra: rewrite() still works (tests/test_docs.py)
    Extension = object

_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj|exc|math|py:\w+):``?~?([^`]+)``?")
_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.M)


def _math_blocks(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)\.\. math::\s*(.*)$", line)
        if not m:
            out.append(line)
            i += 1
            continue
        indent = m.group(1)
        body = [m.group(2)] if m.group(2) else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(indent + " ")):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        while body and not body[0]:
            body.pop(0)
        out += [f"{indent}```text", *(f"{indent}{b}" for b in body), f"{indent}```", ""]
    return "\n".join(out)


def rewrite(text: str) -> str:
    """The Markdown-friendly form of one docstring (see the module docstring)."""
    text = _ROLE.sub(r"``\1``", text)
    text = _EXAMPLE.sub(r"\1Examples:", text)
    return _math_blocks(text)


class MarkdownDocstrings(Extension):
    """Apply :func:`rewrite` to every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
