"""The shipped tiny model: a standard HF checkpoint that really solves its task; and a smoke-sized
training run of the same recipe."""

import json

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from thinklab.backends import SamplingParams, load_backend
from thinklab.grading import extract_answer, is_equivalent
from thinklab.models import TINY_CHECKPOINT_DIR, resolve_model_path
from thinklab.prompting.modes import prompt_for
from thinklab.tasks import arith


def test_shipped_checkpoint_is_a_standard_small_hf_model():
    path = resolve_model_path("tiny")
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert type(tok).__name__ == "TokenizersBackend"  # the trained pre-tokenizer is kept
    assert (TINY_CHECKPOINT_DIR / "model.safetensors").is_file()
    size = sum(f.stat().st_size for f in TINY_CHECKPOINT_DIR.iterdir())
    assert size < 30 * 2**20
    meta = json.loads((TINY_CHECKPOINT_DIR / "thinklab.json").read_text())
    assert meta["prompt_modes"] == "tiny" and meta["parameters"] == sum(p.numel() for p in model.parameters())
    assert tok.chat_template and tok.convert_tokens_to_ids("</think>") != tok.unk_token_id


@pytest.mark.slow  # hundreds of problems generated in full
def test_shipped_model_solves_held_out_problems_by_thinking():
    backend = load_backend("hf", "tiny")
    problems = arith.generate(arith.DEFAULT_TEST_SIZE, "test", arith.DEFAULT_TEST_SEED)[
        ::5
    ]  # 160, all levels
    out = backend.generate([prompt_for(backend, p.text()) for p in problems], SamplingParams(max_tokens=400))
    correct = [
        is_equivalent(str(p.answer), extract_answer("<think>\n" + o[0].text) or "")
        for p, o in zip(problems, out, strict=True)
    ]
    assert sum(correct) / len(correct) >= 0.85
    easy = [c for p, c in zip(problems, correct, strict=True) if p.level <= 2]
    assert sum(easy) / len(easy) >= 0.95
    # it thinks step by step in the verbose style it was trained on
    assert all(o[0].text.startswith("Okay, let me restate") for o in out)


@pytest.mark.slow
def test_smoke_training_run_produces_a_loadable_model(tmp_path):
    from thinklab.tiny.train import TinyTrainConfig, train_tiny

    cfg = TinyTrainConfig(
        out=str(tmp_path / "m"),
        steps=40,
        batch_size=8,
        examples=320,
        warmup_steps=4,
        logging_steps=10,
        learning_rate=3e-3,
        direct_fraction=0.2,
        save_steps=20,
        model_overrides={
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
        },
    )
    path = train_tiny(cfg)
    meta = json.loads((path / "thinklab.json").read_text())
    losses = meta["train"]["losses"]
    assert losses[-1] < losses[0] * 0.7  # (direct-answer rows are short and hard: a noisier loss)
    backend = load_backend("hf", str(path))
    out = backend.generate(
        [prompt_for(backend, "Compute 3 + 4 from left to right.")], SamplingParams(max_tokens=20)
    )
    assert out[0][0].tokens > 0
    # the intermediate checkpoint is kept, with the marker, so it loads with the tiny prompt modes
    step20 = path / "checkpoints" / "step-20"
    assert json.loads((step20 / "thinklab.json").read_text())["checkpoint_step"] == 20
    assert load_backend("hf", str(step20)).thinking.no_think == "<think>\n</think>\n\n"
    assert not (path / "trainer").exists()


@pytest.mark.slow  # hundreds of problems generated in full
def test_thinking_matters_on_the_harder_half():
    """No-think accuracy on levels 5-8 is at most half the thinking accuracy, and a cut at about half the
    mean response length loses most of the accuracy."""
    backend = load_backend("hf", "tiny")
    problems = [
        p for p in arith.generate(arith.DEFAULT_TEST_SIZE, "test", arith.DEFAULT_TEST_SEED) if p.level >= 5
    ][:96]

    def accuracy(mode: str, max_tokens: int) -> float:
        prompts = [prompt_for(backend, p.text(), mode) for p in problems]
        out = backend.generate(prompts, SamplingParams(max_tokens=max_tokens))
        prefill = backend.thinking.prefix(mode)
        hits = [
            is_equivalent(str(p.answer), extract_answer(prefill + o[0].text) or "")
            for p, o in zip(problems, out, strict=True)
        ]
        return sum(hits) / len(hits)

    think = accuracy("standard", 400)
    assert accuracy("no-think", 16) <= think / 2
    assert accuracy("standard", 80) <= think / 2


@pytest.mark.slow  # hundreds of problems generated in full
def test_verbose_traces_are_redundant_for_the_shipped_model():
    """Gold traces fed back as thinking: with the redundant lines removed the model still answers; with
    no thinking it cannot. (Without the conclusion line the shipped model mostly fails, 1.5% on 400:
    it copies the answer from "So the answer is N."; the row is reported, not asserted.)"""
    from thinklab.tiny.analysis import redundancy_check
    from thinklab.tiny.model import trained_style

    rows = {name: (tokens, acc) for name, tokens, acc in redundancy_check("tiny", limit=80)}
    whole, pruned = rows[f"whole trace ({trained_style('tiny')})"], rows["redundant lines removed"]
    assert whole[1] >= 0.95 and pruned[1] >= 0.9
    assert pruned[0] < 0.6 * whole[0]  # the removed lines are most of the trace
    assert rows["none"][1] <= 0.5


def test_trained_style_reads_the_last_sft_stage(tmp_path):
    """Redundancy analyses feed back traces in the model's own style: the last stage that names one wins,
    later stages without a style (e.g. a DPO record) are skipped, and unmarked dirs fall back to verbose."""
    import json

    from thinklab.tiny.model import trained_style

    (tmp_path / "thinklab.json").write_text(
        json.dumps({"stages": [{"style": "verbose"}, {"style": "verbose-rules"}, {"method": "dpo"}]})
    )
    assert trained_style(str(tmp_path)) == "verbose-rules"
    assert trained_style(str(tmp_path / "elsewhere")) == "verbose"
