"""Thinking formats on the real tokenizers and chat templates of five model families (shared/models).

The prompt thinklab builds must be the official `apply_chat_template(..., add_generation_prompt=True)`
plus the mode's prefill, token by token, whatever part of the prefill the template writes itself."""

from __future__ import annotations

import functools
import json

import pytest
from family_models import FAMILY_DIRS, family_fixture_dir

from thinklab.prompting.modes import (
    FORMATS,
    build_prompt,
    format_for,
    load_format,
    resolve_template,
    training_prompt,
)

USER = "What is 1+1?"
R1_NO_THINK = "Okay, I think I have finished thinking.\n</think>\n\n"

# What follows the official generation prompt for each family and mode (the official prompt of Qwen3's
# no-think mode is rendered with enable_thinking=False, and already holds the whole empty block).
EXPECTED_TAIL = {
    ("r1", "standard"): "",  # the current template already ends `<think>\n`
    ("r1", "no-think"): R1_NO_THINK,
    ("r1", "ellipsis"): "...\n",
    ("r1-old", "standard"): "<think>\n",
    ("r1-old", "no-think"): "<think>\n" + R1_NO_THINK,
    ("r1-old", "ellipsis"): "<think>\n...\n",
    ("qwen3", "standard"): "<think>\n",
    ("qwen3", "no-think"): "",
    ("qwen3", "ellipsis"): "<think>\n...\n",
    ("qwen3-thinking", "standard"): "",  # QwQ / Thinking-2507 templates end `<think>\n`
    ("qwen3-thinking", "no-think"): "\n</think>\n\n",
    ("qwen3-thinking", "ellipsis"): "...\n",
    ("s1", "standard"): "<|im_start|>think\n",
    ("s1", "no-think"): "<|im_start|>think\n<|im_start|>answer\n",
    ("s1", "ellipsis"): "<|im_start|>think\n...\n",
}
RECOGNISED = {"r1": "r1", "r1-old": "r1", "qwen3": "qwen3", "qwen3-thinking": "qwen3-thinking", "s1": "s1"}


