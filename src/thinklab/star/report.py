"""`thinklab report star`: the per-round table and the curve across rounds of a STaR run dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thinklab.star.loop import load_reports

COLUMNS = (
    "Round",
    "Accuracy",
    "Verified",
    "Format-Pass",
    "Avg Steps",
    "Timeout%",
    "Tokens",
    "Added",
    "Total",
)


def table_rows(reports: list[dict]) -> list[tuple[str, ...]]:
    rows = []
    for rep in reports:
        h = rep["heldout"]
        rows.append(
            (
                str(rep["round"]),
                f"{h['accuracy']:.3f}",
                f"{h['verified']:.3f}",
                f"{h['format_pass']:.3f}",
                f"{h['avg_steps']:.2f}",
                f"{h['timeout_pct']:.1f}",
                f"{h['mean_tokens']:.1f}",
                str(rep.get("examples_added", "-")),
                str(rep.get("examples_total", "-")),
            )
        )
    return rows


def markdown_table(reports: list[dict]) -> str:
    """The table as Markdown (for docs), one row per round; round 0 is the starting model."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(reports)]
    return "\n".join(lines)


def print_table(reports: list[dict], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="STaR rounds (held-out; round 0 = starting model)")
    for c in COLUMNS:
        table.add_column(c, justify="right")
    for row in table_rows(reports):
        table.add_row(*row)
    console.print(table)


def plot_curve(reports: list[dict], out: str | Path) -> Path:
    """Held-out accuracy / verified / format-pass per round, and the examples added as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [r["round"] for r in reports]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label, style in (
        ("accuracy", "accuracy (answer)", "o-"),
        ("verified", "verified (answer + format)", "s-"),
        ("format_pass", "format pass", "^--"),
    ):
        ax.plot(rounds, [r["heldout"][key] for r in reports], style, label=label)
    ax.set_xlabel("round (0 = starting model)")
    ax.set_ylabel("held-out rate")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(rounds)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    added = [r.get("examples_added", 0) for r in reports]
    ax2.bar(rounds, added, alpha=0.15, color="gray", label="examples added")
    ax2.set_ylim(0, max(1, *added) * 1.15)
    ax2.set_ylabel("examples added")
    lines, labels = ax.get_legend_handles_labels()
    l2, lab2 = ax2.get_legend_handles_labels()
    ax.legend(lines + l2, labels + lab2, loc="lower right", fontsize=8)
    from thinklab.eval.plot import save_figure

    return save_figure(fig, out, dpi=120)


def report(
    run_dir: str | Path, out: str | Path | None = None, console: Any = None
) -> tuple[list[dict], Path]:
    """Print the table, write `curve.png` (or `out`) and `report.md` into the run dir."""
    reports = load_reports(run_dir)
    print_table(reports, console)
    png = plot_curve(reports, out or Path(run_dir) / "curve.png")
    (Path(run_dir) / "report.md").write_text(markdown_table(reports) + "\n")
    return reports, png
