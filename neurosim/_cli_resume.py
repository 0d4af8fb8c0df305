"""``neurosim run ... --resume DIR``: find the interrupted run in DIR and check it is this one.

The stream (:mod:`neurosim._cli_stream`) records the run's settings in
``DIR/stream/progress.json``. A resume continues only the same run: the same built-in model
and ``--n``/``--duration``/``--dt``/``--seed``/``--connectivity``, or, for a config run
(``neurosim run net.toml``), the same ``--duration``/``--dt``/``--seed`` and the same
normalised config (:func:`config_digest`: a SHA-256 of the checked spec, so a changed weight,
size, record or spike selection is refused; re-formatting the file or editing a comment is
not a change). Anything else is refused with one line that names what differs and the
command to repeat.
"""

from __future__ import annotations

import hashlib
import json
import os

from ._cli_stream import FORMAT, STREAM_DIR, Stream

__all__ = ["add_arguments", "open_stream", "config_digest", "SETTINGS", "CONFIG_SETTINGS"]

SETTINGS = ("model", "n", "duration_ms", "dt_ms", "seed", "connectivity")
# A config run: its file, the run options that may override [run], and the config itself.
CONFIG_SETTINGS = ("config_sha256", "duration_ms", "dt_ms", "seed")
_FLAG = {
    "model": "MODEL",
    "n": "--n",
    "duration_ms": "--duration",
    "dt_ms": "--dt",
    "seed": "--seed",
    "connectivity": "--connectivity",
}
# [run] keys that are run settings compared on their own (dt, duration, seed) or that do
# not change what is simulated (allow_coarse_dt): not part of the config's digest.
_NOT_DIGESTED = ("dt", "duration", "seed", "allow_coarse_dt")


def add_arguments(r) -> None:
    """Register ``--resume`` and ``--segment-steps`` on the ``run`` sub-parser."""
    r.add_argument(
        "--resume",
        metavar="DIR",
        default=None,
        help="continue the interrupted or killed run in DIR (same model or config and "
        "settings; bitwise the same spikes and traces as an uninterrupted run)",
    )
    r.add_argument(
        "--segment-steps",
        type=int,
        default=None,
        help="steps per segment written to DIR/stream (default: the engine's chunk, <= 2000; "
        "a config's recorded traces: a multiple of their `every`)",
    )


def config_digest(spec: dict) -> str:
    """SHA-256 (hex) of a normalised config spec, without the run settings compared on
    their own (``dt``, ``duration``, ``seed``) and ``allow_coarse_dt``.

    Example:
        >>> from neurosim._cli_resume import config_digest
        >>> a = {"network": {"name": "x"}, "run": {"dt": 0.1, "seed": 0, "record": []}}
        >>> config_digest(a) == config_digest({**a, "run": {"dt": 0.05, "record": []}})
        True
    """
    run = {k: v for k, v in spec.get("run", {}).items() if k not in _NOT_DIGESTED}
    text = json.dumps({**spec, "run": run}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _read_progress(args, path: str) -> dict:
    try:
        with open(path) as f:
            progress = json.load(f)
    except FileNotFoundError:
        raise ValueError(
            f"--resume {args.resume}: there is no {path}, so nothing to resume (a finished run "
            "removes it); start the run without --resume"
        ) from None
    except (OSError, ValueError) as e:
        raise ValueError(f"--resume {args.resume}: cannot read {path} ({e})") from None
    if progress.get("format") != FORMAT:
        raise ValueError(f"--resume {args.resume}: {path} is not a {FORMAT} progress file")
    return progress


def _check_same_run(args, old: dict, settings: dict) -> None:
    """Refuse a resume whose settings differ from the interrupted run's ``old`` ones."""
    was_config, is_config = "config_sha256" in old, "config_sha256" in settings
    if was_config != is_config:
        what = f"the config {old['config']}" if was_config else f"the built-in {old['model']}"
        raise ValueError(
            f"--resume {args.resume}: the interrupted run there is {what}; resume it with the "
            "same MODEL or config file"
        )
    keys = CONFIG_SETTINGS if is_config else SETTINGS
    diff = [k for k in keys if old.get(k) != settings.get(k)]
    if not diff:
        return
    again = ["neurosim run", old["config"] if is_config else old["model"]]
    if not is_config:
        again.append(f"--n {old['n']}")
    again += [f"{_FLAG[k]} {old[k]:g}" for k in ("duration_ms", "dt_ms", "seed")]
    if not is_config:
        again.append(f"--connectivity {old['connectivity']}")
    again.append(f"--resume {args.resume}")
    what = [f"{_FLAG[k]} {settings.get(k)} (was {old.get(k)})" for k in diff if k in _FLAG]
    if "config_sha256" in diff:
        what.insert(
            0,
            f"the config {settings['config']} (its normalised spec has SHA-256 "
            f"{settings['config_sha256'][:12]}..., the run's had {old['config_sha256'][:12]}...;"
            " put back the config the run started with)",
        )
    raise ValueError(
        f"--resume {args.resume}: the settings differ from the interrupted run's: "
        f"{', '.join(what)}; repeat its settings: {' '.join(again)}"
    )


def open_stream(args, settings: dict) -> Stream:
    """The stream of this run: a fresh one, or (``--resume``) the checked interrupted one.

    Raises:
        ValueError: ``--resume`` without a resumable run, or with other settings.
    """
    if args.segment_steps is not None and args.segment_steps < 1:
        raise ValueError(f"--segment-steps must be >= 1, got {args.segment_steps}")
    root = os.path.join(args.out, STREAM_DIR)
    if args.resume is None:
        stream = Stream(root, settings, args.segment_steps, None)
    else:
        progress = _read_progress(args, os.path.join(root, "progress.json"))
        _check_same_run(args, progress["settings"], settings)
        steps = args.segment_steps or progress["segment_steps"]
        stream = Stream(root, settings, steps, progress)
    stream.record_spikes = getattr(args, "record_spikes", None)  # a config's [run] choice
    return stream
