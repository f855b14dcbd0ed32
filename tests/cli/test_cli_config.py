"""Every command's options come from one config class: layering of defaults / --config / --set / flags,
one-line errors, every command taking --config and --set, one name per concept, docs/cli.md current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from thinklab.cli.build import config_command
from thinklab.config import from_mapping, option
from thinklab.errors import ThinklabError

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Inner:
    epochs: float = option(1.0, "Epochs.")


@dataclass
class Toy:
    """A toy command."""

    path: str = option(help="Required input.")
    budgets: tuple[int, ...] = option((1, 2), "Budgets.")
    lr: float = option(1e-3, "Learning rate.")
    name: str | None = option(None, "A name.")
    flag: bool = option(False, "A flag.")
    inner: Inner = option(factory=Inner, help="A section.")


def _toy_app(seen: list) -> typer.Typer:
    app = typer.Typer()

    @config_command(app, "toy", Toy)
    def toy(cfg: Toy) -> None:
        """Run the toy."""
        seen.append(cfg)

    @app.callback()
    def main() -> None:  # a group, so `toy` is a subcommand as in thinklab
        pass

    return app


def test_layers_defaults_config_set_then_typed_options(tmp_path):
    seen: list[Toy] = []
    conf = tmp_path / "c.yaml"
    conf.write_text("path: a.jsonl\nlr: 2e-4\nbudgets: [8, 16]\nname: from-file\ninner: {epochs: 3}\n")
    r = CliRunner().invoke(
        _toy_app(seen),
        [
            "toy",
            "--config",
            str(conf),
            "--set",
            "name=from-set",
            "--set",
            "inner.epochs=4",
            "--budgets",
            "5,6",
        ],
    )
    assert r.exit_code == 0, r.output
    cfg = seen[0]
    # YAML 1.1 reads 2e-4 as a string: still a float; --set beats the file; a typed option beats both;
    # options not typed (lr's default) never override the file
    assert (cfg.path, cfg.lr, cfg.name, cfg.budgets, cfg.inner.epochs) == (
        "a.jsonl",
        2e-4,
        "from-set",
        (5, 6),
        4.0,
    )
    assert cfg.flag is False


def test_typed_option_equal_to_the_default_still_overrides_the_file(tmp_path):
    seen: list[Toy] = []
    conf = tmp_path / "c.yaml"
    conf.write_text("path: a\nbudgets: 3,4\n")
    r = CliRunner().invoke(_toy_app(seen), ["toy", "--config", str(conf), "--budgets", "1,2"])
    assert r.exit_code == 0, r.output
    assert seen[0].budgets == (1, 2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"path": "a", "lrr": 1}, "unknown option lrr (did you mean lr?)"),
        ({"path": "a", "lr": "fast"}, "lr: expected a float, got 'fast'"),
        ({"path": "a", "budgets": "1,,2"}, "budgets: malformed list '1,,2': empty item"),
        ({"path": "a", "inner": {"epoch": 2}}, "unknown option inner.epoch (did you mean inner.epochs?)"),
        ({"path": "a", "flag": "maybe"}, "flag: expected a bool, got 'maybe'"),
        ({"lr": 1}, "missing required option(s) --path"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_key(values, message):
    with pytest.raises(ThinklabError) as err:
        from_mapping(Toy, values, "c.yaml")
    assert str(err.value).startswith("c.yaml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def _leaves(command, path=()):
    if hasattr(command, "commands"):  # a group (Typer vendors its own click: no isinstance check)
        for name, sub in command.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield " ".join(path), command


def _all_commands():
    from thinklab.cli.main import app

    return list(_leaves(typer.main.get_command(app)))


def test_every_command_takes_config_and_set():
    leaves = _all_commands()
    assert len(leaves) >= 25  # every group registered (a failed import would drop commands silently)
    missing = [
        path for path, cmd in leaves if not {"--config", "--set"} <= {o for p in cmd.params for o in p.opts}
    ]
    assert missing == []


# Names the vocabulary replaced (docs/cli.md, "One name per concept"): none may come back.
RETIRED = {
    "--out-dir": "--out",
    "--system": "--system-prompt",
    "--max-completion-length": "--max-tokens",
    "--temperature": "--sampling",
    "--user-template": "--prompt-template",
    "--fmt": "--trace-format",
    "--format": "--out-format",
    "--strategy": "--strategies",
}


def test_one_name_per_concept():
    types: dict[str, set[str]] = {}
    for path, cmd in _all_commands():
        for param in cmd.params:
            for opt in param.opts:
                assert opt not in RETIRED, f"thinklab {path} has {opt}; the vocabulary says {RETIRED[opt]}"
                types.setdefault(opt, set()).add(getattr(param, "type", None).__class__.__name__)
    # one option name means one kind of value everywhere (a --limit that is an int here and text there is
    # two concepts under one name)
    mixed = {opt: kinds for opt, kinds in types.items() if len(kinds) > 1}
    assert mixed == {}


def test_docs_cli_md_is_generated_from_the_config_classes():
    from thinklab.cli.reference import render

    assert (ROOT / "docs" / "cli.md").read_text() == render(), (
        "docs/cli.md is stale: python -m thinklab.cli.reference > docs/cli.md"
    )


def test_config_may_be_a_recipe_holding_one_step_of_this_command(tmp_path):
    seen: list[Toy] = []
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "steps:\n  - command: toy\n    path: p.jsonl\n    lr: 0.5\n  - command: other\n    x: 1\n"
    )
    r = CliRunner().invoke(_toy_app(seen), ["toy", "--config", str(recipe)])
    assert r.exit_code == 0, r.output
    assert (seen[0].path, seen[0].lr) == ("p.jsonl", 0.5)
    recipe.write_text("steps:\n  - {command: toy, step: a, path: p}\n  - {command: toy, step: b, path: q}\n")
    r = CliRunner().invoke(_toy_app(seen), ["toy", "--config", str(recipe)])
    assert isinstance(r.exception, ThinklabError)
    assert "2 `toy` steps (a, b)" in str(r.exception) and len(seen) == 1
