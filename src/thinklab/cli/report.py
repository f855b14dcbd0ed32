"""`thinklab report eval|search|compress|star|autothink|thinkpo`: every method's report in one group.

Each command reads run dirs the other commands wrote, prints its table, and writes the same table as
markdown next to a PNG plot (`--out`; the markdown takes the PNG's name with `.md`). The numbers and
the plots are the libraries' (`thinklab.<method>.report`); this module only builds the configs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from thinklab.cli.build import config_command
from thinklab.config import option

_OUT_HELP = "Plot PNG path; the markdown table is written beside it (.md)."


@dataclass
class EvalReportConfig:
    """`thinklab report eval`: summary tables of eval runs and their accuracy-vs-tokens curves overlaid."""

    run_dirs: tuple[str, ...] = option(
        help="Run directories of `thinklab eval` (or `thinklab search`).", argument=True
    )
    out: str = option("accuracy_vs_tokens.png", _OUT_HELP)
    labels: tuple[str, ...] = option(
        (), "Comma-separated legend labels, one per run (default: model · task)."
    )
    title: str | None = option(None, "Figure title.")


@dataclass
class SearchReportConfig:
    """`thinklab report search`: the test-time scaling tables (recipes/tiny/search.yaml)."""

    out_dirs: tuple[str, ...] = option(
        help="Output dirs of recipes/tiny/search.yaml (strategies/, forcing/, value/ ...) or of "
        "`thinklab search --out`.",
        argument=True,
    )
    pool: bool = option(False, "Only the paired differences against majority, pooled over the dirs.")
    out: str | None = option(None, _OUT_HELP + " [default: FIRST_DIR/search_report.png]")


@dataclass
class CompressReportConfig:
    """`thinklab report compress`: compressed outputs and the models trained on them."""

    outputs: tuple[str, ...] = option(
        (),
        "Output JSONLs of `thinklab compress` / `compress-baseline` (each with its .summary.json).",
        argument=True,
    )
    runs: tuple[str, ...] = option(
        (),
        "Comma-separated `thinklab eval` run dirs (or --out folders holding one) of models trained on the "
        "sets; the first is the reference.",
    )
    names: tuple[str, ...] = option((), "Comma-separated names of the eval runs (default: the dir names).")
    out: str | None = option(
        None, _OUT_HELP + " [default: FIRST_OUTPUT.report.png, or FIRST_RUN/compress_report.png]"
    )


@dataclass
class StarReportConfig:
    """`thinklab report star`: the per-round table and curve of a STaR run."""

    run_dir: str = option(help="A STaR run dir (`thinklab star --config ...`).", argument=True)
    out: str | None = option(None, "Curve PNG path [default: RUN_DIR/curve.png; table: RUN_DIR/report.md].")


@dataclass
class AutothinkReportConfig:
    """`thinklab report autothink`: think rate / accuracy / tokens per stage, and the targets."""

    runs: tuple[str, ...] = option(
        help="Eval run dirs (or summary.json files), in stage order.", argument=True
    )
    names: tuple[str, ...] = option((), "Comma-separated row names, one per run (default: model).")
    baseline: str | None = option(None, "Standard-prompt baseline run (for the target checks).")
    budget: int | None = option(None, "Budget to report (default: the largest).")
    json_out: str | None = option(None, "Also write the reports as JSON here.")
    out: str | None = option(None, _OUT_HELP + " [default: LAST_RUN/autothink_report.png]")


@dataclass
class ThinkpoReportConfig:
    """`thinklab report thinkpo`: ThinkPO's before / after table from eval runs."""

    runs: tuple[str, ...] = option(
        help="LABEL=RUN_DIR, one per eval run; a label may repeat (one phase, several tasks).", argument=True
    )
    out: str | None = option(None, _OUT_HELP + " [default: FIRST_RUN/thinkpo_report.png]")


def _write_table(markdown: str, png: Path | None, fallback: Path) -> Path:
    """Write the markdown beside the plot (or at `fallback` when there is no plot) and print both paths."""
    md = png.with_suffix(".md") if png is not None else fallback
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown.rstrip("\n") + "\n")
    typer.echo(f"table: {md}")
    typer.echo(f"plot: {png}" if png is not None else "plot: none (nothing to draw)")
    return md


