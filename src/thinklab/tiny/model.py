"""The tiny model: a standard Llama causal LM built from config (no custom code, so
`AutoModelForCausalLM.from_pretrained` loads it anywhere Transformers runs), and where it ships.

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

CHECKPOINT_DIR = Path(__file__).parent / "checkpoint"
TINY_ALIASES = ("tiny", "thinklab/tiny")


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


def resolve_model_path(model: str, weights: bool = True) -> str:
    """`tiny` → the shipped checkpoint dir; anything else is returned unchanged (local path or hub id).
    `weights=False` for callers that read only the folder's tokenizer and configs (a remote server's
    model, known here by its tokenizer files), so a folder without weights is not an error for them."""
    if model in TINY_ALIASES:
        if not (CHECKPOINT_DIR / "config.json").is_file():
            from thinklab.errors import ThinklabError

            raise ThinklabError(
                f"the tiny checkpoint is missing from {CHECKPOINT_DIR}; rebuild it with `thinklab tiny train`"
            )
        return str(CHECKPOINT_DIR)
    if weights:
        require_weights(model)
    return model


# Files a model dir keeps its weights in (single file, shards with their index, adapters, GGUF).
WEIGHT_GLOBS = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json", "*.pt", "*.gguf")


def require_weights(model: str) -> None:
    """A local model dir with `config.json` but no weight file is a one-line error that says what it
    most likely is (a training run killed while saving, before thinklab saved atomically), instead of
    the tokenizer or architecture message Transformers gives for it. Hub ids pass through."""
    path = Path(model)
    if (path / "config.json").is_file() and not any(next(path.glob(g), None) for g in WEIGHT_GLOBS):
        from thinklab.errors import ThinklabError

        raise ThinklabError(f"no weights in {path}; an interrupted training run? (train it again)")


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


def install_checkpoint(model_dir: str | Path) -> Path:
    """Copy a trained model dir over the shipped checkpoint (weights, tokenizer, config, marker)."""
    import shutil

    src = Path(model_dir)
    CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)
    for old in CHECKPOINT_DIR.iterdir():
        if old.is_file():
            old.unlink()
    for f in src.iterdir():
        if f.is_file():
            shutil.copy2(f, CHECKPOINT_DIR / f.name)
    return CHECKPOINT_DIR
