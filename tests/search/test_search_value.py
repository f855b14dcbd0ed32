"""The value model: VGS's loss by hand, AUC by hand, batched scoring, save/load, and real training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from thinklab.errors import DataError, ThinklabError
from thinklab.search.rollouts import cut_ids, label_of, read_rollouts
from thinklab.search.train_value import ValueTrainConfig, build_examples, roc_auc, run_train_value
from thinklab.search.value_model import (
    CONFIG_FILE,
    HEAD_FILE,
    ValueFunction,
    ValueHeadConfig,
    ValueModel,
    encode,
    logprob_features,
    token_loss,
)


def test_token_loss_by_hand():
    ln2, ln3, ln4 = math.log(2), math.log(3), math.log(4)
    logits = torch.tensor(
        [
            [[0.0, ln2, 0.0], [0.0, 0.0, 0.0], [9.0, -9.0, 5.0]],  # label 1: CE ln2, ln3, (masked)
            [[1.0, 2.0, 3.0], [7.0, 0.0, 0.0], [0.0, ln2, 0.0]],  # label 0: (masked), (masked), CE ln4
        ]
    )
    labels = torch.tensor([1, 0])
    mask = torch.tensor([[1, 1, 0], [0, 0, 1]])
    expected = ((ln2 + ln3) / 2 + ln4) / 2  # mean per sequence, then over the batch
    assert token_loss(logits, labels, mask).item() == pytest.approx(expected, rel=1e-6)
    token_mean = (ln2 + ln3 + ln4) / 3  # what a flat token mean would give instead
    assert abs(expected - token_mean) > 1e-3


def test_roc_auc_by_hand():
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)  # ties count one half
    assert roc_auc([0.2, 0.9, 0.9], [False, True, True]) == pytest.approx(1.0)
    assert roc_auc([0.2, 0.3], [True, True]) is None


def test_labels_and_cuts():
    assert label_of("length", True) == 2
    assert label_of("stop", True) == 1
    assert label_of("stop", False) == 0
    assert [cut_ids(list(range(10)), f) for f in (0.0, 0.25, 0.5, 0.99)] == [0, 2, 5, 9]
    with pytest.raises(ValueError):
        cut_ids([1, 2], 1.0)


@pytest.fixture(scope="module")
def fresh():
    from transformers import AutoTokenizer

    from thinklab.models import resolve_model_path

    torch.manual_seed(0)
    model = ValueModel.from_backbone("tiny", ValueHeadConfig(dropout=0.0))
    tok = AutoTokenizer.from_pretrained(resolve_model_path("tiny"))
    return model, tok


def test_batched_values_equal_one_at_a_time(fresh):
    model, tok = fresh
    fn = ValueFunction(model, tok, device="cpu", batch_size=8)
    texts = ["<|user|>\nCompute 1 + 2.\n<|assistant|>\n<think>\n", "Step 1: 4 * 5 = 20.", "x" * 3]
    batched = fn.values(texts)
    alone = [fn.values([t])[0] for t in texts]
    assert batched == pytest.approx(alone, abs=1e-5)
    assert all(0.0 < v < 1.0 for v in batched)
    assert fn.last_tokens == [len(tok(texts[2])["input_ids"])]


def test_save_and_load_round_trip(fresh, tmp_path):
    from transformers import AutoModel

    model, tok = fresh
    texts = ["<|user|>\nCompute 7 - 3.\n<|assistant|>\n<think>\nStep 1: 7 - 3 = 4.", "So the answer is 4."]
    before = ValueFunction(model, tok, device="cpu").values(texts)
    out = model.save_pretrained(tmp_path / "vm", tok)
    assert (out / HEAD_FILE).is_file() and (out / CONFIG_FILE).is_file() and (out / "config.json").is_file()
    assert AutoModel.from_pretrained(str(out)).config.hidden_size == 256  # a plain HF backbone dir
    after = ValueFunction.load(out, device="cpu").values(texts)
    assert after == pytest.approx(before, abs=1e-6)


def test_logprob_features_by_hand():
    # vocabulary of 2; the "policy" predicts token 0 with p = 0.8 everywhere
    p = torch.tensor([0.8, 0.2])
    logits = torch.log(p).expand(1, 5, 2).clone()
    ids = torch.tensor([[1, 0, 1, 0, 0]])
    gen = torch.tensor([[0, 0, 1, 1, 1]])  # the first two tokens are the prompt
    f = logprob_features(logits, ids, gen)[0]
    lo, hi = math.log(0.2), math.log(0.8)
    own = [0.0, 0.0, lo, hi, hi]
    assert f[:, 0].tolist() == pytest.approx([x / 10 for x in own], abs=1e-6)
    assert f[:, 1].tolist() == pytest.approx([0.0, 0.0, lo, (lo + hi) / 2, (lo + 2 * hi) / 3], abs=1e-6)
    assert f[:, 2].tolist() == pytest.approx([0.0, 0.0, lo / 10, lo / 10, lo / 10], abs=1e-6)
    slip = min(lo + 2, 0.0)  # log 0.2 = -1.61 is above -2: no slip mass
    assert f[:, 3].tolist() == pytest.approx([0.0, 0.0, slip / 10, slip / 10, slip / 10], abs=1e-6)
    # causal: changing a later token changes nothing before it
    ids2 = ids.clone()
    ids2[0, 4] = 1
    assert torch.equal(logprob_features(logits, ids2, gen)[0, :4], f[:4])


def test_logprob_head_round_trip_and_prompt_mask(tmp_path):
    from transformers import AutoTokenizer

    from thinklab.models import resolve_model_path

    torch.manual_seed(0)
    model = ValueModel.from_backbone("tiny", ValueHeadConfig(dropout=0.0, logprob_features=True))
    assert not any(p.requires_grad for p in model.logprob_model.parameters())
    model.train()
    assert not model.logprob_model.training  # the frozen policy never runs in train mode
    tok = AutoTokenizer.from_pretrained(resolve_model_path("tiny"))
    prompts = ["<|user|>\nCompute 7 - 3.\n<|assistant|>\n<think>\n"] * 2
    texts = ["Step 1: 7 - 3 = 4.", "Step 1: 7 - 3 = 9."]
    before = ValueFunction(model, tok, device="cpu")(prompts, texts)
    out = model.save_pretrained(tmp_path / "vm", tok)
    assert (out / "logprob_model" / "config.json").is_file()
    after = ValueFunction.load(out, device="cpu")(prompts, texts)
    assert after == pytest.approx(before, abs=1e-6)
    # where the policy's text starts matters: the whole string read as generated scores differently
    fn = ValueFunction.load(out, device="cpu")
    as_generated = fn.values([p + t for p, t in zip(prompts, texts, strict=True)])
    assert as_generated != pytest.approx(after, abs=1e-6)
    # compute accounting: two networks read every token
    n_tokens = [len(encode(tok, p + t)["input_ids"]) for p, t in zip(prompts, texts, strict=True)]
    assert fn.last_tokens == [2 * n for n in n_tokens]


def test_not_a_value_model_dir(tmp_path):
    with pytest.raises(ThinklabError, match="not a value model"):
        ValueModel.from_pretrained(tmp_path)


def test_roll_out_mask_covers_exactly_the_roll_out(fresh):
    _, tok = fresh
    row = {
        "prompt": "<|user|>\nCompute 5 + 3.\n<|assistant|>\n<think>\n",
        "roll_in": "Okay, let me restate the problem: start with 5, then + 3.\n\n",
        "roll_outs": ["Step 1: 5 + 3 = 8.\n\nSo the answer is 8.\n</think>\n\n\\boxed{8}"],
        "labels": [1],
    }
    (ex,) = build_examples([row], tok, max_length=1024)
    kept = [t for t, m in zip(ex["input_ids"], ex["loss_mask"], strict=True) if m]
    assert tok.decode(kept) == row["roll_outs"][0]
    assert ex["labels"] == 1
    # cut at max_length inside the prompt: nothing of the roll-out is left, the example is dropped
    assert build_examples([row], tok, max_length=5) == []
    # loss_on="generated": roll-in and roll-out, never the prompt; the same ids and label
    (gen,) = build_examples([row], tok, max_length=1024, loss_on="generated")
    assert gen["input_ids"] == ex["input_ids"] and gen["labels"] == 1
    kept = [t for t, m in zip(gen["input_ids"], gen["loss_mask"], strict=True) if m]
    assert tok.decode(kept) == row["roll_in"] + row["roll_outs"][0]
    with pytest.raises(ThinklabError, match="loss_on must be one of"):
        build_examples([row], tok, max_length=1024, loss_on="prompt")


def _write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _one_problem_rows(n):
    """n rollout rows of one toy problem with alternating labels (for runs that only need to train)."""
    return [
        {
            "id": f"p{i}",
            "prompt": "<|user|>\nCompute 3 + 4 from left to right.\n<|assistant|>\n<think>\n",
            "roll_in": "Step 1: 3 + 4 = 7.\n\n",
            "roll_outs": ["So the answer is 7.\n</think>\n\n\\boxed{7}"],
            "labels": [i % 2],
            "cut": 0.5,
        }
        for i in range(n)
    ]


def test_bad_rollout_rows_name_the_line(tmp_path):
    good = {"prompt": "p", "roll_in": "", "roll_outs": ["a"], "labels": [1]}
    bad = {"prompt": "p", "roll_in": "", "roll_outs": ["a", "b"], "labels": [1]}
    path = tmp_path / "r.jsonl"
    _write_rows(path, [good, bad])
    with pytest.raises(DataError, match=r"r\.jsonl:2: 2 roll_outs but 1 labels"):
        read_rollouts(path)
    _write_rows(path, [{**good, "labels": [3]}])
    with pytest.raises(DataError, match=r":1: labels must be"):
        read_rollouts(path)


@pytest.mark.slow
def test_trainer_learns_a_visible_signal(tmp_path):
    """A real Trainer run on rows whose roll-in says whether the trace went wrong: after training,
    prefix values separate correct from wrong roll-outs on held-out problems, and the saved model
    gives the same values as the evaluation written at the end of training."""
    import random

    from thinklab.search.train_value import evaluate_value

    rng = random.Random(0)

    def rows(n, offset):
        out = []
        for i in range(n):
            a, b = rng.randint(10, 60), rng.randint(2, 9)
            ok = i % 2 == 0
            check = "Let me double check. Yes." if ok else "Wait, that is wrong."
            out.append(
                {
                    "id": f"p{offset + i}",
                    "prompt": f"<|user|>\nCompute {a} + {b} from left to right.\n<|assistant|>\n<think>\n",
                    "roll_in": f"Step 1: {a} + {b} = {a + b}.\n\n{check}\n\n",
                    "roll_outs": [f"So the answer is {a + b}.\n</think>\n\n\\boxed{{{a + b}}}"] * 2,
                    "labels": [1, 1] if ok else [0, 0],
                    "cut": 0.5,
                }
            )
        return out

    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    _write_rows(train, rows(64, 0))
    _write_rows(test, rows(20, 1000))
    cfg = ValueTrainConfig(
        data=str(train),
        out=str(tmp_path / "vm"),
        eval_data=str(test),
        max_steps=20,
        batch_size=16,
        learning_rate=1e-3,
        logging_steps=5,
        dropout=0.0,
    )
    out = run_train_value(cfg)
    record = json.loads((out / "value_training.json").read_text())
    assert record["steps"] == 20
    assert record["losses"][-1] < 0.5 * record["losses"][0]
    ev = evaluate_value(ValueFunction.load(out, device="cpu"), read_rollouts(test))
    assert ev["by_cut"]["all"]["auc"] == pytest.approx(record["eval"]["by_cut"]["all"]["auc"])
    assert ev["by_cut"]["all"]["auc"] >= 0.95
    assert ev["by_cut"]["all"]["mean_value_correct"] > ev["by_cut"]["all"]["mean_value_wrong"]


def test_evaluate_value_mid_trace_levels_and_brier_by_hand():
    """The pooled numbers `value-eval` reports, worked out by hand on a value function that looks the
    prefix up (the first letter of the text names it)."""
    from thinklab.search.train_value import evaluate_value

    value = {"A": 0.9, "B": 0.2, "C": 0.1, "D": 0.6}

    def fn(prompts, texts):
        return [value[t[0]] for t in texts]

    def row(name, level, cut, labels):
        return {
            "id": name,
            "level": level,
            "cut": cut,
            "prompt": "q",
            "roll_in": name,
            "roll_outs": ["x"] * len(labels),
            "labels": labels,
        }

    rows = [
        row("A", 1, 0.5, [1, 0]),
        row("B", 1, 0.5, [0, 0]),
        row("C", 2, 0.25, [1, 1]),
        row("D", 2, 0.5, [0, 2]),
    ]
    ev = evaluate_value(fn, rows)
    # cut 0.5 only: the right roll-out (0.9) beats 0.2, 0.2, 0.6, 0.6 and ties 0.9: 4.5 / 5
    assert ev["mid_trace_cuts"] == ["0.50"] and ev["mid_trace_auc"] == pytest.approx(0.9)
    assert ev["by_level"]["1"] == {"pairs": 4, "correct_rate": 0.25, "auc": pytest.approx(2.5 / 3)}
    assert ev["by_level"]["2"] == {"pairs": 4, "correct_rate": 0.5, "auc": 0.0}
    # (0.9-1)^2 + 0.9^2 + 2 * 0.2^2 + 2 * (0.1-1)^2 + 2 * 0.6^2 = 3.24 over 8 pairs
    assert ev["brier"] == pytest.approx(3.24 / 8)
    assert ev["mid_trace_auc_se"] > 0  # resamples of A, B, D differ (and one-class ones are skipped)


def test_bootstrap_resamples_whole_problems_and_pairs_the_scorers():
    """Problem A's rows: right 0.9, wrong 0.6; B's: right 0.5, wrong 0.1. Pooled AUC 0.75 (0.5 loses
    to 0.6). Drawing whole problems can only give {A, A} or {B, B} (AUC 1) or {A, B} (0.75); drawing
    rows one by one could give 0 (B's right row beside A's wrong one)."""
    from thinklab.search.train_value import bootstrap_aucs, standard_error

    rows = [
        {"id": "A", "labels": [1]},
        {"id": "A", "labels": [0]},
        {"id": "B", "labels": [1]},
        {"id": "B", "labels": [0]},
    ]
    values = [0.9, 0.6, 0.5, 0.1]
    same, shifted = bootstrap_aucs(rows, [values, [v + 1 for v in values]], n=300)
    assert set(same) == {1.0, 0.75} and len(same) == 300
    assert same == shifted  # a monotone shift ranks alike; the same resamples: paired difference 0
    assert standard_error([a - b for a, b in zip(same, shifted, strict=True)]) == 0.0
    assert 0.0 < standard_error(same) < 0.25
    assert standard_error([0.5]) is None


def test_fresh_arith_problems_are_unseen_and_disjoint_from_benchmarks():
    from thinklab.tasks.arith import DEFAULT_TEST_SEED
    from thinklab.tasks.fresh import benchmark_keys
    from thinklab.tasks.registry import TaskError, get_task

    problems = get_task("arith-fresh:L8:7").problems(limit=50)
    assert len({p.id for p in problems}) == 50 and all(p.metadata["level"] == 8 for p in problems)
    assert not {p.metadata["key"] for p in problems} & benchmark_keys()
    assert get_task("arith:L8").problems()[0].metadata["key"] in benchmark_keys()
    with pytest.raises(TaskError):
        get_task(f"arith-fresh:L8:{DEFAULT_TEST_SEED}")
    with pytest.raises(TaskError):
        get_task("arith-fresh:train:7")


def test_freeze_backbone_trains_the_head_only(tmp_path):
    """`freeze_backbone`: the saved backbone is the starting model's, bit for bit; the head moved."""
    from safetensors.torch import load_file

    from thinklab.models import resolve_model_path

    rows = _one_problem_rows(8)
    data = tmp_path / "train.jsonl"
    _write_rows(data, rows)
    cfg = ValueTrainConfig(
        data=str(data),
        out=str(tmp_path / "vm"),
        max_steps=3,
        batch_size=4,
        learning_rate=1e-2,
        dropout=0.0,
        freeze_backbone=True,
    )
    out = run_train_value(cfg)
    start = load_file(str(Path(resolve_model_path("tiny")) / "model.safetensors"))
    saved = load_file(str(out / "model.safetensors"))
    shared = [k for k in saved if f"model.{k}" in start or k in start]
    assert shared, "no backbone tensor matched the starting checkpoint's names"
    for k in shared:
        assert torch.equal(saved[k], start.get(f"model.{k}", start.get(k))), k
    assert json.loads((out / "value_training.json").read_text())["steps"] == 3


