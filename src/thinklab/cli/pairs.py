"""`thinklab pairs ...`: build preference pairs for DPO. `pairs thinkpo` is ThinkPO's long-vs-short
builder; the CLI parses arguments into `PairsConfig` and calls `build_pairs`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    pairs = typer.Typer(
        help="Build preference pairs (TRL prompt/chosen/rejected JSONL) for `train dpo`.",
        no_args_is_help=True,
    )
    app.add_typer(pairs, name="pairs")

    @pairs.command("thinkpo")
    def thinkpo_cmd(
        out: Path = typer.Option(Path("runs/thinkpo/pairs.jsonl"), help="Output JSONL of pairs."),
        long: Path | None = typer.Option(None, help="Long responses: JSONL or a `thinklab eval` run dir."),
        short: Path | None = typer.Option(
            None, help="Short responses (same problems). Omit both --short options to pair within --long."
        ),
        long_model: str | None = typer.Option(None, help="Sample the long side from this model instead."),
        short_model: str | None = typer.Option(None, help="Sample the short side from this model instead."),
        task: str | None = typer.Option(
            None, help="Task to sample on, and to look up problems/answers by id (e.g. arith:train)."
        ),
        data_dir: Path | None = typer.Option(None, help="Benchmark data folder for --task."),
        limit: int | None = typer.Option(None, help="Only the first N problems of --task when sampling."),
        n: int = typer.Option(1, help="Samples per problem when sampling."),
        sampling: str = typer.Option("", help="k=v list for sampling, e.g. temperature=0.7,top_p=0.9."),
        max_tokens: int = typer.Option(1024, help="Token budget per sampled response."),
        prompt_mode: str = typer.Option("standard", help="standard | no-think | ellipsis (when sampling)."),
        backend: str = typer.Option("hf", help="hf | vllm | openai | ray (when sampling)."),
        backend_args: str = typer.Option("", help="k=v list passed to the backend."),
        seed: int = typer.Option(0, help="Sampling seed."),
        system: str | None = typer.Option(None, help="System prompt to attach to every pair."),
        tokenizer: str | None = typer.Option(
            None, help="Measure lengths in this model's tokens (default: recorded token counts, else words)."
        ),
        min_gap: int = typer.Option(1, help="Chosen must be at least this much longer than rejected."),
        min_ratio: float = typer.Option(1.0, help="...and at least this many times as long."),
        select: str = typer.Option("all", help="Length-gap bucket: all | short | middle | long."),
        size: int | None = typer.Option(
            None, help="Pairs in the bucket (default: a third of them; seed 1000)."
        ),
        format: str = typer.Option(
            "conversational", help="conversational (message lists) | plain (strings)."
        ),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
    ) -> None:
        """ThinkPO pairs: chosen = long correct response, rejected = short correct response."""
        from thinklab.thinkpo.pairs import PairsConfig, build_pairs

        cfg = PairsConfig(
            out=str(out),
            long=str(long) if long else None,
            short=str(short) if short else None,
            long_model=long_model,
            short_model=short_model,
            task=task,
            data_dir=str(data_dir) if data_dir else None,
            limit=limit,
            n=n,
            sampling=sampling,
            max_tokens=max_tokens,
            prompt_mode=prompt_mode,
            backend=backend,
            backend_args=backend_args,
            seed=seed,
            system=system,
            tokenizer=tokenizer,
            min_gap=min_gap,
            min_ratio=min_ratio,
            select=select,
            size=size,
            fmt=format,
            trust_remote_code=trust_remote_code,
        )
        result = build_pairs(cfg)
        s = result.stats
        typer.echo(
            f"wrote {s['written']} pairs to {result.path} ({s['pairs_after_filter']} passed the filters; "
            f"gap mean {s['gap']['mean']} {s['length_unit']}; chosen {s['chosen_length']['mean']}, "
            f"rejected {s['rejected_length']['mean']})"
        )
