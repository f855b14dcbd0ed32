"""`thinklab grade GOLD PRED`."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from thinklab.cli.grade import register


def make_app() -> typer.Typer:
    # A fresh app with only this command: the test does not depend on the other command groups.
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """thinklab (test app)."""

    register(app)
    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_app(), ["grade", *args])
    return result.exit_code, result.output


def test_equal_and_not_equal_both_exit_zero() -> None:
    assert run(r"\frac12", "0.5") == (0, "equal\n")
    assert run(r"\frac12", "0.6") == (0, "not equal\n")


def test_extract_prints_the_extracted_answer() -> None:
    code, out = run("--extract", "42", "<think>maybe 41</think>\nSo the answer is \\boxed{42}.")
    assert code == 0 and out.splitlines() == ["equal", "extracted: 42"]
    code, out = run("--extract", "5", "<think>still thinking about 5")
    assert code == 0 and out.splitlines()[0] == "not equal" and "never closed" in out
    code, out = run("--extract", "5", "no answer here")
    assert out.splitlines() == ["not equal", "extracted: (none)"]


def test_last_number() -> None:
    code, out = run("--last-number", "1234", "she pays 1,234 dollars")
    assert code == 0 and out.splitlines() == ["equal", "extracted: 1234"]


def test_refused_input_says_why() -> None:
    assert run("5", r"10^{10^{10}}") == (0, "not equal (refused)\n")


def test_help() -> None:
    code, out = run("--help")
    assert code == 0
    for option in ("--extract", "--no-extract", "--last-number", "--timeout"):
        assert option in out


def test_extraction_policy_option() -> None:
    response = "</think>\nSo she has 12 marbles left."
    code, out = run("--extract", "12", response)
    assert out.splitlines() == ["not equal", "extracted: (none)"]
    code, out = run("--extract", "--extraction", "harness", "12", response)
    assert code == 0 and out.splitlines() == ["equal", "extracted: 12"]
