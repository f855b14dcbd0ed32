"""`thinklab rollouts` (value-model training data) and `thinklab value-eval` (its held-out AUC)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from thinklab.cli.options import int_list
from thinklab.errors import ThinklabError


def _fractions(spec: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in spec.split(",") if x.strip())
    except ValueError:
        raise ThinklabError(f"malformed --cuts {spec!r}: expected fractions like 0.25,0.5,0.75") from None


def register(app: typer.Typer) -> None:
    @app.command("rollouts")
    def rollouts_cmd(
        out: Path = typer.Option(
            Path("runs/rollouts/train.jsonl"), help="Output JSONL (resumed if it exists)."
        ),
        model: str = typer.Option("tiny", help="Policy: hub id, local model dir, or `tiny`."),
        task: str = typer.Option("arith:train", help="Task to draw problems from (use a training split)."),
        split: str = typer.Option(
            "test", help="Split name passed to the task loader (arith variants fix their own)."
        ),
        levels: str = typer.Option("", help="Keep only problems of these difficulty levels, e.g. 6,7,8."),
        limit: int | None = typer.Option(None, help="At most N problems (after the level filter)."),
        n_rollins: int = typer.Option(2, help="Policy traces per problem to cut into roll-ins."),
        cuts: str = typer.Option("0.25,0.5,0.75", help="Cut points as fractions of each roll-in's tokens."),
        n_rollouts: int = typer.Option(4, help="Roll-outs sampled from each cut."),
        max_tokens: int = typer.Option(512, help="Length cap of roll-in + roll-out (beyond it: class 2)."),
        sampling: str = typer.Option(
            "temperature=0.8,top_p=0.95", help="k=v list for the policy's sampling."
        ),
        rollin_sampling: str = typer.Option(
            "", help="k=v sampling for the roll-ins only, e.g. temperature=0 (greedy; --n-rollins 1)."
        ),
        prompt_mode: str = typer.Option("standard", help="standard | no-think | ellipsis."),
        system_prompt: str | None = typer.Option(None, help="Optional system prompt."),
        backend: str = typer.Option("hf", help="hf | vllm | openai | ray (replicas: docs/scaling.md)."),
        backend_args: str = typer.Option("", help="k=v list for the backend."),
        data_dir: Path | None = typer.Option(None, help="Benchmark data folder (else $THINKLAB_DATA_DIR)."),
        seed: int = typer.Option(0, help="Sampling seed."),
        chunk_size: int = typer.Option(32, help="Problems per batch and per write to disk."),
        overwrite: bool = typer.Option(False, help="Start over instead of resuming."),
        trust_remote_code: bool = typer.Option(False, help="Allow model repos to run their own code."),
    ) -> None:
        """Sample roll-ins from a policy, cut them, roll out from each cut and label the outcomes
        (0 wrong, 1 correct, 2 unfinished): training data for `thinklab train value`."""
        from thinklab.search.rollouts import RolloutConfig, build_rollouts, read_rollouts

        cfg = RolloutConfig(
            model=model,
            task=task,
            out=str(out),
            split=split,
            levels=int_list(levels, "--levels", "6,7,8", allow_empty=True),
            limit=limit,
            n_rollins=n_rollins,
            cuts=_fractions(cuts),
            n_rollouts=n_rollouts,
            max_tokens=max_tokens,
            sampling=sampling,
            rollin_sampling=rollin_sampling,
            prompt_mode=prompt_mode,
            system_prompt=system_prompt,
            backend=backend,
            backend_args=backend_args,
            data_dir=str(data_dir) if data_dir else None,
            seed=seed,
            chunk_size=chunk_size,
            overwrite=overwrite,
            trust_remote_code=trust_remote_code,
        )
        path = build_rollouts(cfg)
        rows = read_rollouts(path)
        labels = [lab for r in rows for lab in r["labels"]]
        counts = {name: labels.count(i) for i, name in enumerate(("wrong", "correct", "unfinished"))}
        typer.echo(f"wrote {path}: {len(rows)} roll-ins, {len(labels)} roll-outs {counts}")

    @app.command("value-eval")
    def value_eval_cmd(
        value_model: Path = typer.Option(..., help="Value model dir from `thinklab train value`."),
        data: Path = typer.Option(..., help="Held-out rollouts JSONL (from `thinklab rollouts`)."),
        device: str | None = typer.Option(None, help="cpu | cuda (default: cuda if available)."),
        out: Path | None = typer.Option(None, help="Also write the metrics to this JSON file."),
    ) -> None:
        """ROC AUC of a value model's prefix values against roll-out outcomes, per cut point."""
        from thinklab.search.train_value import evaluate_value_dir

        result = evaluate_value_dir(str(value_model), str(data), device)
        text = json.dumps(result, indent=2)
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n")
        typer.echo(text)
