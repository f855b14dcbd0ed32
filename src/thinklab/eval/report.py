"""The Rich table printed after an eval, and `thinklab score RUN_DIR` (re-grade without generating)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def summary_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of a run's summary, one row per budget: what the table after an eval shows."""
    cols = ["budget", "acc %", "± se", "tokens", "think tok", "trunc %", "think %", "format %", "ACU"]
    extra = sorted(
        {
            k
            for m in summary["budgets"].values()
            for k in m
            if k.startswith(("pass@", "maj@")) and k != "pass@1"
        }
    )
    too_long = any(m.get("prompt_too_long") for m in summary["budgets"].values())
    if too_long:  # only then: most runs never have one, and the table is wide already
        cols.append("too long")
    rows = []
    for budget, m in summary["budgets"].items():
        if not m:
            continue
        row = [
            budget,
            f"{100 * m['accuracy']:.1f}",
            f"{100 * m['accuracy_stderr']:.1f}",
            f"{m['mean_tokens']:.1f}",
            f"{m['mean_thinking_tokens']:.1f}",
            f"{100 * m['truncation_rate']:.1f}",
            f"{100 * m['think_rate']:.1f}",
            f"{100 * m['format_pass']:.1f}",
            f"{m['acu']:.3f}",
        ]
        if too_long:
            row.append(str(m.get("prompt_too_long", 0)))
        row += [f"{100 * m[k]:.1f}" if k in m else "" for k in extra]
        rows.append(row)
    return cols + extra, rows


def summary_table(summary: dict, title: str | None = None) -> Table:
    table = Table(title=title or f"{summary['model']} on {summary['task']}")
    cols, rows = summary_rows(summary)
    for c in cols:
        table.add_column(c, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def summary_markdown(summary: dict, title: str | None = None) -> str:
    """The same table as markdown, under a `###` heading (the run's model and task, or `title`)."""
    cols, rows = summary_rows(summary)
    lines = [f"### {title or summary['model'] + ' on ' + summary['task']}", ""]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def level_table(summary: dict, budget: str) -> Table | None:
    m = summary["budgets"].get(budget) or {}
    if "by_level" not in m:
        return None
    table = Table(title=f"by difficulty level (budget {budget})")
    for c in ("level", "problems", "acc %", "tokens", "think %"):
        table.add_column(c, justify="right")
    for level, v in m["by_level"].items():
        table.add_row(
            level,
            str(v["problems"]),
            f"{100 * v['accuracy']:.1f}",
            f"{v['mean_tokens']:.1f}",
            f"{100 * v['think_rate']:.0f}",
        )
    return table


def print_summary(summary: dict, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(summary))
    if "sampling" in summary:  # what decoding ran, and where it came from (the model's own defaults?)
        fmt = (summary.get("thinking_format") or {}).get("name", "?")
        console.print(
            f"sampling: {summary['sampling']} ({summary.get('sampling_source', '?')}); thinking format: {fmt}"
        )
    for budget, m in summary["budgets"].items():
        if m and m.get("prompt_too_long"):
            console.print(
                f"[yellow]budget {budget}: {m['prompt_too_long']} of {m['samples']} samples not generated: "
                "prompt + budget exceed the model's context (finish_reason prompt_too_long, scored wrong)"
            )
    last = list(summary["budgets"])[-1]
    lt = level_table(summary, last)
    if lt is not None:
        console.print(lt)


def rescore(run_dir: Path, extraction: str | None = None) -> dict[str, Any]:
    """Re-grade every sample of a run with the current grader and rewrite samples and summary.

    ``extraction`` re-grades under another extraction policy (``strict`` / ``harness``); by default the
    run's own policy is kept. ``rescored_changed`` counts samples whose verdict changed among those that
    had one; samples never graded before (``rescored_new``) have no verdict to change.
    """
    from thinklab.eval import rundir
    from thinklab.eval.runner import (
        EvalConfig,
        build_summary,
        grade_record,
        model_thinking_format,
    )
    from thinklab.prompting.modes import ThinkingFormat
    from thinklab.tasks.registry import get_task

    run_dir = Path(run_dir)
    summary_path = run_dir / rundir.SUMMARY
    config_path = run_dir / rundir.CONFIG
    if not config_path.is_file():
        from thinklab.errors import ThinklabError

        raise ThinklabError(f"{run_dir} is not a thinklab run directory (no {rundir.CONFIG})")
    stored = rundir.read_json(config_path, "the run config; rerun the eval with --overwrite")["config"]
    old = rundir.read_json(summary_path, "delete it and run score again") if summary_path.exists() else {}
    recorded = old.get("config", stored).get("extraction")
    cfg = EvalConfig(
        **{
            **stored,
            "budgets": tuple(old.get("config", stored)["budgets"]),
            "extraction": extraction if extraction is not None else recorded,
        }
    )
    task = get_task(cfg.task)
    extract, grade = task.graders(cfg.extraction)
    prefill = old.get("prefill", "")
    # The run's thinking format as recorded (runs from before formats were recorded: the model's own).
    fmt = (
        ThinkingFormat(**old["thinking_format"])
        if old.get("thinking_format")
        else model_thinking_format(cfg.model, cfg.thinking_format, cfg.trust_remote_code)
    )
    records = rundir.load_samples(run_dir)
    changed = first = 0
    for r in records:
        had_verdict = isinstance(r.get("correct"), bool)
        before = r.get("correct")
        grade_record(r, task, prefill, extract, grade, fmt)
        if had_verdict:
            changed += before != r["correct"]
        else:
            first += 1
    rundir.rewrite_samples(run_dir, records)
    summary = build_summary(cfg, records, old.get("num_parameters"), prefill, old.get("seconds", 0.0))
    summary.update({k: old[k] for k in ("sampling", "sampling_source") if k in old})
    summary["thinking_format"] = fmt.to_dict()
    rundir.write_json(summary_path, summary)
    summary["rescored_changed"] = changed
    summary["rescored_new"] = first
    summary["rescored_graded"] = len(records) - first
    return summary
