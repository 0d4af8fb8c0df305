"""The one error type of config files, its message format and the did-you-mean helper."""

from __future__ import annotations

import difflib

__all__ = ["ConfigError", "Where", "suggest"]


class ConfigError(ValueError):
    """A config file (or spec dict) that cannot describe a network.

    The message reads ``"FILE: KEY.PATH: what is wrong, got VALUE; the fix"``, e.g.
    ``"net.toml: projections[2].delay: must be >= 0 ms, got -1.0"``.

    Attributes:
        source: the file (or ``"<dict>"``/``"<string>"``).
        path: the table/key path (``"projections[2].delay"``; ``""`` for the whole file).
        problem: the rest of the message.
    """

    def __init__(self, source: str, path: str, problem: str):
        self.source, self.path, self.problem = source, path, problem
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + problem)


def suggest(name, choices) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``name``, else ``""``."""
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    if isinstance(name, str) and name.lower() in lowered:
        return f" (did you mean {lowered[name.lower()]!r}?)"
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Where:
    """A position in the config: the file and a key path; raises :class:`ConfigError`."""

    def __init__(self, source: str, path: str = ""):
        self.source, self.path = source, path

    def key(self, name: str) -> Where:
        return Where(self.source, f"{self.path}.{name}" if self.path else name)

    def item(self, i: int) -> Where:
        return Where(self.source, f"{self.path}[{i}]")

    def fail(self, problem: str):
        raise ConfigError(self.source, self.path, problem)
