"""`train value --data A,B,...`: several rollout files read in order as one (what `cat A B > all` gave)."""

import pytest

from thinklab.config import from_mapping
from thinklab.data.jsonl import write_jsonl
from thinklab.errors import ThinklabError
from thinklab.search import train_value
from thinklab.search.value_config import ValueTrainConfig


def _rows(tag, n):
    return [
        {
            "id": f"{tag}{i}",
            "prompt": "p",
            "roll_in": f"{tag}{i}",
            "cut": 0.5,
            "roll_outs": ["x"],
            "labels": [1],
        }
        for i in range(n)
    ]


def test_several_files_are_read_in_order(tmp_path, monkeypatch):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, _rows("a", 2))
    write_jsonl(b, _rows("b", 3))
    cfg = from_mapping(ValueTrainConfig, {"data": f"{a},{b}", "out": str(tmp_path / "v")}, "test")
    assert cfg.data == (str(a), str(b))
    assert from_mapping(ValueTrainConfig, {"data": [str(a)]}, "test").data == (str(a),)  # a recipe's list
    assert ValueTrainConfig(data=str(a)).data == (str(a),)  # one path in Python
    seen = []

    def no_examples(rows, *args, **kwargs):
        seen.extend(r["roll_in"] for r in rows)
        return []

    monkeypatch.setattr(train_value, "build_examples", no_examples)
    with pytest.raises(ThinklabError, match="no usable roll-outs"):
        train_value.run_train_value(cfg)
    assert seen == ["a0", "a1", "b0", "b1", "b2"]
