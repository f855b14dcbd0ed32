"""The `thinklab` command line: a thin Typer app. Each command group lives in its own small module
that parses arguments into a config dataclass and calls one library function; no logic lives here.

Errors that are the user's (bad task name, malformed file, unreachable server) are `ThinklabError`s or
`ValueError`s subclasses raised by the library; `run()` turns them into a one-line message and exit code 2.
"""

from __future__ import annotations

import errno
import importlib
import sys

import typer

app = typer.Typer(
    name="thinklab",
    help="Make reasoning models think better and shorter: budgeted eval, compression, search, RL, DPO.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app: typer.Typer) -> None`.
_COMMAND_MODULES = [
    "thinklab.cli.grade",
    "thinklab.cli.tasks",
    "thinklab.cli.tiny",
    "thinklab.cli.evaluate",
    "thinklab.cli.train",
    "thinklab.cli.search",
    "thinklab.cli.rollouts",
    "thinklab.cli.compress",
    "thinklab.cli.pairs",
    "thinklab.cli.star",
    "thinklab.cli.recipe",
    "thinklab.cli.autothink",
    "thinklab.cli.report",
]

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command group not written yet must not break the others
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def _click_exception_types() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(usage errors, exits, aborts) the CLI may raise.

    Typer >= 0.2x vendors its own copy of click (`typer._click`), whose usage errors are not the installed
    click's: catching only `click.ClickException` let a mistyped option end in a traceback."""
    import click

    usage: list[type] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException  # private, hence guarded: absent in older Typer

        usage.append(ClickException)
    except ImportError:
        pass
    exits = (click.exceptions.Exit, typer.Exit)
    aborts = (click.exceptions.Abort, typer.Abort)
    return tuple(usage), exits, aborts


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def main() -> None:
    """Entry point used by `python -m thinklab`; turns user errors into one line, no traceback."""
    from thinklab.errors import ThinklabError

    usage_errors, exits, aborts = _click_exception_types()
    try:
        rc = app(standalone_mode=False)
    except ThinklabError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        # What was written before is intact (appends are fsynced per chunk, results replaced whole,
        # training output renamed only when complete), so the same command resumes once there is room.
        where = f" writing {exc.filename}" if exc.filename else ""
        typer.secho(
            f"error: no space left on the device{where}; free some and rerun to resume", fg="red", err=True
        )
        sys.exit(2)
    except exits as exc:
        sys.exit(exc.exit_code)
    except usage_errors as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (*aborts, KeyboardInterrupt):
        typer.secho("interrupted", err=True)
        sys.exit(130)
    sys.exit(rc if isinstance(rc, int) else 0)
