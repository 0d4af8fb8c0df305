"""The figures of the benchmark and validation pages, drawn from benchmarks/RESULTS.md.

    python docs/benchmarks/figures.py            # rewrites docs/benchmarks/*.png

The numbers are read from the tables of RESULTS.md (the section "COBA, CUBA, COBAHH side by
side" and the rate-validation table below it), so the figures show what the tables say;
re-run this script after updating them.
"""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HERE = pathlib.Path(__file__).resolve().parent


def _rows(text: str, header_start: str) -> list[list[str]]:
    """The body rows of the first table whose header row starts with ``header_start``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header_start):
            out = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                out.append([c.strip().strip("*") for c in row.strip().strip("|").split("|")])
            return out
    raise ValueError(f"{RESULTS}: no table starting with {header_start!r}")


def _num(cell: str) -> float:
    return float(re.search(r"[-+]?\d[\d,]*\.?\d*", cell).group(0).replace(",", ""))


def run_times(text: str) -> dict[str, list[tuple[int, float]]]:
    """COBA run time (s, 1 s of biological time) per simulator: ``{sim: [(N, s), ...]}``."""
    out: dict = {}
    for model, n, sim, _build, _compile, run, _rate in _rows(text, "| model | N | simulator"):
        if model == "COBA":
            out.setdefault(sim, []).append((int(_num(n)), _num(run)))
    return out


def validation_rates(text: str) -> dict[str, tuple[float, float, float, float]]:
    """``{model: (neurosim mean, s.d., Brian2 mean, s.d.)}`` (Hz)."""
    out = {}
    for model, ours, brian, _diff in _rows(text, "| model | neurosim, 5 seeds"):
        m1, s1 = (_num(x) for x in ours.split("(")[0].split("±"))
        m2, s2 = (_num(x) for x in brian.split("(")[0].split("±"))
        out[model] = (m1, s1, m2, s2)
    return out


def draw(out_dir=HERE) -> list[pathlib.Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = RESULTS.read_text()
    out_dir = pathlib.Path(out_dir)
    paths = []
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for sim, pts in run_times(text).items():
        n, s = zip(*sorted(pts), strict=True)
        ax.loglog(n, s, "o-", label=sim, lw=2.5 if sim == "neurosim" else 1.2)
    ax.set(xlabel="neurons N", ylabel="run time for 1 s of biology (s)")
    ax.set_title("COBA, dt = 0.1 ms (benchmarks/RESULTS.md)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "coba_run_time.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    rates = validation_rates(text)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    x = range(len(rates))
    ours = [v[:2] for v in rates.values()]
    brian = [v[2:] for v in rates.values()]
    ax.bar([i - 0.2 for i in x], [m for m, _ in ours], 0.4, yerr=[s for _, s in ours],
           capsize=3, label="neurosim, 5 network seeds")  # fmt: skip
    ax.bar([i + 0.2 for i in x], [m for m, _ in brian], 0.4, yerr=[s for _, s in brian],
           capsize=3, label="Brian2 2.9, 5 runs")  # fmt: skip
    ax.set_xticks(list(x), list(rates))
    ax.set(ylabel="mean rate (Hz), mean ± s.d.")
    ax.set_title("N = 4,000, 1 s (benchmarks/RESULTS.md)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "validation_rates.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths


if __name__ == "__main__":
    for p in draw(sys.argv[1] if len(sys.argv) > 1 else HERE):
        print(p)