@pytest.mark.slow
def test_checkpoints_with_logprob_head_resume(tmp_path, monkeypatch):
    """`save_steps` with `logprob_features`: the Trainer's checkpoints hold the trainable weights only
    (the frozen policy copy has tied embeddings, which a flat safetensors checkpoint refuses), and a
    rerun after an interruption resumes from the last checkpoint instead of starting over."""
    from safetensors.torch import load_file

    from thinklab.models import TrainOutput

    rows = _one_problem_rows(8)
    data = tmp_path / "train.jsonl"
    _write_rows(data, rows)

    def cfg(max_steps):
        return ValueTrainConfig(
            data=str(data),
            out=str(tmp_path / "vm"),
            max_steps=max_steps,
            batch_size=4,
            learning_rate=1e-3,
            dropout=0.0,
            logprob_features=True,
            save_steps=2,
        )

    # The "interrupted" run: stops after step 2 before its output is committed, so its staging dir
    # (with the Trainer checkpoint) stays and no model dir appears.
    monkeypatch.setattr(TrainOutput, "commit", lambda self: self.staging)
    run_train_value(cfg(2))
    assert not (tmp_path / "vm").exists()
    checkpoint = tmp_path / ".vm.partial" / "trainer" / "checkpoint-2"
    assert checkpoint.is_dir()
    saved = load_file(str(checkpoint / "model.safetensors"))
    assert saved and not [k for k in saved if k.startswith("logprob_model.")]
    assert any(k.startswith("head.") for k in saved) and any(k.startswith("backbone.") for k in saved)
    monkeypatch.undo()
    # Count training forwards in the rerun: resumed at step 2, it runs steps 3-4 only.
    forwards = []
    original = ValueModel.forward

    def counting(self, input_ids, attention_mask=None, labels=None, loss_mask=None, generated_mask=None):
        forwards.append(labels is not None)
        return original(self, input_ids, attention_mask, labels, loss_mask, generated_mask)

    monkeypatch.setattr(ValueModel, "forward", counting)
    out = run_train_value(cfg(4))
    monkeypatch.undo()
    record = json.loads((out / "value_training.json").read_text())
    assert record["steps"] == 4 and sum(forwards) == 2
    assert not (out / "trainer").exists() and not (tmp_path / ".vm.partial").exists()
    # The resumed dir loads with the frozen policy copy its head reads, and scores a prefix as the head
    # does by hand: the success probability of the last token's logits from one plain forward.
    fn = ValueFunction.load(out, device="cpu")
    assert fn.model.logprob_model is not None
    text = rows[0]["prompt"] + rows[0]["roll_in"]
    ids = torch.tensor([encode(fn.tokenizer, text)["input_ids"]])
    with torch.inference_mode():
        logits = fn.model(input_ids=ids, attention_mask=torch.ones_like(ids))["logits"][0, -1]
    assert fn.values([text]) == pytest.approx([fn.model.success_probs(logits).item()], abs=1e-6)


