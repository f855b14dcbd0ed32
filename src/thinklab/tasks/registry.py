"""The task registry: a task is a dataset + a prompt template + an answer extractor + a grader.

Adding a task is one `register(Task(...))` call (see `benchmarks.py`). `get_task("jsonl:PATH")` builds a
task from any JSONL file of `{id, problem, answer}` on the fly, and `get_task("NAME[start:stop]")` a slice
of any task's problems (e.g. `arith:train[400:640]`, problems 400..639: a validation set next to a limit).

A task also owns how it is graded (`Task.graders`), under an extraction policy: a built-in math task names
its default policy in ``Task.metadata["extraction"]`` (``strict``); ``eval --extraction`` and ``score
--extraction`` override it, so one run can be graded the way thinklab grades and the way the published
harnesses do (docs/grading.md). Tasks with their own extractor (``arith``) have no policy: asking for one
is an error rather than a silent no-op. eval, score, search and rollouts all grade through `Task.graders`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from thinklab.data.problem import Problem
from thinklab.errors import ThinklabError

# `extract(text, truncated=False)`: the answer of a prefill + response, or None. ``truncated`` says the
# output was cut off by the token budget, so no fallback may read an answer out of it.
Extractor = Callable[..., "str | None"]


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

    def extraction(self, override: str | None = None) -> str | None:
        """The extraction policy that grades this task: ``override`` when given, else the task's default
        (None for a task with its own extractor). An unknown name, or a policy for a task that has none,
        is a one-line error."""
        from thinklab.grading import check_policy

        default = self.metadata.get("extraction")
        if override is None:
            return default
        if default is None:
            raise ThinklabError(
                f"task {self.name!r} has its own answer extractor; --extraction applies to the math tasks "
                "(math500, gsm8k, aime24, aime25, amc23, minerva, olympiadbench, jsonl:PATH)"
            )
        return check_policy(override)

    def extractor(self, policy: str | None) -> Extractor:
        """An extractor for this task under ``policy`` (None: the task's own extractor, unchanged)."""
        from thinklab.grading import extract_answer

        base = self.extract or extract_answer
        if policy is None:
            return lambda text, truncated=False: base(text)
        return lambda text, truncated=False: base(text, policy=policy, truncated=truncated)

    def graders(self, policy: str | None = None) -> tuple[Extractor, Callable[[str, str], bool]]:
        """The task's extractor (under extraction ``policy``, default: the task's; see `extraction`) and
        grader. The extractor takes ``truncated=True`` for output cut off by the budget."""
        from thinklab.grading import is_equivalent

        return self.extractor(self.extraction(policy)), self.grade or is_equivalent


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


_SLICE = re.compile(r"^(?P<base>.+)\[(?P<start>\d*):(?P<stop>\d*)\]$")


def _sliced(name: str, base: Task, start: int | None, stop: int | None) -> Task:
    """`base` restricted to its problems[start:stop] (per split), named `name`."""
    where = f"{start or 0}..{'end' if stop is None else stop - 1}"
    return replace(
        base,
        name=name,
        load=lambda data_dir, split: base.load(data_dir, split)[start:stop],
        description=f"problems {where} of {base.name}"
        + (f" ({base.description})" if base.description else ""),
    )


def get_task(name: str) -> Task:
    _ensure_builtins()
    sliced = _SLICE.match(name)
    if sliced and name not in _REGISTRY:
        start, stop = (int(v) if v else None for v in sliced.group("start", "stop"))
        if start is not None and stop is not None and stop <= start:
            raise TaskError(f"task slice {name!r} is empty: stop must be greater than start")
        return _sliced(name, get_task(sliced.group("base")), start, stop)
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
