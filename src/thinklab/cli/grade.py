"""`thinklab grade GOLD PRED`: check one answer by hand, with the same grader every evaluation uses.

Useful when a score looks wrong: paste the gold answer and the model's answer (or its whole response
with ``--extract``) and see what the grader decides and why. Exits 0 whether or not they are equal, so
it can be used in shell loops; the verdict is on stdout.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer

from thinklab.cli.build import config_command
from thinklab.config import option


@dataclass
class GradeConfig:
    """`thinklab grade`: one gold / predicted pair through the evaluation grader."""

    gold: str = option(help="The reference answer, e.g. '\\frac12'.", argument=True)
    pred: str = option(help="The predicted answer, or a whole response with --extract.", argument=True)
    extract: bool = option(
        False, "Extract the answer from PRED first (strip thinking, last \\boxed{}, Final: line, ...)."
    )
    last_number: bool = option(False, "With extraction, fall back to the last number (GSM8K style).")
    timeout: float = option(5.0, "Seconds before giving up (counts as not equal).")
    extraction: str = option(
        "strict", "Extraction policy for a whole response: strict | harness (docs/grading.md)."
    )


def grade_command(cfg: GradeConfig) -> None:
    """Check whether PRED is mathematically equivalent to GOLD (the grader used by evaluations): prints
    'equal' or 'not equal' (and the extracted answer with --extract)."""
    from thinklab.grading import check_policy, compare, find_answer, split_thinking

    gold, pred, extraction, timeout = cfg.gold, cfg.pred, cfg.extraction, cfg.timeout
    extract, last_number = cfg.extract, cfg.last_number
    check_policy(extraction)  # one line for an unknown name, before anything is graded

    candidate: str | None = pred
    if extract or last_number:
        if split_thinking(pred).answer is None:
            typer.echo("not equal")
            typer.echo("extracted: (none: the thinking block never closed)")
            return
        found = find_answer(pred, policy=extraction, last_number=last_number)
        candidate = found.answer if found is not None else None
    equal, reason = (
        compare(gold, candidate, timeout=timeout, policy=extraction)
        if candidate is not None
        else (False, "no_answer")
    )
    verdict = "equal" if equal else "not equal"
    if not equal and reason not in ("not_equivalent", "no_answer"):
        verdict += f" ({reason})"
    typer.echo(verdict)
    if extract or last_number:
        typer.echo(f"extracted: {candidate if candidate is not None else '(none)'}")


def register(app: typer.Typer) -> None:
    """Add the `grade` command to the main app."""
    config_command(app, "grade", GradeConfig)(grade_command)
