"""`thinklab compress`, `thinklab compress-baseline`, `thinklab compress-prompts`: A*-Thought and its baselines."""

from __future__ import annotations

import json
from dataclasses import dataclass

import typer

from thinklab.cli.build import config_command
from thinklab.compress.runner import CompressConfig
from thinklab.config import option


@dataclass
class DropBaselineConfig:
    """`thinklab compress-baseline`: drop steps at A*-Thought's kept-token rate, sample by sample."""

    data: str = option(help="The same trace JSONL that was compressed.")
    like: str = option(help="A `thinklab compress` output: per-sample kept-token targets.")
    out: str = option(help="Output SFT JSONL.")
    method: str = option("random", "random (random steps) | ends (first and last steps).")
    out_format: str = option("messages", "messages | sharegpt.")
    trace_format: str | None = option(None, "Input tag format r1 | sky | s1 (default: detected).")
    step_sep: str = option("\\n\\n", "Step separator (as for compress).")
    step_regex: str | None = option(None, "Split steps on this regex instead.")
    tokenizer: str = option("tiny", "Model whose tokenizer counts kept tokens.")
    seed: int = option(0, "Seed of the random baseline.")


@dataclass
class PromptBaselineConfig:
    """`thinklab compress-prompts`: the A*-Thought eval's prompt-only baselines."""

    name: str | None = option(None, "Print this prompt (cod, shortcut, skip-steps, sky-t1).", argument=True)


def register(app: typer.Typer) -> None:
    @config_command(app, "compress", CompressConfig)
    def compress_cmd(cfg: CompressConfig) -> None:
        """Compress reasoning traces with A*-Thought (BIS + A* search + validator); resumable."""
        from thinklab.compress.runner import run_compress

        s = run_compress(cfg)
        run = s["this_run"]
        typer.echo(
            f"compressed {s['compressed']}/{s['traces']} traces: mean rate {s['mean_rate']}, "
            f"mean search steps {s['mean_search_steps']}, status {json.dumps(s['status'])}; this run "
            f"{run['compressed']} traces, {run['validator_calls_per_sample']} validator calls/sample"
        )
        typer.echo(f"wrote {cfg.out} and {cfg.summary_path()}")

    @config_command(app, "compress-baseline", DropBaselineConfig)
    def baseline_cmd(cfg: DropBaselineConfig) -> None:
        """Drop steps at random or keep the first and last steps, at A*-Thought's kept-token rate."""
        from thinklab.compress.baselines import run_drop_baseline
        from thinklab.compress.steps import unescape

        s = run_drop_baseline(
            cfg.data,
            cfg.like,
            cfg.out,
            cfg.method,
            fmt=cfg.trace_format,
            out_format=cfg.out_format,
            step_sep=unescape(cfg.step_sep),
            step_regex=cfg.step_regex,
            tokenizer=cfg.tokenizer,
            seed=cfg.seed,
        )
        typer.echo(
            f"{cfg.method}: {s['compressed']} traces, token rate {s['token_rate']} "
            f"(A* target {s['target_token_rate']})"
        )

    @config_command(app, "compress-prompts", PromptBaselineConfig)
    def prompts_cmd(cfg: PromptBaselineConfig) -> None:
        """List the A*-Thought eval's prompt-only baselines, or print one for `thinklab eval --system-prompt`."""
        from thinklab.compress.baselines import PROMPT_DESCRIPTIONS, system_prompt

        if cfg.name is None:
            for key, text in PROMPT_DESCRIPTIONS.items():
                typer.echo(f"{key:12s} {text}")
            typer.echo('use: thinklab eval --system-prompt "$(thinklab compress-prompts cod)" ...')
            return
        typer.echo(system_prompt(cfg.name))
