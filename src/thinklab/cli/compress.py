"""`thinklab compress`, `thinklab compress-baseline`, `thinklab compress-prompts`: A*-Thought and its baselines."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("compress")
    def compress_cmd(
        data: Path = typer.Option(
            ..., help="Trace JSONL (R1/Sky/s1 tags; response, thinking+solution or chat rows)."
        ),
        out: Path = typer.Option(
            Path("runs/compress/compressed.jsonl"), help="Output SFT JSONL (resumed if present)."
        ),
        out_format: str = typer.Option("messages", help="messages | sharegpt."),
        fmt: str | None = typer.Option(
            None, help="Input tag format r1 | sky | s1 (default: detected per row)."
        ),
        scorer: str = typer.Option(
            "tiny", help="BIS scorer LM (openai-community/gpt2 for real traces; `tiny` here)."
        ),
        scorer_workers: int = typer.Option(
            1, help="Scorer processes (each loads the scorer; GPUs round-robin)."
        ),
        scorer_device: str | None = typer.Option(
            None, help="cpu | cuda | cuda:N (default: cuda if available)."
        ),
        scorer_max_length: int | None = typer.Option(
            None, help="Truncate scorer inputs (default: model max positions)."
        ),
        validator: str = typer.Option(
            "tiny", help="Validator model for costs and checks (hub id, dir, `tiny`)."
        ),
        validator_backend: str = typer.Option(
            "hf", help="hf | vllm | openai | ray (replicas: docs/scaling.md)."
        ),
        validator_args: str = typer.Option("", help="k=v backend arguments, e.g. tensor_parallel_size=8."),
        validator_format: str = typer.Option(
            "r1", help="Tag layout the validator was trained on: r1 | sky | s1."
        ),
        validator_chat: bool | None = typer.Option(
            None,
            "--validator-chat/--validator-raw",
            help="Chat-template the validator prompt (default: if it has one).",
        ),
        validator_sampling: str = typer.Option(
            "temperature=0.6,top_p=0.95,max_tokens=1024",
            help="Sampling for the answer check (seed's defaults).",
        ),
        validator_max_context: int | None = typer.Option(
            None, help="Clip validator inputs to this many tokens."
        ),
        validator_pad_ratio: float | None = typer.Option(
            None,
            help="Group validator calls by length (shortest >= ratio x longest); default 0.8 on hf, 0 = one call.",
        ),
        alpha: float = typer.Option(0.5, help="BIS weight of the solution side (1-alpha: question side)."),
        beta: float = typer.Option(0.1, help="Weight of the path cost g."),
        attn_norm: str = typer.Option("paper", help="ATTN normalisation: paper (mean) | code (÷|t| only)."),
        min_steps: int = typer.Option(5, help="Search steps before the first validation."),
        max_steps: int = typer.Option(20, help="Search steps before falling back to the full thought."),
        expand: int = typer.Option(2, help="Candidates expanded per search step (W)."),
        span: int = typer.Option(1, help="Radius of the span a chosen step brings in (seed: 1 = m-1..m+1)."),
        min_kept: float = typer.Option(
            0.0, help="Validate only once the path holds this fraction of the steps (seed: 0)."
        ),
        step_sep: str = typer.Option("\\n\\n", help="Step separator (escapes \\n, \\t understood)."),
        step_regex: str | None = typer.Option(None, help="Split steps on this regex instead."),
        reference: str = typer.Option(
            "solution", help="Answer to keep: solution (trace's own) | answer (row field)."
        ),
        width: int = typer.Option(64, help="Traces searched in lockstep (validator batch across samples)."),
        batch_candidates: bool = typer.Option(True, help="Score all candidates of a round in one call."),
        cache: Path | None = typer.Option(None, help="BIS cache JSONL (default: <out>.bis.jsonl)."),
        limit: int | None = typer.Option(None, help="Only the first N traces."),
        seed: int = typer.Option(0, help="Seed of the validation sampling."),
        overwrite: bool = typer.Option(False, help="Start over instead of resuming."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
    ) -> None:
        """Compress reasoning traces with A*-Thought (BIS + A* search + validator); resumable."""
        from thinklab.compress.runner import CompressConfig, run_compress
        from thinklab.compress.steps import unescape

        cfg = CompressConfig(
            data=str(data),
            out=str(out),
            fmt=fmt,
            out_format=out_format,
            limit=limit,
            step_sep=unescape(step_sep),
            step_regex=step_regex,
            scorer=scorer,
            scorer_device=scorer_device,
            scorer_workers=scorer_workers,
            scorer_max_length=scorer_max_length,
            alpha=alpha,
            attn_norm=attn_norm,
            cache=str(cache) if cache else None,
            validator=validator,
            validator_backend=validator_backend,
            validator_args=validator_args,
            validator_format=validator_format,
            validator_chat=validator_chat,
            validator_sampling=validator_sampling,
            validator_max_context=validator_max_context,
            validator_pad_ratio=validator_pad_ratio,
            beta=beta,
            reference=reference,
            seed=seed,
            min_steps=min_steps,
            max_steps=max_steps,
            expand=expand,
            span=span,
            min_kept=min_kept,
            width=width,
            batch_candidates=batch_candidates,
            overwrite=overwrite,
            trust_remote_code=trust_remote_code,
        )
        s = run_compress(cfg)
        run = s["this_run"]
        typer.echo(
            f"compressed {s['compressed']}/{s['traces']} traces: mean rate {s['mean_rate']}, "
            f"mean search steps {s['mean_search_steps']}, status {json.dumps(s['status'])}; this run "
            f"{run['compressed']} traces, {run['validator_calls_per_sample']} validator calls/sample"
        )
        typer.echo(f"wrote {out} and {cfg.summary_path()}")

    @app.command("compress-baseline")
    def baseline_cmd(
        data: Path = typer.Option(..., help="The same trace JSONL that was compressed."),
        like: Path = typer.Option(..., help="A `thinklab compress` output: per-sample kept-token targets."),
        method: str = typer.Option("random", help="random (random steps) | ends (first and last steps)."),
        out: Path = typer.Option(..., help="Output SFT JSONL."),
        out_format: str = typer.Option("messages", help="messages | sharegpt."),
        fmt: str | None = typer.Option(None, help="Input tag format (default: detected)."),
        step_sep: str = typer.Option("\\n\\n", help="Step separator (as for compress)."),
        step_regex: str | None = typer.Option(None, help="Split steps on this regex instead."),
        tokenizer: str = typer.Option("tiny", help="Tokenizer that counts kept tokens."),
        seed: int = typer.Option(0, help="Seed of the random baseline."),
    ) -> None:
        """Drop steps at random or keep the first and last steps, at A*-Thought's kept-token rate."""
        from thinklab.compress.baselines import run_drop_baseline
        from thinklab.compress.steps import unescape

        s = run_drop_baseline(
            str(data),
            str(like),
            str(out),
            method,
            fmt=fmt,
            out_format=out_format,
            step_sep=unescape(step_sep),
            step_regex=step_regex,
            tokenizer=tokenizer,
            seed=seed,
        )
        typer.echo(
            f"{method}: {s['compressed']} traces, token rate {s['token_rate']} (A* target {s['target_token_rate']})"
        )

    @app.command("compress-prompts")
    def prompts_cmd(
        name: str | None = typer.Argument(
            None, help="Print this prompt (cod, shortcut, skip-steps, sky-t1)."
        ),
    ) -> None:
        """List the A*-Thought eval's prompt-only baselines, or print one for `thinklab eval --system-prompt`."""
        from thinklab.compress.baselines import PROMPT_DESCRIPTIONS, system_prompt

        if name is None:
            for key, text in PROMPT_DESCRIPTIONS.items():
                typer.echo(f"{key:12s} {text}")
            typer.echo('use: thinklab eval --system-prompt "$(thinklab compress-prompts cod)" ...')
            return
        typer.echo(system_prompt(name))
