"""`thinklab autothink mix`: the starting policy's SFT mixture for AutoThink (docs/autothink.md).

Training is `thinklab train grpo --reward autothink`; the per-stage report is `thinklab report autothink`.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer

from thinklab.cli.build import config_command
from thinklab.config import option


@dataclass
class MixConfig:
    """`thinklab autothink mix`: think / no-think SFT mixture under the ellipsis prompt."""

    out: str = option(help="Output JSONL (messages format, for `thinklab train sft --data`).")
    n: int = option(20000, "Examples.")
    no_think_fraction: float = option(0.5, "Share of examples that answer without thinking.")
    seed: int = option(0, "Seed (problems and which ones skip thinking).")
    direct_n: int = option(0, "Extra direct-answer examples under the no-think prefill (skill practice).")
    direct_levels: tuple[int, ...] = option(
        (1, 2, 3), "Comma-separated arith levels of the direct-answer examples."
    )
    answer_style: str = option(
        "boxed",
        "What a no-think answer holds: boxed (the bare answer) | concise (a short worked solution) | "
        "paired (a worked solution computing two operations per line).",
    )


def register(app: typer.Typer) -> None:
    autothink = typer.Typer(
        help="AutoThink helpers: the starting policy's SFT mixture.", no_args_is_help=True
    )
    app.add_typer(autothink, name="autothink")

    @config_command(autothink, "mix", MixConfig)
    def mix_cmd(cfg: MixConfig) -> None:
        """Write the think / no-think SFT mixture under the ellipsis prompt (plus direct-answer practice)."""
        from thinklab.autothink.data import ANSWER_STYLES, write_mixture
        from thinklab.errors import ThinklabError
        from thinklab.tasks.arith import MAX_LEVEL

        bad = [lv for lv in cfg.direct_levels if not 1 <= lv <= MAX_LEVEL]
        if bad or not cfg.direct_levels:
            raise ThinklabError(
                f"--direct-levels: arith levels are 1..{MAX_LEVEL}, got {','.join(map(str, cfg.direct_levels)) or 'none'}"
            )
        if cfg.answer_style not in ANSWER_STYLES:
            raise ThinklabError(
                f"--answer-style must be one of {', '.join(ANSWER_STYLES)}, not {cfg.answer_style!r}"
            )
        rows = write_mixture(
            cfg.out, cfg.n, cfg.no_think_fraction, cfg.seed, cfg.direct_n, cfg.direct_levels, cfg.answer_style
        )
        typer.echo(f"wrote {rows} examples to {cfg.out}")
