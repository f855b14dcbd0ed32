"""`thinklab tiny data`: arith train-split examples in a trace style, as SFT rows or compress input."""

import random

from cli_runner import run_cli

from thinklab.compress.data import write_arith_traces
from thinklab.data.jsonl import read_jsonl
from thinklab.data.writers import Example, read_examples, to_messages
from thinklab.tasks import arith


def test_messages_rows_are_the_concise_sft_data_of_the_thinkpo_recipe(tmp_path):
    out = tmp_path / "concise.jsonl"
    r = run_cli(
        "tiny", "data", "--out", str(out), "--n", "40", "--style", "concise", "--seed", "11", "--no-distinct"
    )
    assert r.returncode == 0, r.stderr
    assert "wrote 40 concise examples (messages)" in r.stdout
    # what scripts/experiments/thinkpo.sh wrote with inline Python before the recipe
    problems = arith.generate(40, "train", 11, distinct=False)
    rng = random.Random(0)
    expected = [
        to_messages(Example(p.text(), "<think>\n" + arith.render_completion(p, "concise", rng)))
        for p in problems
    ]
    assert read_jsonl(out) == expected
    assert len(read_examples(out)) == 40  # `train sft --data` reads it


def test_traces_rows_are_the_compress_input(tmp_path):
    out = tmp_path / "traces.jsonl"
    r = run_cli("tiny", "data", "--out", str(out), "--n", "24", "--out-format", "traces")
    assert r.returncode == 0, r.stderr
    write_arith_traces(tmp_path / "ref.jsonl", 24, seed=0)
    rows = read_jsonl(out)
    assert rows == read_jsonl(tmp_path / "ref.jsonl")
    assert rows[0]["id"] == "arith-train-0-000000" and rows[0]["response"].startswith("<think>\nOkay")
    train = {p.text() for p in arith.generate(24, "train", 0)}
    assert {row["problem"] for row in rows} == train  # the train split, never the test split


def test_bad_options_are_one_line_errors(tmp_path):
    r = run_cli("tiny", "data", "--out", str(tmp_path / "x.jsonl"), "--style", "terse")
    assert r.returncode == 2 and "style must be one of" in r.stderr
    r = run_cli("tiny", "data", "--out", str(tmp_path / "x.jsonl"), "--out-format", "csv")
    assert r.returncode == 2 and "out_format must be one of" in r.stderr
    assert not (tmp_path / "x.jsonl").exists()
