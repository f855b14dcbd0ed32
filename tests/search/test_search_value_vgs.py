"""The VGS authors' value-model format (`Qwen2ForClassifier`, methods.md §3) loads and scores: a
random-weight model saved in that layout from the R1-Distill-Qwen-1.5B fixture config (tiny sizes,
real tokenizer), checked against the same arithmetic done by hand, and driven through
`thinklab search --value-model`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cli_runner import run_cli
from family_models import family_fixture_dir

from thinklab.errors import ThinklabError
from thinklab.search.value_model import ValueFunction, ValueModel, encode, require_value_dir


def _save_vgs(out: Path, shards: int = 1) -> dict[str, torch.Tensor]:
    """Saves a random-weight `Qwen2ForClassifier` the way the VGS authors' checkpoints are laid out:
    backbone weights under `model.`, the head as `score.0.weight` (h x h) and `score.2.weight` (3 x h),
    config.json naming the architecture, and the tokenizer. Returns the saved tensors."""
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoTokenizer, Qwen2Model

    fixture = family_fixture_dir("r1")
    config = AutoConfig.from_pretrained(fixture)
    config.architectures = ["Qwen2ForClassifier"]
    config.num_labels = 3
    torch.manual_seed(0)
    backbone = Qwen2Model(config).float()
    h = config.hidden_size
    state = {f"model.{k}": v.contiguous() for k, v in backbone.state_dict().items()}
    state["score.0.weight"] = torch.randn(h, h) / h**0.5
    state["score.2.weight"] = torch.randn(3, h)
    out.mkdir(parents=True, exist_ok=True)
    if shards == 1:
        save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    else:  # the sharded layout of larger releases: an index names the file of every tensor
        keys = sorted(state)
        weight_map = {}
        for i in range(shards):
            name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: state[k] for k in keys[i::shards]}
            save_file(part, str(out / name), metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(part, name))
        (out / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": {}, "weight_map": weight_map})
        )
    config.save_pretrained(out)
    AutoTokenizer.from_pretrained(fixture).save_pretrained(out)
    return state


def _by_hand(state: dict[str, torch.Tensor], vgs_dir: Path, texts: list[str]) -> list[float]:
    """VGS's `success_probs[:, -1]`: softmax of the head's logits at the last token, class 1 (one text
    at a time, no padding)."""
    from transformers import AutoTokenizer, Qwen2Model

    backbone = Qwen2Model.from_pretrained(
        str(vgs_dir), dtype=torch.float32
    ).eval()  # prefix `model.` stripped by Transformers
    tok = AutoTokenizer.from_pretrained(str(vgs_dir))
    probs = []
    for text in texts:
        ids = torch.tensor([encode(tok, text)["input_ids"]])
        with torch.no_grad():
            hidden = backbone(input_ids=ids).last_hidden_state[0, -1]
            logits = state["score.2.weight"] @ torch.relu(state["score.0.weight"] @ hidden)
        probs.append(torch.softmax(logits, -1)[1].item())
    return probs


@pytest.mark.parametrize("shards", [1, 2])
def test_vgs_classifier_scores_like_its_own_forward(tmp_path, shards):
    vgs = tmp_path / "vgs"
    state = _save_vgs(vgs, shards)
    assert require_value_dir(vgs) == vgs
    fn = ValueFunction.load(vgs)
    assert fn.model.value_config.num_labels == 3 and fn.model.value_config.format == "vgs-qwen2-classifier"
    assert fn.thinking.name == "r1"  # recognised from the real R1 chat template
    # the backbone really is the saved one (not a fresh init): its weights equal the file's
    embed = fn.model.backbone.get_input_embeddings().weight
    assert torch.equal(embed, state["model.embed_tokens.weight"])
    prompt = (
        "<｜begin▁of▁sentence｜><｜User｜>What is 2+3? Please think step-by-step and put your final "
        "answer within \\boxed{}.<｜Assistant｜><think>\n"
    )
    texts = ["Okay, 2+3 is 5.", "Okay, so I add them.\n</think>\n\n\\boxed{5}", "Hmm"]
    got = fn([prompt] * 3, texts)
    want = _by_hand(state, vgs, [prompt + t for t in texts])
    assert got == pytest.approx(want, abs=1e-5)
    assert len(set(round(v, 6) for v in got)) == 3  # the head is read: different prefixes, different values


def test_vgs_dir_with_missing_head_or_biases_is_one_line(tmp_path):
    from safetensors.torch import load_file, save_file

    vgs = tmp_path / "vgs"
    _save_vgs(vgs)
    weights = load_file(str(vgs / "model.safetensors"))
    save_file({k: v for k, v in weights.items() if k != "score.2.weight"}, str(vgs / "model.safetensors"))
    with pytest.raises(ThinklabError, match="lack score.2.weight") as err:
        ValueModel.from_pretrained(vgs)
    assert "\n" not in str(err.value)
    weights["score.0.bias"] = torch.zeros(weights["score.0.weight"].shape[0])
    save_file(weights, str(vgs / "model.safetensors"))
    with pytest.raises(ThinklabError, match="biases"):
        ValueModel.from_pretrained(vgs)


def test_not_a_value_model_names_both_layouts(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"]}))
    with pytest.raises(ThinklabError, match="Qwen2ForClassifier"):
        require_value_dir(tmp_path)


def test_search_cli_scores_with_a_vgs_value_model(tmp_path):
    vgs = tmp_path / "vgs"
    _save_vgs(vgs)
    out = tmp_path / "runs"
    r = run_cli(
        "search",
        "--strategies",
        "weighted",
        "--value-model",
        vgs,
        "--task",
        "arith:L2",
        "--limit",
        "2",
        "--budgets",
        "2",
        "--max-tokens",
        "96",
        "--out",
        out,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    (run_dir,) = out.glob("tiny_arith-L2-weighted_*")
    recs = [json.loads(x) for x in (run_dir / "samples.jsonl").read_text().splitlines() if x.strip()]
    assert len(recs) == 2 and all(rec["value_tokens"] > 0 for rec in recs)
