"""`thinklab eval`, `thinklab score`, `thinklab plot`: parse arguments, call the eval library."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from thinklab.cli.options import int_list


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_cmd(
        model: str = typer.Option("tiny", help="Hub id, local model dir, or `tiny` (the shipped model)."),
        task: str = typer.Option("arith", help="Registry name (see `thinklab tasks list`) or jsonl:PATH."),
        budgets: str = typer.Option("64,128,256", help="Comma-separated token budgets to sweep."),
        n: int = typer.Option(1, help="Samples per problem."),
        sampling: str = typer.Option(
            "",
            help="k=v list, e.g. temperature=0.6,top_p=0.95 (default: the model's generation_config.json; "
            "greedy when it does not sample). `temperature=0` forces greedy.",
        ),
        prompt_mode: str = typer.Option("standard", help="standard | no-think | ellipsis."),
        budget_mode: str = typer.Option(
            "cap", help="cap (hard cut) | force-answer (s1: close thinking, then answer)."
        ),
        answer_tokens: int = typer.Option(32, help="Answer allowance after a forced close (force-answer)."),
        extend: int = typer.Option(
            0, help="s1 budget forcing: replace the end of thinking with --extend-str this many times."
        ),
        extend_str: str = typer.Option("Wait", help="String appended when thinking is extended."),
        backend: str = typer.Option("hf", help="hf | vllm | openai | ray (replicas: docs/scaling.md)."),
        backend_args: str = typer.Option(
            "", help="k=v list passed to the backend, e.g. tensor_parallel_size=8 or base_url=..."
        ),
        limit: int | None = typer.Option(None, help="Only the first N problems."),
        seed: int = typer.Option(0, help="Sampling seed."),
        out: Path = typer.Option(Path("runs"), help="Parent folder of run directories."),
        data_dir: Path | None = typer.Option(None, help="Benchmark data folder (else $THINKLAB_DATA_DIR)."),
        system_prompt: str | None = typer.Option(None, help="Optional system prompt."),
        prompt_template: str | None = typer.Option(
            None,
            help="User message: sky | autothink | vgs | plain, or text with {problem} (default: the task's).",
        ),
        thinking_format: str | None = typer.Option(
            None,
            help="Thinking markers: r1 | qwen3 | qwen3-thinking | s1 | tiny, or a YAML file "
            "(default: recognised from the model's tokenizer and chat template).",
        ),
        chunk_size: int = typer.Option(256, help="Problems per generation call and per write to disk."),
        overwrite: bool = typer.Option(False, help="Start over instead of resuming."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
        extraction: str | None = typer.Option(
            None,
            help="Answer extraction policy: strict | harness (default: the task's, strict for math tasks; "
            "harness adds the published harnesses' prose fallback, docs/grading.md).",
        ),
    ) -> None:
        """Evaluate a model on a task at several token budgets (resumable; writes samples, summary, plot)."""
        from thinklab.eval.report import print_summary
        from thinklab.eval.runner import EvalConfig, run_eval

        cfg = EvalConfig(
            model=model,
            task=task,
            budgets=int_list(budgets, "--budgets", "64,128,256", minimum=1),
            n=n,
            sampling=sampling,
            prompt_mode=prompt_mode,
            budget_mode=budget_mode,
            answer_tokens=answer_tokens,
            extend=extend,
            extend_str=extend_str,
            backend=backend,
            backend_args=backend_args,
            limit=limit,
            seed=seed,
            out=str(out),
            data_dir=str(data_dir) if data_dir else None,
            system_prompt=system_prompt,
            prompt_template=prompt_template,
            thinking_format=thinking_format,
            chunk_size=chunk_size,
            overwrite=overwrite,
            trust_remote_code=trust_remote_code,
            extraction=extraction,
        )
        result = run_eval(cfg)
        print_summary(result.summary, Console())
        typer.echo(f"run dir: {result.run_dir}")

    @app.command("score")
    def score_cmd(
        run_dir: Path = typer.Argument(..., help="A run directory written by `thinklab eval`."),
        extraction: str | None = typer.Option(
            None, help="Re-grade under this extraction policy: strict | harness (default: the run's own)."
        ),
    ) -> None:
        """Re-grade a run's samples with the current grader, without generating."""
        from thinklab.eval.report import print_summary, rescore

        summary = rescore(run_dir, extraction)
        print_summary(summary, Console())
        policy = summary.get("extraction") or "the task's own extractor"
        line = (
            f"re-graded under {policy}; {summary['rescored_changed']} of {summary['rescored_graded']} "
            "previously graded samples changed verdict"
        )
        if summary["rescored_new"]:
            line += f"; {summary['rescored_new']} graded for the first time"
        typer.echo(line)

    @app.command("plot")
    def plot_cmd(
        run_dirs: list[Path] = typer.Argument(..., help="One or more run directories to overlay."),
        out: Path = typer.Option(Path("accuracy_vs_tokens.png"), help="Output PNG."),
        labels: str | None = typer.Option(None, help="Comma-separated legend labels, one per run."),
        title: str | None = typer.Option(None, help="Figure title."),
    ) -> None:
        """Overlay accuracy-vs-tokens curves of several runs on one figure."""
        from thinklab.eval.plot import plot_runs

        path = plot_runs(run_dirs, out, labels.split(",") if labels else None, title)
        typer.echo(f"wrote {path}")
