"""`thinklab report compress --runs`: an eval `--out` folder holding one run dir stands for it (recipes)."""

import json

import pytest

from thinklab.compress.report import _eval_summary
from thinklab.errors import ThinklabError


def test_an_out_folder_with_one_run_dir_is_read(tmp_path):
    run = tmp_path / "eval" / "full" / "tiny_arith_0123456789"
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"task": "arith"}))
    assert _eval_summary(run)["task"] == "arith"
    assert _eval_summary(tmp_path / "eval" / "full")["task"] == "arith"
    (tmp_path / "eval" / "full" / "another").mkdir()
    (tmp_path / "eval" / "full" / "another" / "summary.json").write_text("{}")
    with pytest.raises(ThinklabError, match="no summary.json"):  # two runs: which one is ambiguous
        _eval_summary(tmp_path / "eval" / "full")
