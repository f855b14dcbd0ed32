"""`thinklab tasks list|show` through Typer's test runner on a fresh app (the real command group)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from thinklab.cli.tasks import register
from thinklab.tasks.registry import TaskError


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


def test_list_counts_problems_where_the_data_is(app: typer.Typer, benchmarks_dir: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "list", "--data-dir", str(benchmarks_dir)])
    assert result.exit_code == 0, result.output
    counts = {words[0]: words[1] for words in map(str.split, result.output.splitlines()) if len(words) > 1}
    assert counts["math500"] == "500" and counts["gsm8k"] == "1319" and counts["amc23"] == "40"


def test_list_without_data_shows_dashes(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ["aime24", "-"] in [line.split()[:2] for line in result.output.splitlines()]


def test_show_prints_rendered_prompts(app: typer.Typer, benchmarks_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["tasks", "show", "aime24", "--data-dir", str(benchmarks_dir), "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "aime2024-I-1" in result.output and "aime2024-I-2" in result.output
    assert "aime2024-I-3" not in result.output
    assert "Return your final response within \\boxed{}. Every morning Aya" in result.output


def test_show_missing_data_raises_the_task_error(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["tasks", "show", "math500", "--data-dir", str(tmp_path)])
    assert isinstance(result.exception, TaskError)  # main() prints it as one line, exit code 2


@pytest.mark.parametrize(
    "args", [["tasks", "--help"], ["tasks", "list", "--help"], ["tasks", "show", "--help"]]
)
def test_help(app: typer.Typer, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "Usage" in result.output