def register(app: typer.Typer) -> None:
    report = typer.Typer(
        help="Reports: each method's table (printed, and as markdown) and plot from its run dirs.",
        no_args_is_help=True,
    )
    app.add_typer(report, name="report")

    @config_command(report, "eval", EvalReportConfig)
    def eval_cmd(cfg: EvalReportConfig) -> None:
        """Summary table of each eval run, and the accuracy-vs-tokens curves of all of them on one plot."""
        from rich.console import Console

        from thinklab.eval.plot import load_summary, plot_runs
        from thinklab.eval.report import print_summary, summary_markdown

        dirs = [Path(d) for d in cfg.run_dirs]
        summaries = [load_summary(d) for d in dirs]
        console = Console()
        for d, summary in zip(dirs, summaries, strict=True):
            print_summary(summary, console)
            console.print(f"run dir: {d}")
        png = plot_runs(dirs, Path(cfg.out), list(cfg.labels) or None, cfg.title)
        md = "\n".join(
            summary_markdown(s, f"{s['model']} on {s['task']} ({d})")
            for d, s in zip(dirs, summaries, strict=True)
        )
        _write_table(md, png, png)

    @config_command(report, "search", SearchReportConfig)
    def search_cmd(cfg: SearchReportConfig) -> None:
        """Strategies at equal budgets, paired differences against majority, value model, s1 forcing."""
        from thinklab.search.report import markdown_report, plot_report

        dirs = [Path(d) for d in cfg.out_dirs]
        md = markdown_report(dirs, pool=cfg.pool)
        typer.echo(md)
        target = (
            Path(cfg.out) if cfg.out else dirs[0] / ("search_pooled.png" if cfg.pool else "search_report.png")
        )
        png = plot_report(dirs, target, pool=cfg.pool)
        _write_table(md, png, target.with_suffix(".md"))

    @config_command(report, "compress", CompressReportConfig)
    def compress_cmd(cfg: CompressReportConfig) -> None:
        """What A*-Thought (and the baselines) kept, and accuracy / length of models trained on the sets."""
        from thinklab.compress.report import markdown_report, plot_report

        md = markdown_report(list(cfg.outputs), list(cfg.runs), cfg.names)
        typer.echo(md)
        if cfg.out:
            target = Path(cfg.out)
        elif cfg.outputs:
            target = Path(f"{cfg.outputs[0]}.report.png")
        else:
            target = Path(cfg.runs[0]) / "compress_report.png"
        png = plot_report(list(cfg.outputs), target, list(cfg.runs), cfg.names)
        _write_table(md, png, png)

    @config_command(report, "star", StarReportConfig)
    def star_cmd(cfg: StarReportConfig) -> None:
        """Per-round table (Accuracy, Format-Pass, Avg Steps, Timeout%, examples added) and the curve."""
        from thinklab.star.report import markdown_table, report

        reports, png = report(cfg.run_dir, cfg.out)
        md = Path(cfg.run_dir) / "report.md"  # written by report()
        if png.with_suffix(".md") != md:
            md = _write_table(markdown_table(reports), png, png)
        else:
            typer.echo(f"table: {md}")
            typer.echo(f"plot: {png}")

    @config_command(report, "autothink", AutothinkReportConfig)
    def autothink_cmd(cfg: AutothinkReportConfig) -> None:
        """Think rate / accuracy / tokens per stage, and the targets of the last run against the baseline."""
        import json

        from thinklab.autothink.report import (
            check_targets,
            load_summary,
            markdown,
            mode_accuracy,
            plot_stages,
            stage_report,
        )

        reports = []
        for i, r in enumerate(cfg.runs):
            rep = stage_report(load_summary(r), cfg.budget, cfg.names[i] if i < len(cfg.names) else "")
            rep["by_mode"] = mode_accuracy(r, rep["budget"])
            reports.append(rep)
        base = stage_report(load_summary(cfg.baseline), cfg.budget, "baseline") if cfg.baseline else None
        md = markdown(([base] if base else []) + reports, base)
        typer.echo(md)
        if cfg.json_out:
            payload = {
                "baseline": base,
                "reports": reports,
                "targets": check_targets(reports[-1], base) if base else None,
            }
            Path(cfg.json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(cfg.json_out).write_text(json.dumps(payload, indent=2))
            typer.echo(f"json: {cfg.json_out}")
        last = Path(cfg.runs[-1])
        target = (
            Path(cfg.out) if cfg.out else (last if last.is_dir() else last.parent) / "autothink_report.png"
        )
        png = plot_stages(reports, target, base)
        _write_table(md, png, png)

    @config_command(report, "thinkpo", ThinkpoReportConfig)
    def thinkpo_cmd(cfg: ThinkpoReportConfig) -> None:
        """Before / after table (accuracy, tokens, per level) of `LABEL=RUN_DIR` eval runs, and the plot."""
        from thinklab.thinkpo.compare import compare_table, parse_runs, plot_compare

        runs = parse_runs(cfg.runs)
        md = compare_table(runs)
        typer.echo(md)
        target = Path(cfg.out) if cfg.out else Path(runs[0][1]) / "thinkpo_report.png"
        png = plot_compare(runs, target)
        _write_table(md, png, png)
