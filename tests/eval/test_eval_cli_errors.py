"""Bad input: a one-line error naming the problem, non-zero exit, no traceback, nothing lost.

The CLI runs in-process (tests/cli_runner.py, the entry point's own error handling); one test starts the
real `python -m thinklab` process, whose stderr must be that one line and nothing else."""

import subprocess
import sys

from cli_runner import run_cli


def thinklab(*args, cwd=None):
    return run_cli(*args, cwd=cwd)


def assert_one_line_error(res, needle):
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_unknown_task():
    assert_one_line_error(thinklab("eval", "--task", "nope"), "unknown task 'nope'")


def test_the_real_entry_point_prints_one_line_and_no_traceback():
    # `python -m thinklab` itself, once: no import-time warning or traceback around the error line
    res = subprocess.run(
        [sys.executable, "-m", "thinklab", "eval", "--task", "nope"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and res.stderr.startswith("error: ")
    assert "unknown task 'nope'" in res.stderr and res.stdout == ""


def test_unknown_model(tmp_path):
    assert_one_line_error(
        thinklab("eval", "--model", str(tmp_path / "missing-model"), "--limit", "2", "--out", str(tmp_path)),
        "cannot load model",
    )


def test_malformed_sampling(tmp_path):
    assert_one_line_error(
        thinklab("eval", "--sampling", "temperature=hot", "--out", str(tmp_path)), "malformed --sampling"
    )
    assert_one_line_error(
        thinklab("eval", "--sampling", "tmp0.6", "--out", str(tmp_path)), "malformed --sampling"
    )


def test_malformed_budgets(tmp_path):
    assert_one_line_error(
        thinklab("eval", "--budgets", "64,lots", "--out", str(tmp_path)),
        "budgets: expected an int, got 'lots'",
    )


def test_unreachable_server(tmp_path):
    res = thinklab(
        "eval",
        "--backend",
        "openai",
        "--backend-args",
        "base_url=http://127.0.0.1:9/v1,max_retries=1,backoff=0.01",
        "--limit",
        "2",
        "--budgets",
        "16",
        "--out",
        str(tmp_path),
    )
    assert_one_line_error(res, "cannot reach the server at http://127.0.0.1:9/v1")


def test_broken_jsonl_line_and_nothing_lost(tmp_path):
    data = tmp_path / "probs.jsonl"
    good = '{"id": "a", "problem": "Compute 1 + 2 from left to right.", "answer": "3"}\n'
    data.write_text(good)
    ok = thinklab("eval", "--task", f"jsonl:{data}", "--budgets", "32", "--out", str(tmp_path / "runs"))
    assert ok.returncode == 0, ok.stderr
    (samples,) = (tmp_path / "runs").glob("*/samples.jsonl")
    before = samples.read_text()
    data.write_text(good + '{"id": "b", "problem": \n{"id": "c", "problem": "x", "answer": "1"}\n')
    res = thinklab("eval", "--task", f"jsonl:{data}", "--budgets", "32", "--out", str(tmp_path / "runs"))
    assert_one_line_error(res, ":2")
    assert samples.read_text() == before


def test_list_options_are_checked_before_any_work(tmp_path):
    # an out-of-range level is one line, before any training starts; an empty item is an error, not skipped
    assert_one_line_error(
        thinklab("tiny", "train", "--levels", "1,9", "--out", str(tmp_path / "m")), "levels are 1..8, got [9]"
    )
    assert_one_line_error(
        thinklab("eval", "--budgets", "64,,128"), "budgets: malformed list '64,,128': empty item"
    )
    assert not (tmp_path / "m").exists()


def test_unknown_trace_style_is_one_line_and_writes_nothing(tmp_path):
    res = thinklab("tiny", "train", "--style", "bogus", "--out", str(tmp_path / "m"))
    assert_one_line_error(res, "unknown trace style 'bogus'")
    assert not (tmp_path / "m").exists()


def test_unknown_option_is_a_usage_error_not_a_traceback():
    # Typer vendors its own click; its usage errors must be caught like click's (a traceback before)
    res = thinklab("eval", "--no-such-option", "1")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "No such option: --no-such-option" in res.stderr
