"""The task registry: a task is a dataset + a prompt template + an answer extractor + a grader.

Adding a task is one `register(Task(...))` call (see `benchmarks.py`). `get_task("jsonl:PATH")` builds a
task from any JSONL file of `{id, problem, answer}` on the fly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from thinklab.data.problem import Problem
from thinklab.errors import ThinklabError


class TaskError(ThinklabError, ValueError):
    """A task name, data folder or data file that cannot be used; the message says how to fix it."""


@dataclass(frozen=True)
class Task:
    """A named source of problems plus how to prompt for and grade them.

    `load(data_dir, split)` returns the problems; `template` turns a problem text into the user message
    (`{problem}` is replaced); `extract` pulls the predicted answer out of a response (thinking already
    handled by the extractor); `grade(gold, pred)` decides equivalence.
    """

    name: str
    load: Callable[[Path | None, str], list[Problem]]
    template: str = "{problem}"
    extract: Callable[[str], str | None] | None = None
    grade: Callable[[str, str], bool] | None = None
    description: str = ""
    splits: tuple[str, ...] = ("test",)
    metadata: dict = field(default_factory=dict)

    def problems(
        self, data_dir: Path | None = None, split: str = "test", limit: int | None = None
    ) -> list[Problem]:
        items = self.load(data_dir, split)
        return items[:limit] if limit is not None else items

    def render(self, problem: Problem, template: str | None = None) -> str:
        """The user message: `template` (default: the task's own) with `{problem}` replaced."""
        return (template or self.template).replace("{problem}", problem.problem)


_REGISTRY: dict[str, Task] = {}
_FACTORIES: dict[str, Callable[[str], Task]] = {}


def register(task: Task) -> Task:
    """Add a task by name; registering the same name twice is an error (one way to do each thing)."""
    if task.name in _REGISTRY:
        raise TaskError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def register_prefix(prefix: str, factory: Callable[[str], Task]) -> None:
    """Register a family of tasks addressed as `prefix:ARG` (e.g. `jsonl:PATH`, `arith:hard`)."""
    _FACTORIES[prefix] = factory


def get_task(name: str) -> Task:
    _ensure_builtins()
    if name in _REGISTRY:
        return _REGISTRY[name]
    prefix, sep, arg = name.partition(":")
    if sep and prefix in _FACTORIES:
        return _FACTORIES[prefix](arg)
    known = ", ".join(sorted(_REGISTRY)) + ", " + ", ".join(f"{p}:..." for p in sorted(_FACTORIES))
    raise TaskError(f"unknown task {name!r}; known tasks: {known}")


def task_names() -> list[str]:
    _ensure_builtins()
    return sorted(_REGISTRY)


def iter_tasks() -> Iterator[Task]:
    _ensure_builtins()
    yield from (_REGISTRY[n] for n in sorted(_REGISTRY))


def _ensure_builtins() -> None:
    # Imported lazily so that importing the registry never pulls in every task module.
    from thinklab.tasks import benchmarks  # noqa: F401

    # The synthetic task and its fresh-problem family live in their own modules; the benchmarks must
    # work without them.
    for module in ("thinklab.tasks.arith", "thinklab.tasks.fresh"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name not in ("thinklab.tasks.arith", module):
                raise
