"""Issue 25: bad or odd input to `thinklab eval` gives one line and a non-zero exit, and loses nothing.

The CLI runs in-process through `thinklab.cli.main.main` (the real error handler), not a subprocess:
a subprocess start costs ~10 s here."""

from __future__ import annotations

import sys

import pytest

from thinklab.cli.main import main


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run `thinklab ARGS` in-process; returns (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["thinklab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0), capsys.readouterr().err


def one_error_line(code: int, err: str, needle: str) -> str:
    assert code != 0, err
    assert "Traceback" not in err
    lines = [x for x in err.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], err
    return lines[0]


@pytest.mark.parametrize("spec", ["64,,128", "64,128,", ",64"])
def test_budgets_with_an_empty_item_are_refused(monkeypatch, capsys, tmp_path, spec):
    code, err = cli(monkeypatch, capsys, "eval", "--budgets", spec, "--out", str(tmp_path))
    one_error_line(code, err, "empty item")
    assert not any(tmp_path.iterdir())