@functools.cache
def _tokenizer(family: str):
    """Loaded once per family for the module (~1-3 s each on 2 cores); the tests only read it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(family_fixture_dir(family))


@pytest.mark.parametrize("family", sorted(FAMILY_DIRS))
def test_family_recognised_from_tokenizer_and_name(family):
    path = family_fixture_dir(family)
    assert format_for(path, _tokenizer(family)).name == RECOGNISED[family]


@pytest.mark.parametrize(("family", "mode"), sorted(EXPECTED_TAIL))
def test_prompt_is_the_official_template_plus_the_prefill_token_by_token(family, mode):
    tok = _tokenizer(family)
    fmt = format_for(family_fixture_dir(family), tok)
    messages = [{"role": "user", "content": USER}]
    official_kwargs = {"enable_thinking": False} if (family, mode) == ("qwen3", "no-think") else {}
    official = tok.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **official_kwargs
    )
    prompt = build_prompt(tok, USER, mode, fmt=fmt)
    assert prompt == official + EXPECTED_TAIL[(family, mode)]
    # Token by token, as an engine encodes the text (the template's own BOS is not doubled): where the
    # template writes the whole prompt, the ids are exactly the official tokenized template.
    official_ids = tok.apply_chat_template(messages, add_generation_prompt=True, **official_kwargs)[
        "input_ids"
    ]
    ids = tok(prompt)["input_ids"]
    assert ids[: len(official_ids) - 1] == official_ids[:-1]
    if not EXPECTED_TAIL[(family, mode)]:
        assert ids == official_ids
    if tok.bos_token:
        assert ids.count(tok.bos_token_id) == 1
    # one opening marker, never two (the R1 and QwQ templates write `<think>\n` themselves)
    assert prompt.count(fmt.open) == 1


def test_qwen3_no_think_uses_the_native_switch_not_r1_strings():
    tok = _tokenizer("qwen3")
    fmt = format_for(family_fixture_dir("qwen3"), tok)
    prompt = build_prompt(tok, USER, "no-think", fmt=fmt)
    assert "finished thinking" not in prompt and prompt.endswith(
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )


def test_s1_format_has_its_own_markers_and_forced_close():
    s1 = FORMATS["s1"]
    assert (s1.open, s1.close) == ("<|im_start|>think", "<|im_start|>answer")
    assert s1.forced_close.startswith("\n<|im_start|>answer")
    tok = _tokenizer("s1")
    assert tok.convert_tokens_to_ids("<think>") is None  # not even a token in Qwen2.5's vocabulary
    assert "<think>" not in build_prompt(tok, USER, "standard", fmt=s1)


def test_user_names_or_supplies_a_format(tmp_path):
    assert format_for(None, None, "qwen3").name == "qwen3"
    spec = tmp_path / "mine.yaml"
    spec.write_text('open: "<reason>"\nclose: "</reason>"\nstandard: "<reason>\\n"\n')
    mine = load_format(str(spec))
    assert (mine.name, mine.open, mine.close, mine.standard) == (
        "mine",
        "<reason>",
        "</reason>",
        "<reason>\n",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("opn: x\n")
    with pytest.raises(Exception, match="takes the keys"):
        load_format(str(bad))
    with pytest.raises(Exception, match="unknown thinking format"):
        load_format("nope")


def test_thinklab_json_names_the_family(tmp_path):
    (tmp_path / "thinklab.json").write_text(json.dumps({"thinking_format": "s1"}))
    assert format_for(tmp_path).name == "s1"


@pytest.mark.parametrize("family", ["r1", "r1-old", "qwen3", "qwen3-thinking", "s1"])
def test_training_prompt_equals_eval_prompt_token_by_token(family):
    """SFT / DPO train on exactly eval's standard prompt, whether the data's responses open their
    thinking themselves or start inside it (R1 outputs made with a `<think>\\n`-prefilling template)."""
    from thinklab.thinkpo.dpo import build_rows as dpo_rows  # noqa: F401 - imported for the DPO check below
    from thinklab.train.sft import build_rows as sft_rows  # noqa: F401

    tok = _tokenizer(family)
    fmt = format_for(family_fixture_dir(family), tok)
    eval_prompt = build_prompt(tok, USER, "standard", fmt=fmt)
    thought = "Okay, so I add 1 and 1."
    inside = f"{thought}\n{fmt.close}\n\n\\boxed{{2}}"  # starts inside the thinking (R1's own outputs)
    opened = fmt.standard + inside  # thinklab's traces open the block
    for response in (inside, opened):
        prompt, (completion,) = training_prompt(tok, USER, None, [response], fmt)
        assert tok(prompt)["input_ids"] == tok(eval_prompt)["input_ids"]
        assert prompt + completion == eval_prompt + inside
    prompt, (chosen, rejected) = training_prompt(tok, USER, None, [opened, inside], fmt)
    assert prompt == eval_prompt and chosen == rejected == inside


def test_sft_and_dpo_rows_use_the_eval_prompt(tmp_path):
    """The row builders of `train sft` and `train dpo` on an R1 trace that starts inside its thinking."""
    from thinklab.thinkpo.dpo import build_rows as dpo_rows
    from thinklab.train.sft import build_rows as sft_rows

    tok = _tokenizer("r1")
    fmt = format_for(family_fixture_dir("r1"), tok)
    response = "Okay, so I add them.\n</think>\n\n\\boxed{2}"
    sft = tmp_path / "sft.jsonl"
    sft.write_text(json.dumps({"problem": USER, "response": response}) + "\n")
    dpo = tmp_path / "dpo.jsonl"
    dpo.write_text(
        json.dumps({"prompt": USER, "chosen": response, "rejected": "</think>\n\n\\boxed{3}"}) + "\n"
    )
    eval_prompt = build_prompt(tok, USER, "standard", fmt=fmt)
    (row,) = sft_rows(str(sft), tok, fmt)
    assert row["prompt"] == eval_prompt and row["prompt"].endswith("<｜Assistant｜><think>\n")
    (pair,) = dpo_rows(str(dpo), tok, fmt)
    assert pair["prompt"] == eval_prompt and pair["chosen"] == response


def test_thinking_tokens_are_counted_from_generated_ids():
    """Qwen3 writes runs of newline tokens that re-tokenise into far fewer tokens."""
    from thinklab.backends.base import Completion, thinking_token_count
    from thinklab.backends.forcing import _thinking_tokens

    tok = _tokenizer("qwen3")
    newline = tok("\n", add_special_tokens=False)["input_ids"]
    assert len(newline) == 1
    ids = (
        newline * 64
        + [tok.convert_tokens_to_ids("</think>")]
        + tok("\\boxed{2}", add_special_tokens=False)["input_ids"]
    )

    def decode(x):
        return tok.decode(x, skip_special_tokens=False)

    text = decode(ids)
    assert len(tok(text[: text.index("</think>") + 8], add_special_tokens=False)["input_ids"]) < 10
    assert thinking_token_count(ids, decode, "</think>") == 65

    class Engine:  # only what `_thinking_tokens` reads: the real tokenizer
        tokenizer = tok

        def count_tokens(self, t):
            return len(tok(t, add_special_tokens=False)["input_ids"])

    c = Completion(text=text, tokens=len(ids), finish_reason="stop", token_ids=ids)
    assert _thinking_tokens(Engine(), FORMATS["qwen3"], c, prompt_closed=False) == 65
    # a prompt that closed the thinking itself (no-think): none of a completion without `<think>` is thinking
    assert "<think>" not in text
    assert _thinking_tokens(Engine(), FORMATS["qwen3"], c, prompt_closed=True) == 0


def test_prompt_templates_by_name():
    assert resolve_template("sky") == "{problem}\nReturn your final response within \\boxed{}."
    assert resolve_template("autothink").endswith("output the final answer within \\boxed{}.")
    assert resolve_template("vgs").endswith("put your final answer within \\boxed{}.")
    assert resolve_template(None, "T {problem}") == "T {problem}"
    with pytest.raises(Exception, match="neither a name"):
        resolve_template("Solve it.")


def test_a_users_format_is_kept_whole_in_thinklab_json(tmp_path):
    """A fine-tune of a model with a custom format reads back with the same markers, not R1's."""
    spec = tmp_path / "mine.yaml"
    spec.write_text('open: "<reason>"\nclose: "</reason>"\n')
    mine = load_format(str(spec))
    assert FORMATS["qwen3"].record() == "qwen3" and mine.record()["close"] == "</reason>"
    (tmp_path / "thinklab.json").write_text(json.dumps({"thinking_format": mine.record()}))
    assert format_for(tmp_path) == mine


def test_r1_marked_rows_are_written_in_the_familys_markers():
    tok = _tokenizer("s1")
    s1 = FORMATS["s1"]
    prompt, (completion,) = training_prompt(tok, USER, None, ["Okay, so 2.\n</think>\n\n\\boxed{2}"], s1)
    assert prompt == build_prompt(tok, USER, "standard", fmt=s1)
    assert completion == "Okay, so 2.\n<|im_start|>answer\n\n\\boxed{2}" and "think>" not in completion
