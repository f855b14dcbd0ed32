"""`thinklab tasks list|show`: see which tasks exist, whether their data is found, and what prompts look like.

`list` never downloads anything: for benchmarks it only checks whether the file is there, so it is
a cheap way to check a `--data-dir`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from thinklab.tasks.registry import Task

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding <task>/test.jsonl (default: $THINKLAB_DATA_DIR, else ~/.cache/thinklab/benchmarks).",
        show_default=False,
    ),
]


def _count(task: Task, data_dir: Path | None) -> str:
    """Number of problems if the data is found locally, else "-" (no download, no error)."""
    from thinklab.data.jsonl import read_jsonl
    from thinklab.errors import ThinklabError
    from thinklab.tasks.benchmarks import resolve_data_dir

    data_file = task.metadata.get("data_file")
    try:
        if data_file:
            path = resolve_data_dir(data_dir)[0] / data_file
            return str(len(read_jsonl(path))) if path.is_file() else "-"
        return str(len(task.problems(data_dir)))
    except ThinklabError:
        return "-"


def list_tasks(data_dir: DataDirOption = None) -> None:
    """List the registered tasks, with the number of problems where their data is found."""
    from thinklab.tasks.registry import iter_tasks

    table = Table(show_edge=False, box=None)
    for column in ("task", "problems", "description"):
        table.add_column(column)
    for task in iter_tasks():
        table.add_row(task.name, _count(task, data_dir), task.description)
    console = Console()
    console.print(table)
    console.print("Also: jsonl:PATH reads any JSONL file of {id, problem, answer}.")


def show_task(
    name: Annotated[str, typer.Argument(help="Task name, e.g. math500 or jsonl:PATH.")],
    data_dir: DataDirOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many problems to print.")] = 3,
) -> None:
    """Print the first problems of a task as the prompts a model would receive, with gold answers."""
    from thinklab.tasks.registry import get_task

    task = get_task(name)
    problems = task.problems(data_dir, limit=limit)
    console = Console(highlight=False)
    console.print(f"[bold]{task.name}[/bold]: {task.description}", markup=True)
    for problem in problems:
        console.rule(Text(f"{problem.id}  (answer: {problem.answer})"), characters="-", style="dim")
        console.print(task.render(problem), markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `tasks` command group to the main app."""
    group = typer.Typer(help="List tasks and show their prompts.", no_args_is_help=True)
    group.command("list")(list_tasks)
    group.command("show")(show_task)
    app.add_typer(group, name="tasks")
