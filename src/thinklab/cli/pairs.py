"""`thinklab pairs ...`: build preference pairs for DPO. `pairs thinkpo` is ThinkPO's long-vs-short
builder; its options are `PairsConfig`'s and it calls `build_pairs`."""

from __future__ import annotations

import typer

from thinklab.cli.build import config_command
from thinklab.thinkpo.pairs import PairsConfig


def register(app: typer.Typer) -> None:
    pairs = typer.Typer(
        help="Build preference pairs (TRL prompt/chosen/rejected JSONL) for `train dpo`.",
        no_args_is_help=True,
    )
    app.add_typer(pairs, name="pairs")

    @config_command(pairs, "thinkpo", PairsConfig)
    def thinkpo_cmd(cfg: PairsConfig) -> None:
        """ThinkPO pairs: chosen = long correct response, rejected = short correct response."""
        from thinklab.thinkpo.pairs import build_pairs

        result = build_pairs(cfg)
        s = result.stats
        typer.echo(
            f"wrote {s['written']} pairs to {result.path} ({s['pairs_after_filter']} passed the filters; "
            f"gap mean {s['gap']['mean']} {s['length_unit']}; chosen {s['chosen_length']['mean']}, "
            f"rejected {s['rejected_length']['mean']})"
        )
