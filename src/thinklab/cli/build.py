"""Commands built from config dataclasses: every option of a command is a field of its config class.

`config_command(group, "eval", EvalConfig)` turns each field into an option (`max_tokens` ->
`--max-tokens`, help from the field's metadata, default shown from the dataclass) and adds `--config
FILE.yaml` and `--set key=value` to every command. The decorated function receives the finished config
and only runs it and prints. Values are layered: dataclass defaults < `--config` < `--set` < options
given on the command line; `thinklab.config.from_mapping` checks them all in one place.

An option's default is the dataclass default (so `--help` shows it), but only options the user typed
replace a value from `--config` or `--set` (click's parameter source tells them apart).
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from thinklab.config import apply_sets, from_mapping, load_yaml, strip_optional, type_hints
from thinklab.errors import ThinklabError

# By name: Typer vendors its own copy of click, whose ParameterSource is not the installed click's.
_DEFAULT_SOURCES = ("DEFAULT", "DEFAULT_MAP")


# Keys of a recipe step that are not the command's options (`thinklab.cli.recipe`).
STEP_KEYS = ("command", "step", "creates")


def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def flag_names(f: dataclasses.Field) -> str:
    """A boolean option's `--on/--off` declaration: the field's own (`--validator-chat/--validator-raw`)
    or `--name/--no-name`."""
    return f.metadata.get("flag") or f"{option_name(f.name)}/--no-{f.name.replace('_', '-')}"


def cli_fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """(field, command-line type) of the fields a config class exposes as options; nested sections and
    mappings are left to `--config` / `--set`."""
    hints = type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli", True):
            continue
        kind, _ = strip_optional(hints[f.name])
        origin = typing.get_origin(kind)
        if dataclasses.is_dataclass(kind) or kind is dict or origin is dict:
            continue
        if origin in (tuple, list):
            kind = list[str] if f.metadata.get("argument") else str  # a comma list on the command line
        elif kind not in (bool, int, float, str):
            continue
        out.append((f, kind))
    return out


def cli_default(f: dataclasses.Field) -> Any:
    """The default a command-line option shows in `--help` (tuples as the comma list one would type)."""
    if f.metadata.get("required"):
        return None
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return value


def _parameter(f: dataclasses.Field, kind: Any) -> inspect.Parameter:
    meta = f.metadata
    help_text = meta.get("help", "")
    if meta.get("required"):
        help_text += " [required: here, in --config or by --set]"
    default = cli_default(f)
    if meta.get("argument"):
        info = typer.Argument(None if kind is not str else default, help=help_text, show_default=False)
    else:
        decls = [flag_names(f)] if kind is bool or meta.get("flag") else [option_name(f.name)]
        shown = default not in (None, "") and len(str(default)) <= 60  # long prompt texts: see docs/cli.md
        info = typer.Option(default, *decls, help=help_text, show_default=shown)
    annotation = kind if default is not None else kind | None
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation)


def _recipe_step(recipe: dict[str, Any], path: Path, command: str) -> dict[str, Any]:
    """The options of the one step of a recipe that runs `command` (so `thinklab star --config
    recipes/tiny/star.yaml` works); several such steps are an error naming them."""
    steps = [s for s in recipe.get("steps") or [] if isinstance(s, dict) and s.get("command") == command]
    if len(steps) != 1:
        names = ", ".join(str(s.get("step") or s.get("command")) for s in steps)
        where = f"{len(steps)} `{command}` steps ({names})" if steps else f"no `{command}` step"
        raise ThinklabError(
            f"{path} is a recipe with {where}; run it with `thinklab recipe {path}` (--only STEP for one step)"
        )
    return {k: v for k, v in steps[0].items() if k not in STEP_KEYS}


def config_command(
    group: typer.Typer, name: str, cls: type, *, hidden: bool = False, no_args_is_help: bool = False
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Register the decorated `run(cfg)` as command `name` of `group`, its options built from `cls`.
    The run function's docstring is the command's help; `no_args_is_help` for commands whose defaults
    alone are not a run anyone wants (STaR's needs a recipe)."""

    def decorate(run: Callable[[Any], None]) -> Callable[[Any], None]:
        exposed = cli_fields(cls)
        params = [inspect.Parameter("ctx_", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]
        params += [_parameter(f, kind) for f, kind in exposed]
        params.append(
            inspect.Parameter(
                "config_file_",
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    None, "--config", help="YAML file of this command's options (keys as below, with _)."
                ),
                annotation=Path | None,
            )
        )
        params.append(
            inspect.Parameter(
                "set_",
                inspect.Parameter.KEYWORD_ONLY,
                default=typer.Option(
                    [], "--set", help="key=value (YAML value), repeatable; dotted keys reach nested sections."
                ),
                annotation=list[str],
            )
        )

        def callback(**given: Any) -> None:
            ctx = given.pop("ctx_")
            config_file = given.pop("config_file_")
            sets = given.pop("set_")
            values = load_yaml(config_file) if config_file else {}
            if "steps" in values:  # a recipe: this command's step in it
                values = _recipe_step(values, config_file, ctx.command_path.split(" ", 1)[-1])
            apply_sets(values, sets)
            for key, value in given.items():
                # Only what the user typed (or set in the environment) overrides --config and --set.
                source = ctx.get_parameter_source(key)
                if source is not None and source.name not in _DEFAULT_SOURCES and value is not None:
                    values[key] = value
            where = str(config_file) if config_file else f"thinklab {name}"
            run(from_mapping(cls, values, where))

        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__doc__ = run.__doc__
        callback.__name__ = run.__name__
        callback.config_class = cls  # type: ignore[attr-defined]  # read by `thinklab recipe`
        callback.run = run  # type: ignore[attr-defined]
        group.command(name, hidden=hidden, help=inspect.getdoc(run), no_args_is_help=no_args_is_help)(
            callback
        )
        return run

    return decorate
