"""Before/after table and plot for ThinkPO from `thinklab eval` run dirs (`thinklab report thinkpo`).

ThinkPO's claim is two-sided: responses get longer *and* accuracy goes up. The table puts both side by
side per run (and per level when the task has levels), from the runs' `summary.json` files only, so
every number in docs/thinkpo.md can be traced to a run dir.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def _summary(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        from thinklab.errors import ThinklabError

        raise ThinklabError(f"{run_dir}: no summary.json (not a finished `thinklab eval` run dir)")
    return json.loads(path.read_text())


def compare_table(runs: dict[str, str | Path] | Iterable[tuple[str, str | Path]]) -> str:
    """Markdown: one row per (label, task, budget) with accuracy ± stderr, mean tokens, mean thinking
    tokens; then accuracy by level if the runs have levels. `runs`: label -> run dir, or (label, run
    dir) pairs, where one label may name several runs (e.g. "before" on two tasks)."""
    lines = [
        "| model | task | budget | problems | accuracy | ± stderr | mean tokens | mean thinking tokens |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_level: dict[str, dict[str, float]] = {}
    for label, run in runs.items() if isinstance(runs, dict) else runs:
        s = _summary(run)
        for budget, b in s["budgets"].items():
            lines.append(
                f"| {label} | {s['task']} | {budget} | {b.get('problems', '-')} | {b['accuracy']:.3f} | "
                f"{b.get('accuracy_stderr', 0):.3f} | {b.get('mean_tokens', 0):.1f} | {b.get('mean_thinking_tokens', 0):.1f} |"
            )
            for lv, entry in (b.get("by_level") or {}).items():
                by_level.setdefault(f"{label} ({s['task']}, {budget})", {})[lv] = entry["accuracy"]
    if by_level:
        levels = sorted({lv for row in by_level.values() for lv in row}, key=int)
        lines += [
            "",
            "| run | " + " | ".join(f"L{lv}" for lv in levels) + " |",
            "|---|" + "---|" * len(levels),
        ]
        for name, row in by_level.items():
            lines.append(
                f"| {name} | " + " | ".join(f"{row[lv]:.3f}" if lv in row else "-" for lv in levels) + " |"
            )
    return "\n".join(lines)


def parse_runs(args: Iterable[str]) -> list[tuple[str, str]]:
    """`LABEL=RUN_DIR` arguments as (label, run dir) pairs; a label may repeat (one phase, several tasks).
    A folder that is not a run dir itself (an eval `--out`) stands for every run dir in it, in name order,
    all under its label: `before=runs/thinkpo/eval/before` = the concise model on each task."""
    from pathlib import Path

    from thinklab.errors import ThinklabError

    runs = []
    for arg in args:
        label, sep, path = arg.partition("=")
        if not sep or not label or not path:
            raise ThinklabError(f"expected LABEL=RUN_DIR, got {arg!r}")
        folder = Path(path)
        inside = sorted(p.parent for p in folder.glob("*/summary.json"))
        if folder.is_dir() and not (folder / "summary.json").is_file() and inside:
            runs += [(label, str(d)) for d in inside]
        else:
            runs.append((label, path))
    if not runs:
        raise ThinklabError("give at least one LABEL=RUN_DIR")
    return runs


def plot_compare(runs: Iterable[tuple[str, str | Path]], out: str | Path) -> Path:
    """Accuracy against mean response tokens, one point per (label, task, budget), one colour per label
    and one marker per task: ThinkPO should move points up and to the right (longer and more accurate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    colours: dict[str, str] = {}
    markers: dict[str, str] = {}
    for label, run in runs:
        s = _summary(run)
        colour = colours.setdefault(label, f"C{len(colours) % 10}")
        marker = markers.setdefault(s["task"], "osD^v<>"[len(markers) % 7])
        for budget, b in s["budgets"].items():
            ax.errorbar(
                b.get("mean_tokens", 0), 100 * b["accuracy"], yerr=100 * b.get("accuracy_stderr", 0),
                marker=marker, color=colour, capsize=3, linestyle="none",
            )  # fmt: skip
            ax.annotate(
                f"{s['task']}@{budget}", (b.get("mean_tokens", 0), 100 * b["accuracy"]),
                textcoords="offset points", xytext=(4, 4), fontsize=7, color="gray",
            )  # fmt: skip
    for label, colour in colours.items():
        ax.plot([], [], "o", color=colour, label=label)
    ax.set_xlabel("mean response tokens")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("ThinkPO: accuracy vs response length per run")
    from thinklab.eval.plot import save_figure

    return save_figure(fig, out)
