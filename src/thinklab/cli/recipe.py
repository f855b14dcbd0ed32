"""`thinklab recipe FILE`: run the steps of a recipe (`recipes/<model>/<method>.yaml`) in order.

A recipe is a YAML file with a `steps` list; each step names a thinklab command (`command: train sft`)
and gives that command's options as keys, exactly as its `--config` file would (`step:` optionally
names the step; `creates: PATH` skips it when PATH exists). Steps run in this process, through the
same config classes as the command line, so a recipe is checked whole before anything runs: a typo in
step 5 fails before step 1 starts. `--list` prints each step as the command line it is equivalent to.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from thinklab.cli.build import STEP_KEYS, config_command, flag_names, option_name
from thinklab.config import from_mapping, load_yaml, option
from thinklab.errors import ThinklabError


@dataclass
class RecipeConfig:
    """`thinklab recipe`: run a recipe's steps."""

    file: str = option(help="A recipe YAML, e.g. recipes/tiny/search.yaml.", argument=True)
    list: bool = option(False, "Print the steps as command lines and stop.")
    only: tuple[str, ...] = option((), "Run only these steps (names or 1-based numbers, comma-separated).")


@dataclass
class Step:
    number: int
    name: str
    command: str
    config: Any
    options: dict[str, Any]
    creates: str | None


def commands(app: typer.Typer, prefix: str = "") -> dict[str, Any]:
    """Every config-built command of the app by its path (`eval`, `train sft`): its Typer callback,
    which carries `config_class` and `run` (set by `config_command`)."""
    found: dict[str, Any] = {}
    for info in app.registered_commands:
        callback = info.callback
        if info.name and hasattr(callback, "config_class"):
            found[f"{prefix}{info.name}"] = callback
    for group in app.registered_groups:
        found.update(commands(group.typer_instance, f"{prefix}{group.name} "))
    return found


def load_recipe(path: str | Path, app: typer.Typer) -> tuple[str, list[Step]]:
    """The recipe's description and its steps, every step's options checked against its command."""
    values = load_yaml(path)
    steps = values.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ThinklabError(f"{path}: a recipe needs a non-empty `steps:` list")
    unknown = sorted(set(values) - {"description", "steps"})
    if unknown:
        raise ThinklabError(
            f"{path}: unknown key(s) {', '.join(unknown)}; a recipe has description and steps"
        )
    known = commands(app)
    out = []
    for i, raw in enumerate(steps, 1):
        if not isinstance(raw, dict) or "command" not in raw:
            raise ThinklabError(f"{path}: step {i} needs `command:` (one of: {', '.join(sorted(known))})")
        command = str(raw["command"])
        if command not in known:
            raise ThinklabError(
                f"{path}: step {i}: unknown command {command!r}; one of: {', '.join(sorted(known))}"
            )
        options = {k: v for k, v in raw.items() if k not in STEP_KEYS}
        name = str(raw.get("step") or command)
        cfg = from_mapping(known[command].config_class, dict(options), f"{path}: step {i} ({name})")
        out.append(Step(i, name, command, cfg, options, raw.get("creates")))
    return str(values.get("description") or ""), out


def command_line(step: Step) -> str:
    """The `thinklab ...` command line equivalent to a step (nested sections as `--set`)."""
    words = ["thinklab", *step.command.split()]
    fields = {f.name: f for f in dataclasses.fields(step.config)}
    for key, value in step.options.items():
        meta = fields[key].metadata
        if isinstance(value, dict):
            words += [w for k, v in _flatten(key, value) for w in ("--set", f"{k}={_yaml(v)}")]
        elif meta.get("argument"):
            words += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        elif isinstance(value, bool):
            on, _, off = flag_names(fields[key]).partition("/")
            words.append(on if value else off)
        elif value is None:
            words += ["--set", f"{key}=null"]
        else:
            text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            words += [option_name(key), text]
    return shlex.join(words)


def _flatten(prefix: str, value: dict) -> list[tuple[str, Any]]:
    out = []
    for k, v in value.items():
        out += _flatten(f"{prefix}.{k}", v) if isinstance(v, dict) else [(f"{prefix}.{k}", v)]
    return out


def _yaml(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def register(app: typer.Typer) -> None:
    @config_command(app, "recipe", RecipeConfig)
    def recipe_cmd(cfg: RecipeConfig) -> None:
        """Run a recipe (recipes/<model>/<method>.yaml): its steps in order, each a thinklab command."""
        description, steps = load_recipe(cfg.file, app)
        if cfg.only:
            wanted = set(cfg.only)
            unknown = wanted - {s.name for s in steps} - {str(s.number) for s in steps}
            if unknown:
                raise ThinklabError(
                    f"--only {','.join(sorted(unknown))}: no such step; steps: {', '.join(s.name for s in steps)}"
                )
            steps = [s for s in steps if s.name in wanted or str(s.number) in wanted]
        if description and not cfg.list:
            typer.echo(description.strip())
        runners = commands(app)
        for step in steps:
            line = command_line(step)
            if cfg.list:
                typer.echo(f"# {step.number}. {step.name}\n{line}")
                continue
            if step.creates and Path(step.creates).exists():
                typer.echo(f"[{step.number}/{len(steps)}] {step.name}: skipped, {step.creates} exists")
                continue
            typer.secho(f"[{step.number}/{len(steps)}] {step.name}: {line}", bold=True)
            runners[step.command].run(step.config)
