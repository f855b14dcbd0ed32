"""Every recipe (`recipes/**/*.yaml`) is valid as written: it loads (so every step's options are valid for
its command), every step renders as a command line, and the tiny recipes write under runs/ only. Fast: no
model is loaded. The runner itself runs a small temporary recipe in-process (`--only`, `creates:`)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from cli_runner import run_cli

from thinklab.cli.main import app
from thinklab.cli.recipe import command_line, load_recipe
from thinklab.errors import ThinklabError

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "recipes").rglob("*.yaml"))
TINY = [p for p in RECIPES if p.parent.name == "tiny"]
# Fields through which a command writes files (a recipe step's outputs).
OUTPUT_FIELDS = ("out", "cache", "json_out", "samples_dir")


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "recipes"))


def test_there_are_recipes_for_every_method():
    names = {_id(p) for p in RECIPES}
    methods = ("eval", "autothink", "compress", "search", "star", "thinkpo")
    for folder in ("tiny", "r1-distill-qwen-1.5b", "r1-distill-qwen-7b"):
        assert {f"{folder}/{m}.yaml" for m in methods} <= names, folder
    assert "tiny/model.yaml" in names and "qwen2.5-1.5b-instruct/star.yaml" in names


@pytest.mark.parametrize("path", RECIPES, ids=_id)
def test_recipe_loads_and_renders(path):
    description, steps = load_recipe(path, app)
    assert description.strip(), "a recipe says what it reproduces, how long it takes and what it writes"
    assert len({s.name for s in steps}) == len(steps), "step names are unique (--only picks by name)"
    for step in steps:
        line = command_line(step)
        assert shlex.split(line)[: 1 + len(step.command.split())] == ["thinklab", *step.command.split()]


def _outputs(step) -> list[str]:
    found = [str(getattr(step.config, f)) for f in OUTPUT_FIELDS if getattr(step.config, f, None)]
    return found + ([step.creates] if step.creates else [])


@pytest.mark.parametrize("path", TINY, ids=_id)
def test_tiny_recipes_write_under_runs(path):
    _, steps = load_recipe(path, app)
    for step in steps:
        for out in _outputs(step):
            assert Path(out).parts[0] == "runs" and ".." not in Path(out).parts, f"{step.name}: {out}"


def test_a_misspelled_key_fails_the_recipe(tmp_path):
    """The check above can fail: a recipe with one misspelled option is refused, naming step and key."""
    values = yaml.safe_load((ROOT / "recipes/tiny/eval.yaml").read_text())
    values["steps"][1]["budgetz"] = values["steps"][1].pop("budgets")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(values))
    with pytest.raises(ThinklabError, match=r"step 2 \(no-think\).*budgetz"):
        load_recipe(bad, app)
    values["steps"][1]["budgets"] = values["steps"][1].pop("budgetz")
    values["steps"][0]["out"] = "elsewhere"
    bad.write_text(yaml.safe_dump(values))
    _, steps = load_recipe(bad, app)
    assert _outputs(steps[0]) == ["elsewhere"]  # what test_tiny_recipes_write_under_runs refuses


def test_only_runs_one_step_in_process(tmp_path, monkeypatch):
    """`thinklab recipe FILE --only NAME` runs that step (here `tiny data`, no model) and nothing else;
    `creates:` skips a step whose output exists."""
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "description": "two small steps",
                "steps": [
                    {"step": "data", "command": "tiny data", "out": "runs/a.jsonl", "n": 3,
                     "creates": "runs/a.jsonl"},
                    {"step": "more", "command": "tiny data", "out": "runs/b.jsonl", "n": 2},
                ],
            },
            sort_keys=False,
        )
    )  # fmt: skip
    r = run_cli("recipe", str(recipe), "--only", "data")
    assert r.returncode == 0, r.stderr
    assert "[1/1] data: thinklab tiny data --out runs/a.jsonl --n 3" in r.stdout
    assert len((tmp_path / "runs/a.jsonl").read_text().splitlines()) == 3
    assert not (tmp_path / "runs/b.jsonl").exists()
    r = run_cli("recipe", str(recipe))
    assert r.returncode == 0, r.stderr
    assert "data: skipped, runs/a.jsonl exists" in r.stdout
    assert len((tmp_path / "runs/b.jsonl").read_text().splitlines()) == 2
    r = run_cli("recipe", str(recipe), "--only", "nope")
    assert r.returncode == 2 and "no such step" in r.stderr


def test_only_the_first_step_of_the_tiny_eval_recipe_lists(tmp_path):
    """`--list --only` prints just the chosen step of a real recipe (running it would load the model)."""
    r = run_cli("recipe", str(ROOT / "recipes/tiny/eval.yaml"), "--list", "--only", "accuracy")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [
        "# 1. accuracy",
        "thinklab eval --model tiny --task arith --budgets 80,160,320 --out runs",
    ]
