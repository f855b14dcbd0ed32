"""The tiny model: a standard Llama causal LM built from config (no custom code, so
`AutoModelForCausalLM.from_pretrained` loads it anywhere Transformers runs). Where it ships and how
`tiny` resolves to it: `thinklab.models`.

Why Llama with `attention_bias=True` (Qwen2-style biases on the attention projections): Transformers 5
loads every `qwen2` checkpoint's tokenizer as `Qwen2Tokenizer`, which replaces the pre-tokenizer in
`tokenizer.json` with Qwen's own, so `AutoTokenizer` would tokenize numbers differently from training.
For `llama` it keeps the saved tokenizer (`TokenizersBackend`). The shipped checkpoint was trained as
Qwen2 and converted losslessly (identical logits; the Qwen2 o_proj has no bias, so its Llama bias is 0).

Size was chosen by measurement on 2 CPU cores (see README, model card): hidden 256 and 4 layers train
at several thousand tokens/s and reach the task's accuracy target inside the 45-minute budget.
"""

from __future__ import annotations

from pathlib import Path

from transformers import LlamaConfig

from thinklab.models import resolve_model_path


def tiny_config(
    vocab_size: int, pad_token_id: int, bos_token_id: int, eos_token_id: int, **overrides
) -> LlamaConfig:
    base = dict(
        vocab_size=vocab_size,
        hidden_size=256,
        intermediate_size=768,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        rope_theta=10000.0,
        rms_norm_eps=1e-6,
        attention_bias=True,
        tie_word_embeddings=True,
        attention_dropout=0.0,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
    )
    base.update(overrides)
    return LlamaConfig(**base)


def trained_style(model: str) -> str:
    """The trace style (`arith.render_thought` style) a thinklab-made tiny model was last SFT-trained on,
    from the `stages` its `thinklab.json` records; "verbose" when none says (older dirs, other models).
    Analyses that feed gold traces back as thinking must use the model's own style."""
    import json

    from thinklab.prompting.modes import MARKER_FILE

    marker = Path(resolve_model_path(model, weights=False)) / MARKER_FILE
    if marker.is_file():
        stages = json.loads(marker.read_text()).get("stages", [])
        for stage in reversed(stages):
            if isinstance(stage, dict) and stage.get("style"):
                return str(stage["style"])
    return "verbose"
