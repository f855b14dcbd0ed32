"""`thinklab tasks list|show`: see which tasks exist, whether their data is found, and what prompts look like.

`list` never downloads anything: for benchmarks it only checks whether the file is there, so it is
a cheap way to check a `--data-dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from thinklab.cli.build import config_command
from thinklab.config import option
from thinklab.errors import ThinklabError

if TYPE_CHECKING:
    from thinklab.tasks.registry import Task

_DATA_DIR_HELP = (
    "Folder holding <task>/test.jsonl (default: $THINKLAB_DATA_DIR, else ~/.cache/thinklab/benchmarks)."
)


@dataclass
class TaskListConfig:
    """`thinklab tasks list`."""

    data_dir: str | None = option(None, _DATA_DIR_HELP)


@dataclass
class TaskShowConfig:
    """`thinklab tasks show`."""

    name: str = option(help="Task name, e.g. math500 or jsonl:PATH.", argument=True)
    data_dir: str | None = option(None, _DATA_DIR_HELP)
    limit: int = option(3, "How many problems to print.")


def _count(task: Task, data_dir: Path | None) -> str:
    """Number of problems if the data is found locally, else "-" (no download, no error)."""
    from thinklab.data.jsonl import read_jsonl
    from thinklab.tasks.benchmarks import resolve_data_dir

    data_file = task.metadata.get("data_file")
    try:
        if data_file:
            path = resolve_data_dir(data_dir)[0] / data_file
            return str(len(read_jsonl(path))) if path.is_file() else "-"
        return str(len(task.problems(data_dir)))
    except ThinklabError:
        return "-"


def list_tasks(cfg: TaskListConfig) -> None:
    """List the registered tasks, with the number of problems where their data is found."""
    from thinklab.tasks.registry import iter_tasks

    data_dir = Path(cfg.data_dir) if cfg.data_dir else None

    table = Table(show_edge=False, box=None)
    for column in ("task", "problems", "description"):
        table.add_column(column)
    for task in iter_tasks():
        table.add_row(task.name, _count(task, data_dir), task.description)
    console = Console()
    console.print(table)
    console.print("Also: jsonl:PATH reads any JSONL file of {id, problem, answer}.")


def show_task(cfg: TaskShowConfig) -> None:
    """Print the first problems of a task as the prompts a model would receive, with gold answers."""
    from thinklab.tasks.registry import get_task

    if cfg.limit < 1:
        raise ThinklabError(f"--limit must be at least 1, got {cfg.limit}")
    task = get_task(cfg.name)
    problems = task.problems(Path(cfg.data_dir) if cfg.data_dir else None, limit=cfg.limit)
    console = Console(highlight=False)
    console.print(f"[bold]{task.name}[/bold]: {task.description}", markup=True)
    for problem in problems:
        console.rule(Text(f"{problem.id}  (answer: {problem.answer})"), characters="-", style="dim")
        console.print(task.render(problem), markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `tasks` command group to the main app."""
    group = typer.Typer(help="List tasks and show their prompts.", no_args_is_help=True)
    app.add_typer(group, name="tasks")
    config_command(group, "list", TaskListConfig)(list_tasks)
    config_command(group, "show", TaskShowConfig)(show_task)
