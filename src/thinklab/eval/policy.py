"""Which extraction policy grades a task, and the extractor that applies it (used by `eval` and `score`).

A built-in math task names its default policy in ``Task.metadata["extraction"]`` (``strict``); ``eval
--extraction`` and ``score --extraction`` override it, so one run can be graded the way thinklab grades
and the way the published harnesses do (docs/grading.md). Tasks with their own extractor (``arith``) have
no policy: asking for one is an error rather than a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable

from thinklab.errors import ThinklabError
from thinklab.tasks.registry import Task

__all__ = ["Extractor", "policy_extractor", "resolve_extraction"]

# `extract(text, truncated=False)`: the answer of a prefill + response, or None. ``truncated`` says the
# output was cut off by the token budget, so no fallback may read an answer out of it.
Extractor = Callable[..., "str | None"]


def resolve_extraction(task: Task, override: str | None = None) -> str | None:
    """The policy that grades ``task``: ``override`` when given, else the task's default (None for a task
    with its own extractor). An unknown name, or a policy for a task that has none, is a one-line error."""
    from thinklab.grading import check_policy

    default = task.metadata.get("extraction")
    if override is None:
        return default
    if default is None:
        raise ThinklabError(
            f"task {task.name!r} has its own answer extractor; --extraction applies to the math tasks "
            "(math500, gsm8k, aime24, aime25, amc23, minerva, olympiadbench, jsonl:PATH)"
        )
    return check_policy(override)


def policy_extractor(task: Task, policy: str | None) -> Extractor:
    """An extractor for ``task`` under ``policy`` (None: the task's own extractor, unchanged)."""
    from thinklab.grading import extract_answer

    base = task.extract or extract_answer
    if policy is None:
        return lambda text, truncated=False: base(text)
    return lambda text, truncated=False: base(text, policy=policy, truncated=truncated)