def test_finished_ranking_is_within_problem_by_hand():
    """A scorer that reads a number off the text: within one problem the ranking counts, not the
    difference between problems (the pooled AUC sees both). Unfinished roll-outs are left out."""
    from thinklab.search.train_value import finished_ranking

    def scorer(prompts, texts):
        return [float(t.rsplit("v=", 1)[1]) for t in texts]

    rows = [
        # problem a: right 0.9 > wrong 0.8, right 0.7 < wrong 0.8 -> 1 win of 2
        {"id": "a", "prompt": "P", "roll_in": "", "roll_outs": ["v=0.9", "v=0.8"], "labels": [1, 0]},
        {"id": "a", "prompt": "P", "roll_in": "x ", "roll_outs": ["v=0.7", "v=0.05"], "labels": [1, 2]},
        # problem b: all low, right 0.3 > wrong 0.2 -> 1 win of 1
        {"id": "b", "prompt": "Q", "roll_in": "", "roll_outs": ["v=0.3", "v=0.2"], "labels": [1, 0]},
        # problem c: only right answers: no pair
        {"id": "c", "prompt": "R", "roll_in": "", "roll_outs": ["v=0.1"], "labels": [1]},
    ]
    out = finished_ranking(scorer, rows)
    assert out["pairs"] == 3 and out["problems"] == 2
    assert out["within_problem_auc"] == pytest.approx(2 / 3)
    # pooled over the 6 finished roll-outs (4 right, 2 wrong): right above wrong in 4 of 8 pairs,
    # counting 0.9>0.8, 0.9>0.2, 0.7>0.2, 0.3>0.2 = 4, and 0.7<0.8, 0.3<0.8, 0.1<0.8, 0.1<0.2 = 0
    assert out["pooled_auc"] == pytest.approx(4 / 8)


