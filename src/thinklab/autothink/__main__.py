"""`python -m thinklab.autothink mix|report`: the experiment's helpers that are not training or eval.

- ``mix``: write the starting policy's SFT mixture (ellipsis prompt; think and no-think answers);
- ``report``: a markdown table of `thinklab eval` runs (think rate overall / per third / per level,
  accuracy, tokens) and the AutoThink targets of the last run against a baseline run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(help="AutoThink helpers: SFT mixture data and per-stage reports.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)  # fmt: skip


@app.command("mix")
def mix_cmd(
    out: Path = typer.Option(..., help="Output JSONL (messages format, for `thinklab train sft --data`)."),
    n: int = typer.Option(20000, help="Examples."),
    no_think_fraction: float = typer.Option(0.5, help="Share of examples that answer without thinking."),
    seed: int = typer.Option(0, help="Seed (problems and which ones skip thinking)."),
    direct_n: int = typer.Option(
        0, help="Extra direct-answer examples under the no-think prefill (skill practice)."
    ),
    direct_levels: str = typer.Option(
        "1,2,3", help="Comma-separated arith levels of the direct-answer examples."
    ),
    answer_style: str = typer.Option(
        "boxed",
        help="What a no-think answer holds: boxed (the bare answer) | concise (a short worked solution) | "
        "paired (a worked solution computing two operations per line).",
    ),
) -> None:
    """Write the think / no-think SFT mixture under the ellipsis prompt (plus direct-answer practice)."""
    from thinklab.autothink.data import ANSWER_STYLES, write_mixture
    from thinklab.cli.options import int_list
    from thinklab.errors import ThinklabError
    from thinklab.tasks.arith import MAX_LEVEL

    levels = int_list(direct_levels, "--direct-levels", "1,2,3", minimum=1, maximum=MAX_LEVEL)
    if answer_style not in ANSWER_STYLES:
        raise ThinklabError(f"--answer-style must be one of {', '.join(ANSWER_STYLES)}, not {answer_style!r}")
    rows = write_mixture(out, n, no_think_fraction, seed, direct_n, levels, answer_style)
    typer.echo(f"wrote {rows} examples to {out}")


@app.command("report")
def report_cmd(
    runs: list[Path] = typer.Argument(..., help="Eval run dirs (or summary.json files), in stage order."),
    names: str = typer.Option("", help="Comma-separated row names (default: model)."),
    baseline: Path | None = typer.Option(None, help="Standard-prompt baseline run (for the target checks)."),
    budget: int | None = typer.Option(None, help="Budget to report (default: the largest)."),
    json_out: Path | None = typer.Option(None, help="Also write the reports as JSON here."),
) -> None:
    """Think rate / accuracy / tokens per run, and the targets of the last run against the baseline."""
    from thinklab.autothink.report import check_targets, load_summary, markdown, mode_accuracy, stage_report

    labels = [s.strip() for s in names.split(",")] if names else []
    reports = []
    for i, r in enumerate(runs):
        rep = stage_report(load_summary(r), budget, labels[i] if i < len(labels) else "")
        rep["by_mode"] = mode_accuracy(r, rep["budget"])
        reports.append(rep)
    base = stage_report(load_summary(baseline), budget, "baseline") if baseline else None
    typer.echo(markdown(([base] if base else []) + reports, base))
    if json_out:
        payload = {
            "baseline": base,
            "reports": reports,
            "targets": check_targets(reports[-1], base) if base else None,
        }
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2))


def main() -> None:
    from thinklab.errors import ThinklabError

    try:
        app(standalone_mode=True)
    except ThinklabError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
