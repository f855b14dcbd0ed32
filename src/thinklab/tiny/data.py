"""`thinklab tiny data`: arith *train*-split examples in one of the tiny model's trace styles, as SFT rows
or as trace rows (the input of `thinklab compress`). Never the test split: the data is for training.

Each example is the problem text and `"<think>\\n" + arith.render_completion(p, style)` (thought, close
tag, boxed answer). `traces` rows are `{id, problem, response, answer, level}`; the SFT formats are
`thinklab.data.writers`' (`messages`, `sharegpt`, `alpaca`), what `thinklab train sft --data` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from thinklab.config import option
from thinklab.data.writers import SFT_FORMATS
from thinklab.errors import ThinklabError
from thinklab.tasks import arith

OUT_FORMATS = ("traces", *SFT_FORMATS)


@dataclass
class TinyDataConfig:
    """`thinklab tiny data`: N arith train-split examples in a trace style."""

    out: str = option(help="Output JSONL.")
    n: int = option(1000, "Examples (problems drawn from the train split, levels 1-8 cycled).")
    style: str = option(arith.SHIPPED_STYLE, "Trace style: " + " | ".join(arith.TRACE_STYLES) + ".")
    seed: int = option(0, "Seed of the problem draw.")
    distinct: bool = option(
        True, "No problem twice (levels 1-3 hold about a thousand problems each; --no-distinct repeats)."
    )
    out_format: str = option(
        "messages",
        "traces (compress input: id, problem, response, answer, level) | " + " | ".join(SFT_FORMATS) + ".",
    )

    def __post_init__(self) -> None:
        if self.style not in arith.TRACE_STYLES:
            raise ThinklabError(f"style must be one of {', '.join(arith.TRACE_STYLES)}, not {self.style!r}")
        if self.out_format not in OUT_FORMATS:
            raise ThinklabError(
                f"out_format must be one of {', '.join(OUT_FORMATS)}, not {self.out_format!r}"
            )
        if self.n < 1:
            raise ThinklabError(f"n must be at least 1, got {self.n}")


def write_tiny_data(cfg: TinyDataConfig) -> int:
    """Write the examples (atomically); returns the row count."""
    from thinklab.data.jsonl import write_jsonl
    from thinklab.data.writers import Example, write_examples

    rows = arith.train_traces(cfg.n, cfg.seed, cfg.style, distinct=cfg.distinct)
    if cfg.out_format == "traces":
        return write_jsonl(cfg.out, rows)
    return write_examples(cfg.out, (Example(r["problem"], r["response"]) for r in rows), cfg.out_format)
