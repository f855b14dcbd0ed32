"""The tiny model's tokenizer: byte-level BPE trained locally on `arith` text, digits one per token.

Digits are split individually because multi-digit tokens would make every two-digit number its own
fact to memorise; one token per digit lets the model learn carries. A digit keeps its leading space
(" 4" then "5") and a run of newlines is one piece, which makes the verbose traces about 30% shorter
in tokens than GPT-2's pre-tokenizer would, and so the model trains faster on 2 cores. Byte-level BPE means any text
(real R1 traces fed to the tiny scorer, say) still encodes, just in more tokens.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from thinklab.tasks import arith

BOS, EOS, PAD = "<|begin|>", "<|endoftext|>", "<|pad|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, "<|system|>", "<|user|>", "<|assistant|>", "<think>", "</think>"]

THINK_TAGS = ("<think>", "</think>")

CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}<|system|>\n{{ m['content'] }}\n"
    "{% elif m['role'] == 'user' %}<|user|>\n{{ m['content'] }}\n"
    "{% else %}<|assistant|>\n{% generation %}{{ m['content'] }}<|endoftext|>{% endgeneration %}\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for p in arith.generate(n, "train", seed, distinct=False):
        style = rng.choice(("verbose", "concise"))
        texts.append(p.text() + "\n" + arith.render_completion(p, style, rng))
        texts.append(arith.ArithProblem(p.start, p.ops, "expr" if p.form == "words" else "words").text())
    # A little generic prose so common English pieces of prompts (Final:, The answer is) stay compact.
    texts += [
        "The answer is 5. Final: 5. Let me think step by step. Okay, I think I have finished thinking.",
        "Return your final response within \\boxed{}. Wait, Hmm, Alternatively, ... So, therefore, thus",
    ] * 20
    return texts


def build_tokenizer(vocab_size: int = 512, corpus_size: int = 4000, seed: int = 0) -> PreTrainedTokenizerFast:
    """Train the BPE on a generated corpus and wrap it as a standard HF fast tokenizer."""
    tok = Tokenizer(models.BPE())
    pieces = Regex(r"\n+| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(pieces, behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(corpus_size, seed), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_think_tags_not_special(tok),
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=[t for t in SPECIAL_TOKENS[3:] if t not in THINK_TAGS],
        padding_side="left",
        model_max_length=1024,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _think_tags_not_special(tok: Tokenizer) -> Tokenizer:
    """Keep `<think>`/`</think>` atomic (one id each) but not "special", as in R1-Distill tokenizers, so
    that servers which decode with `skip_special_tokens=True` (transformers serve, vLLM) keep them."""
    spec = json.loads(tok.to_str())
    for added in spec["added_tokens"]:
        if added["content"] in THINK_TAGS:
            added["special"] = False
    return Tokenizer.from_str(json.dumps(spec))


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, out_dir: str | Path) -> None:
    tokenizer.save_pretrained(str(out_dir))
