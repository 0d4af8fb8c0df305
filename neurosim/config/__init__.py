"""Networks from config files: a TOML description of a one-engine network and its run.

A config names populations (neuron models and spike sources of the zoo by class name, with
their parameters), inputs, projections (connectivity generator, weight, delay, synapse,
output, receptor, short-term plasticity and STDP), per-neuron Poisson inputs, gap junctions,
rate populations (neural-mass nodes), couplings (rate -> rate on a connectome from a file or
``tvb-data``; spiking <-> rate), readouts (population rate, LFP, BOLD), the timing
conventions (``"nest"``) and the run (``dt``, ``duration``, ``seed``, recording). The schema
and a tutorial are in ``docs/config.md``; examples in ``examples/configs/``.
``neurosim run net.toml`` runs one.

Every malformed config raises :class:`ConfigError` naming the file, the key path, the value
and the fix, e.g. ``net.toml: projections[2].delay: must be >= 0 ms, got -1``.

Example:
    >>> import neurosim as ns
    >>> cfg = ns.config.loads('''
    ... [run]
    ... duration = 20.0
    ... [[populations]]
    ... name = "P"
    ... model = "PoissonSource"
    ... size = 10
    ... rate = "50 Hz"
    ... ''')
    >>> res = cfg.simulate()
"""

from __future__ import annotations

import functools
import pathlib
import re
import tomllib
from dataclasses import dataclass, field

import jax

from ._build import builder as _builder
from ._dump import dumps_spec, relocate
from ._errors import ConfigError
from ._schema import check

__all__ = ["Config", "ConfigError", "load", "loads", "read", "from_spec", "dump", "dumps"]


@dataclass(frozen=True)
class Config:
    """A checked config: its normalised spec, and the network and run it describes.

    Attributes:
        spec: the normalised spec (plain data: numbers in ms, mV, nS, pA, pF, Hz).
        source: where it was read from (used in error messages).
        base_dir: directory that relative file paths (connectomes) are relative to.
    """

    spec: dict
    source: str = "<dict>"
    base_dir: str = "."
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The network's name (``[network] name``)."""
        return self.spec["network"]["name"]

    @property
    def run(self) -> dict:
        """The run settings: ``dt`` (ms), ``duration`` (ms), ``seed``, ``record`` and, if
        given, ``record_spikes``."""
        return self.spec["run"]

    def builder(self):
        """A fresh :class:`neurosim.NetworkBuilder` holding every part, not yet built (add
        more parts in Python, then ``build()``)."""
        return _builder(self.spec, self.source, self.base_dir)

    @property
    def network(self):
        """The built :class:`neurosim.Network` (built once, on first use)."""
        if "network" not in self._cache:
            self._cache["network"] = self.builder().build()
        return self._cache["network"]

    def record(self) -> list:
        """The ``[run] record`` entries as :class:`neurosim.Trace` objects."""
        from ..network import Trace

        return [Trace(r["target"], r.get("indices"), r.get("every", 1)) for r in self.run["record"]]

    def simulate(self, **kwargs):
        """``ns.simulate`` of the network with the run settings (keywords override them).

        The simulation key is ``fold_in(key(seed), 1)`` (the network's connectivity is drawn
        from ``key(seed)``), as ``neurosim run`` does.
        """
        from ..network import simulate

        run = self.run
        key = jax.random.fold_in(jax.random.key(run["seed"]), 1)
        args = {"key": key, "record": self.record() or None}
        if "record_spikes" in run:
            args["record_spikes"] = run["record_spikes"]
        args.update(kwargs)
        return simulate(self.network, run["duration"], run["dt"], **args)

    def with_run(self, **changes) -> Config:
        """A copy with run settings changed (``dt``, ``duration``, ``seed``), checked again."""
        spec = {**self.spec, "run": {**self.spec["run"], **changes}}
        return from_spec(spec, source=self.source, base_dir=self.base_dir)


def _parse(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        where = f"line {m.group(1)}, column {m.group(2)}" if m else ""
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ConfigError(
            source, where, f"TOML syntax error: {problem} (the syntax: https://toml.io)"
        ) from None


def read(path) -> dict:
    """The checked, normalised spec of the config file ``path`` (nothing is built).

    Example:
        >>> import neurosim as ns
        >>> spec = ns.config.read("examples/configs/coba.toml")  # doctest: +SKIP
    """
    p = pathlib.Path(path)
    if not p.is_file():
        raise ConfigError(str(path), "", "no such config file")
    return check(_parse(p.read_text(encoding="utf-8"), str(path)), str(path))


def load(path) -> Config:
    """Read and check the config file ``path``; its network is built on first use.

    Example:
        >>> import neurosim as ns
        >>> cfg = ns.config.load("examples/configs/coba.toml")  # doctest: +SKIP
        >>> res = cfg.simulate(duration=100.0)  # doctest: +SKIP
    """
    p = pathlib.Path(path)
    return Config(read(p), source=str(path), base_dir=str(p.parent))


def loads(text: str, *, source: str = "<string>", base_dir=".") -> Config:
    """:func:`load` from TOML text."""
    return Config(check(_parse(text, source), source), source=source, base_dir=str(base_dir))


def from_spec(spec: dict, *, source: str = "<dict>", base_dir=".") -> Config:
    """A :class:`Config` from a spec dict (the parsed-TOML layout), checked."""
    if not isinstance(spec, dict):
        raise ConfigError(source, "", f"a spec must be a dict, got {type(spec).__name__}")
    return Config(check(spec, source), source=source, base_dir=str(base_dir))


@functools.singledispatch
def _spec_of(obj):
    from ..network import Network

    if isinstance(obj, Network):
        raise TypeError(
            "a built Network holds sampled connectivity, not its description; dump the Config "
            "(or spec dict) it came from, or save the network itself with ns.io.save_network"
        )
    raise TypeError(f"dump takes a ns.config.Config or a spec dict, got {type(obj).__name__}")


@_spec_of.register
def _(obj: Config):
    return obj.spec, obj.base_dir


@_spec_of.register
def _(obj: dict):
    return check(obj, "<dict>"), "."


def dumps(obj) -> str:
    """The TOML text of a :class:`Config` or spec dict (normalised: canonical units)."""
    return dumps_spec(_spec_of(obj)[0])


def dump(obj, path) -> None:
    """Write a :class:`Config` or spec dict to ``path`` as TOML; ``load(path)`` builds the
    same network (relative connectome paths are rewritten for the new location).

    Example:
        >>> import neurosim as ns
        >>> cfg = ns.config.load("examples/configs/coba.toml")  # doctest: +SKIP
        >>> ns.config.dump(cfg, "/tmp/coba_copy.toml")  # doctest: +SKIP
    """
    spec, base = _spec_of(obj)
    p = pathlib.Path(path)
    p.write_text(dumps_spec(relocate(spec, base, p.parent or ".")), encoding="utf-8")