def test_auc_ceiling_by_hand():
    from thinklab.search.train_value import auc_ceiling

    # Prefix a: p 1 (labels 1, 1); prefix b: p 0.5 (labels 1, 0).
    rows = [{"cut": 0.5, "labels": [1, 1]}, {"cut": 0.5, "labels": [1, 0]}]
    c = auc_ceiling(rows)["0.50"]
    # Plug-in: pairs (a, b) weight 1 * 0.5, a wins; (b, b) weight 0.25, tie -> 0.625 / 0.75.
    assert c["plug_in"] == pytest.approx(0.625 / 0.75)
    # Leave-one-out scores: a's roll-outs 1, 1 (label 1); b's: label 1 -> 0, label 0 -> 1.
    # Positives 1, 1, 0 against the negative 1: 0.5 + 0.5 + 0 over 3.
    assert c["leave_one_out"] == pytest.approx(1 / 3)
    assert (c["prefixes"], c["roll_outs"], c["all_right"], c["all_wrong"]) == (2, 4, 1, 0)
    # Deterministic outcomes: a perfect value exists; unfinished (2) counts as not correct.
    sure = auc_ceiling([{"cut": 0.25, "labels": [1, 1, 1]}, {"cut": 0.25, "labels": [0, 2, 0]}])["0.25"]
    assert sure["plug_in"] == sure["leave_one_out"] == 1.0
    # Every prefix alike: nothing to separate.
    same = auc_ceiling([{"cut": 0.5, "labels": [1, 0]}] * 3)["0.50"]
    assert same["plug_in"] == pytest.approx(0.5)


