"""The picture every seed draws by hand: accuracy against mean response tokens, one point per budget,
one line per run (`thinklab report eval RUN_DIR...` overlays models or methods)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_summary(run_dir: Path) -> dict:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        from thinklab.errors import ThinklabError

        raise ThinklabError(f"{run_dir} has no summary.json (run `thinklab eval` or `thinklab score` first)")
    return json.loads(path.read_text())


def plot_runs(
    run_dirs: list[Path], out: Path, labels: list[str] | None = None, title: str | None = None
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for i, run_dir in enumerate(run_dirs):
        summary = load_summary(run_dir)
        points = sorted(
            (
                (int(b), m["mean_tokens"], 100 * m["accuracy"], 100 * m.get("accuracy_stderr", 0.0))
                for b, m in summary["budgets"].items()
                if m
            ),
            key=lambda p: p[0],
        )
        label = labels[i] if labels and i < len(labels) else f"{summary['model']} · {summary['task']}"
        xs, ys, es = [p[1] for p in points], [p[2] for p in points], [p[3] for p in points]
        ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=label)
        for b, x, y, _ in points:
            ax.annotate(str(b), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7, color="gray")
    ax.set_xlabel("mean response tokens")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title or "accuracy vs tokens (labels: budget)")
    ax.legend(fontsize=8)
    return save_figure(fig, out)


def save_figure(fig: Any, out: str | Path, dpi: int | None = None) -> Path:
    """Lay out, write (creating the folder) and close a figure: every report's plot ends here."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