def test_init_from_goes_on_from_the_saved_value_model(tmp_path):
    """`init_from` starts from a trained value model, not a fresh head: with a learning rate of 0 the
    continued model is the saved one bit for bit (backbone, head, and the policy copy the log-prob
    features read). A flag that would change the head's shape is refused with a clear error."""
    from safetensors.torch import load_file

    from thinklab.search.value_model import HEAD_FILE, LOGPROB_DIR

    data = tmp_path / "train.jsonl"
    _write_rows(data, _one_problem_rows(8))
    common = dict(data=str(data), batch_size=4, dropout=0.0, logprob_features=True)
    first = run_train_value(
        ValueTrainConfig(**common, out=str(tmp_path / "a"), max_steps=3, learning_rate=1e-2)
    )
    fresh = run_train_value(
        ValueTrainConfig(**common, out=str(tmp_path / "fresh"), max_steps=1, learning_rate=0.0)
    )
    cont = run_train_value(
        ValueTrainConfig(
            **common, out=str(tmp_path / "b"), max_steps=1, learning_rate=0.0, init_from=str(first)
        )
    )
    for name in (HEAD_FILE, "model.safetensors", f"{LOGPROB_DIR}/model.safetensors"):
        saved, continued = load_file(str(first / name)), load_file(str(cont / name))
        assert saved.keys() == continued.keys() and saved, name
        assert all(torch.equal(saved[k], continued[k]) for k in saved), name
    head, fresh_head = load_file(str(first / HEAD_FILE)), load_file(str(fresh / HEAD_FILE))
    assert not all(torch.equal(head[k], fresh_head[k]) for k in head)  # the check can fail
    record = json.loads((cont / "value_training.json").read_text())
    assert record["config"]["init_from"] == str(first) and record["steps"] == 1
    with pytest.raises(ThinklabError, match="is not a value model directory"):
        run_train_value(ValueTrainConfig(**common, out=str(tmp_path / "d"), init_from=str(tmp_path)))
    with pytest.raises(
        ThinklabError, match="logprob_features=True; continuing it with logprob_features=False"
    ):
        run_train_value(
            ValueTrainConfig(data=str(data), out=str(tmp_path / "c"), max_steps=1, init_from=str(first))
        )
