"""The value model: a causal-LM backbone with a per-token classification head (VGS's
`Qwen2ForClassifier`, methods.md §3), for any backbone `AutoModel` loads.

- Head: `Linear(h, h, bias=False) -> ReLU -> Linear(h, 3, bias=False)` on the last hidden states,
  dropout on the hidden states while training (VGS uses p = attention_dropout, 0.05).
- Classes: 0 = finished wrong, 1 = finished correct, 2 = unfinished (length-capped).
- Loss: per-token cross-entropy against the roll-out's final class, masked to roll-out tokens, mean
  per sequence, then mean over the batch.
- Value of a prefix: softmax(logits)[..., 1] at its last token, i.e. P(this prefix ends correct).

Saved as a plain Hugging Face model directory of the backbone (config, weights, tokenizer: `AutoModel`
loads it) plus `value_head.safetensors` and `value_config.json`, so nothing custom is needed to read
the backbone and no remote code is ever run.

The VGS authors' released format loads too (`VGS-AI/DeepSeek-VM-1.5B`, `classifier_lib.py`): one
Hugging Face folder whose `config.json` names the architecture `Qwen2ForClassifier` and whose weights
hold the Qwen2 backbone under `model.` and the head under `score.0.weight` / `score.2.weight` (the same
two-layer head, without biases; the number of labels is read from the head's shape). `AutoModel` reads
the backbone from it (the `model.` prefix is the Qwen2 base-model prefix) and the two head tensors are
read from the safetensors files, so no remote code runs here either.

Optional extension (`logprob_features`, off by default, not in VGS): the head also reads four running
statistics of the *policy's* log-probabilities of the generated tokens (the token's own, the running
mean, the running minimum, the running mass below -2 nats), from a frozen copy of the policy saved in
`logprob_model/`. Why: a sampled trace usually goes wrong at one low-probability token (a slipped
digit, a skipped operation), which the policy itself finds unlikely but which a hidden state does not
expose to a head; on the tiny model at T 1.0 the policy's summed log-prob ranks one problem's right and
wrong finished traces at within-problem AUC 0.95 where the plain head gets 0.51 (docs/search.md,
session 6). The cost is a second forward pass of the policy for every scored token.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from thinklab.errors import ThinklabError
from thinklab.prompting.modes import MARKER_FILE, ChatPrompt, Prompt, format_for, render_chat

HEAD_FILE = "value_head.safetensors"
CONFIG_FILE = "value_config.json"
LOGPROB_DIR = "logprob_model"  # the frozen policy copy whose log-probs the head reads (optional)
N_LOGPROB_FEATURES = 4
LABELS = ("wrong", "correct", "unfinished")
SUCCESS_INDEX = 1


@dataclass
class ValueHeadConfig:
    num_labels: int = 3
    dropout: float = 0.05
    success_index: int = SUCCESS_INDEX
    base_model: str = ""
    format: str = "thinklab-value-v1"
    logprob_features: bool = False  # head also reads the policy's running log-prob statistics


def logprob_features(
    logits: torch.Tensor, input_ids: torch.Tensor, generated_mask: torch.Tensor
) -> torch.Tensor:
    """(B, T, 4) causal statistics of log p(token_t | tokens_<t) over the generated tokens up to t:
    the token's own log-prob, the running mean, the running minimum, and the running sum of the
    log-prob below -2 nats (how much "slip" the prefix holds). Prompt positions read 0 throughout.
    Scaled to O(1) so that they sit beside hidden states without a normaliser."""
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    tok = logp.gather(-1, input_ids[:, 1:, None])[..., 0]
    tok = torch.cat([torch.zeros_like(tok[:, :1]), tok], dim=1)  # position 0 has no prediction
    gen = generated_mask.to(tok.dtype)
    tok = tok * gen
    count = gen.cumsum(1).clamp(min=1.0)
    mean = tok.cumsum(1) / count
    running_min = tok.cummin(1).values  # prompt positions hold 0, never below a generated token's
    slip = (tok + 2.0).clamp(max=0.0).cumsum(1)
    return torch.stack([tok / 10.0, mean, running_min / 10.0, slip / 10.0], dim=-1)


def encode(tokenizer: Any, text: str, offsets: bool = False) -> dict:
    """Token ids of a full text (prompt + response) exactly as the value model sees them, in training
    and at inference alike: special tokens only where the tokenizer adds them and the text has no BOS."""
    bos = tokenizer.bos_token
    add_special = not (bos and text.startswith(bos))
    return tokenizer(text, add_special_tokens=add_special and bool(bos), return_offsets_mapping=offsets)


VGS_ARCHITECTURE = "Qwen2ForClassifier"
VGS_HEAD_KEYS = ("score.0.weight", "score.2.weight")


def is_vgs_dir(path: str | Path) -> bool:
    """Whether `path` holds a value model in the VGS authors' layout (`Qwen2ForClassifier`)."""
    config = Path(path) / "config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and VGS_ARCHITECTURE in (data.get("architectures") or [])


def require_value_dir(path: str | Path) -> Path:
    """`path` as a Path, or a one-line error if it is not a saved value model, thinklab's or the VGS
    authors' (checked before any loading, so a wrong directory never reaches Transformers' own errors)."""
    path = Path(path)
    if is_vgs_dir(path):
        return path
    if not (path / CONFIG_FILE).is_file() or not (path / HEAD_FILE).is_file():
        raise ThinklabError(
            f"{path} is not a value model directory (needs {CONFIG_FILE} and {HEAD_FILE}, or a "
            f"{VGS_ARCHITECTURE} config.json; train one with `thinklab train value`)"
        )
    return path


def _weight_files(path: Path) -> list[Path]:
    """The safetensors files of a Hugging Face folder (one file, or the shards its index names)."""
    index = path / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        return [path / name for name in shards]
    single = path / "model.safetensors"
    return [single] if single.is_file() else []


def read_vgs_head(path: str | Path) -> dict[str, torch.Tensor]:
    """The VGS head's two weight matrices as `{"0.weight", "2.weight"}` (the keys of thinklab's head),
    or a one-line error naming what is missing or different."""
    from safetensors import safe_open

    path = Path(path)
    files = _weight_files(path)
    if not files:
        raise ThinklabError(
            f"{path}: no model.safetensors (or index) to read the {VGS_ARCHITECTURE} head from"
        )
    found: dict[str, torch.Tensor] = {}
    biases = False
    for file in files:
        with safe_open(str(file), framework="pt") as f:
            keys = set(f.keys())
            biases = biases or any(k.startswith("score.") and k.endswith(".bias") for k in keys)
            for key in VGS_HEAD_KEYS:
                if key in keys:
                    found[key] = f.get_tensor(key)
    if biases:
        raise ThinklabError(f"{path}: a {VGS_ARCHITECTURE} head with biases (use_bias=True) is not supported")
    missing = [k for k in VGS_HEAD_KEYS if k not in found]
    if missing:
        raise ThinklabError(f"{path}: the {VGS_ARCHITECTURE} weights lack {', '.join(missing)}")
    first, second = found[VGS_HEAD_KEYS[0]], found[VGS_HEAD_KEYS[1]]
    if (
        first.ndim != 2
        or second.ndim != 2
        or first.shape[0] != first.shape[1]
        or second.shape[1] != first.shape[0]
    ):
        raise ThinklabError(
            f"{path}: unexpected {VGS_ARCHITECTURE} head shapes {tuple(first.shape)} and {tuple(second.shape)}"
        )
    return {"0.weight": first, "2.weight": second}


class ValueModel(nn.Module):
    """Backbone + per-token head. `forward` returns `{"loss", "logits"}` so the Transformers Trainer
    trains it as is; `__call__(prompts, texts)` via `ValueFunction` gives values for search."""

    def __init__(
        self, backbone: nn.Module, cfg: ValueHeadConfig, logprob_model: nn.Module | None = None
    ) -> None:
        super().__init__()
        h = backbone.config.hidden_size
        if cfg.logprob_features and logprob_model is None:
            raise ValueError("a value head with logprob_features needs the policy (logprob_model)")
        self.backbone = backbone
        self.value_config = cfg
        self.logprob_model = logprob_model
        if logprob_model is not None:
            logprob_model.requires_grad_(False)
            logprob_model.eval()
        extra = N_LOGPROB_FEATURES if cfg.logprob_features else 0
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Sequential(
            nn.Linear(h + extra, h, bias=False), nn.ReLU(), nn.Linear(h, cfg.num_labels, bias=False)
        )

    def train(self, mode: bool = True) -> ValueModel:
        super().train(mode)
        if self.logprob_model is not None:  # frozen: never dropout, never updated
            self.logprob_model.eval()
        return self

    def state_dict(
        self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """The trainable part only: backbone and head, without the frozen policy copy. Why: that copy
        is never updated (it is rebuilt from the base model, and `save_pretrained` writes it apart),
        and its tied input/output embeddings make the Trainer's checkpoint (a flat safetensors file of
        this dict) refuse to save. `load_state_dict` fills the copy back in from the model itself."""
        state = super().state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)
        for key in [k for k in state if k.startswith(f"{prefix}logprob_model.")]:
            del state[key]
        return state

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Loads what `state_dict` gives (the Trainer's resume): the frozen policy copy, absent from
        it, keeps its current weights instead of counting as missing."""
        if self.logprob_model is not None:
            own = {f"logprob_model.{k}": v for k, v in self.logprob_model.state_dict().items()}
            state_dict = {**own, **state_dict}
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # ------------------------------------------------------------------ model
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        loss_mask: torch.Tensor | None = None,
        generated_mask: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor | None]:
        """`generated_mask` (B, T) marks the policy's tokens (after the prompt); only the log-prob
        features read it (default: every attended token)."""
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        features = self.dropout(hidden)
        if self.logprob_model is not None:
            if generated_mask is None:
                generated_mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
            with torch.no_grad():
                lm_logits = self.logprob_model(input_ids=input_ids, attention_mask=attention_mask).logits
                extra = logprob_features(lm_logits, input_ids, generated_mask)
            features = torch.cat([features.float(), extra], dim=-1)
        logits = self.head(features.to(self.head[0].weight.dtype)).float()
        loss = None
        if labels is not None:
            if loss_mask is None:
                raise ValueError("training the value model needs loss_mask")
            loss = token_loss(logits, labels, loss_mask)
        return {"loss": loss, "logits": logits}

    def success_probs(self, logits: torch.Tensor) -> torch.Tensor:
        if self.value_config.num_labels == 1:
            return torch.sigmoid(logits[..., 0])
        return torch.softmax(logits, dim=-1)[..., self.value_config.success_index]

    # ------------------------------------------------------------------ io
    def save_pretrained(self, out_dir: str | Path, tokenizer: Any = None) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(str(out), safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(str(out))
        head = {k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}
        save_file(head, str(out / HEAD_FILE), metadata={"format": "pt"})
        if self.logprob_model is not None:
            self.logprob_model.save_pretrained(str(out / LOGPROB_DIR), safe_serialization=True)
        (out / CONFIG_FILE).write_text(json.dumps(asdict(self.value_config), indent=2) + "\n")
        marker = Path(self.value_config.base_model) / MARKER_FILE if self.value_config.base_model else None
        if marker is not None and marker.is_file():  # keep the prompt-mode family of thinklab models
            (out / MARKER_FILE).write_text(marker.read_text())
        elif self.value_config.base_model and tokenizer is not None:
            # A real model's family, which this folder's name may no longer show (s1 is known by name).
            fmt = format_for(self.value_config.base_model, tokenizer)
            (out / MARKER_FILE).write_text(json.dumps({"thinking_format": fmt.record()}, indent=2) + "\n")
        return out

    @classmethod
    def from_pretrained(
        cls, path: str | Path, dtype: torch.dtype = torch.float32, trust_remote_code: bool = False
    ) -> ValueModel:
        from safetensors.torch import load_file
        from transformers import AutoModel

        path = require_value_dir(path)
        if is_vgs_dir(path) and not (path / CONFIG_FILE).is_file():
            return cls._from_vgs(path, dtype)
        cfg = ValueHeadConfig(**json.loads((path / CONFIG_FILE).read_text()))
        backbone = AutoModel.from_pretrained(str(path), dtype=dtype, trust_remote_code=trust_remote_code)
        policy = None
        if cfg.logprob_features:
            from transformers import AutoModelForCausalLM

            policy = AutoModelForCausalLM.from_pretrained(
                str(path / LOGPROB_DIR), dtype=dtype, trust_remote_code=trust_remote_code
            )
        model = cls(backbone, cfg, policy)
        model.head.load_state_dict(load_file(str(path / HEAD_FILE)))
        model.head.to(dtype)
        return model

    @classmethod
    def _from_vgs(cls, path: Path, dtype: torch.dtype) -> ValueModel:
        """A `Qwen2ForClassifier` folder (module notes): Qwen2 backbone + the head read from its weights.
        Class 1 is success, as in VGS (`success_probs = softmax(logits)[..., 1]`)."""
        from transformers import AutoModel

        head = read_vgs_head(path)
        try:
            backbone = AutoModel.from_pretrained(str(path), dtype=dtype)
        except (OSError, ValueError) as exc:
            raise ThinklabError(
                f"cannot load the {VGS_ARCHITECTURE} backbone in {path}: {str(exc).splitlines()[0]}"
            ) from None
        if head["0.weight"].shape[1] != backbone.config.hidden_size:
            raise ThinklabError(
                f"{path}: the head reads {head['0.weight'].shape[1]} features, the backbone has "
                f"hidden size {backbone.config.hidden_size}"
            )
        cfg = ValueHeadConfig(
            num_labels=int(head["2.weight"].shape[0]),
            dropout=float(getattr(backbone.config, "attention_dropout", 0.0) or 0.0),
            base_model=str(path),
            format="vgs-qwen2-classifier",
        )
        model = cls(backbone, cfg)
        model.head.load_state_dict(head)
        model.head.to(dtype)
        return model

    @classmethod
    def from_backbone(
        cls, model: str, cfg: ValueHeadConfig | None = None, dtype: torch.dtype = torch.float32, **kw: Any
    ) -> ValueModel:
        """A fresh head on a causal LM's backbone (`tiny`, a local dir or a hub id); with
        `cfg.logprob_features` also a frozen copy of that causal LM, whose log-probs the head reads."""
        from transformers import AutoModel, AutoModelForCausalLM

        from thinklab.models import resolve_model_path

        path = resolve_model_path(model)
        cfg = cfg or ValueHeadConfig()
        cfg.base_model = cfg.base_model or path
        try:
            backbone = AutoModel.from_pretrained(path, dtype=dtype, **kw)
            policy = (
                AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kw)
                if cfg.logprob_features
                else None
            )
        except (OSError, ValueError) as exc:
            raise ThinklabError(f"cannot load backbone {model!r}: {str(exc).splitlines()[0]}") from None
        return cls(backbone, cfg, policy)


def token_loss(logits: torch.Tensor, labels: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """VGS's loss: CE of every token against its sequence's class, masked to the trained tokens (VGS:
    the roll-out's), averaged per sequence, then over the batch (so long roll-outs do not outweigh
    short ones).

    logits (B, T, C), labels (B,), loss_mask (B, T) of 0/1."""
    b, t, c = logits.shape
    if c == 1:  # VGS's BCE variant: label 1 (correct) vs the rest
        target = (labels == SUCCESS_INDEX).float()[:, None].expand(b, t)
        per_token = nn.functional.binary_cross_entropy_with_logits(logits[..., 0], target, reduction="none")
    else:
        target = labels[:, None].expand(b, t)
        per_token = nn.functional.cross_entropy(
            logits.reshape(b * t, c), target.reshape(-1), reduction="none"
        )
        per_token = per_token.view(b, t)
    mask = loss_mask.to(per_token.dtype)
    per_seq = (per_token * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return per_seq.mean()


class ValueFunction:
    """Batched prefix scoring for search: `value_fn(prompts, texts)` -> P(correct) at each last token.

    Sequences are sorted by length and right-padded in batches; `last_tokens` records how many token
    forwards each pair cost (compute accounting: twice its length when the head reads the policy's
    log-probs, which runs a second network), `tokens_scored` the running total."""

    def __init__(
        self,
        model: ValueModel,
        tokenizer: Any,
        device: str | None = None,
        batch_size: int = 64,
        max_length: int | None = None,
    ) -> None:
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.batch_size = batch_size
        self.max_length = max_length or getattr(model.backbone.config, "max_position_embeddings", None)
        self.thinking = None
        self.last_tokens: list[int] = []
        self.tokens_scored = 0

    @classmethod
    def load(
        cls, path: str | Path, device: str | None = None, batch_size: int = 64, dtype: str = "float32"
    ) -> ValueFunction:
        from transformers import AutoTokenizer

        torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(
            dtype
        )
        if torch_dtype is None:
            raise ThinklabError(f"unknown value-model dtype {dtype!r}; use float32, bfloat16 or float16")
        model = ValueModel.from_pretrained(path, dtype=torch_dtype)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            raise ThinklabError(
                f"{path}: no tokenizer to read ({str(exc).splitlines()[0]}); save the policy's tokenizer "
                "into the value model folder"
            ) from None
        fn = cls(model, tokenizer, device=device, batch_size=batch_size)
        fn.thinking = format_for(path, tokenizer)
        return fn

    def text_of(self, prompt: Prompt, text: str) -> str:
        if isinstance(prompt, ChatPrompt):  # chat-server prompts: render with the value model's template
            user = next(c for r, c in prompt.messages if r == "user")
            system = next((c for r, c in prompt.messages if r == "system"), None)
            prefill = prompt.prefill or (self.thinking.standard if self.thinking else "")
            return render_chat(self.tokenizer, user, system) + prefill + text
        return prompt + text

    def values(self, texts: Sequence[str], prompt_chars: Sequence[int] | None = None) -> list[float]:
        """P(correct) at the last token of each full text. `prompt_chars[i]`: where the policy's own
        text starts in `texts[i]` (read only by a head with log-prob features; default 0)."""
        reads_logprobs = self.model.value_config.logprob_features
        encoded = [encode(self.tokenizer, t, offsets=reads_logprobs) for t in texts]
        ids = [e["input_ids"] for e in encoded]
        if reads_logprobs:  # a token is the policy's if it ends after the prompt (as in training)
            starts = prompt_chars or [0] * len(texts)
            gen = [
                [1 if (end > start and end > s) else 0 for s, end in e["offset_mapping"]]
                for e, start in zip(encoded, starts, strict=True)
            ]
        else:
            gen = [[1] * len(x) for x in ids]
        if self.max_length:
            # Keep the end: the value is read at the last token, and that token must see its prefix.
            ids = [x[-self.max_length :] for x in ids]
            gen = [g[-self.max_length :] for g in gen]
        # Cost in token forwards: a head with log-prob features runs the policy copy too (2 networks).
        passes = 2 if reads_logprobs else 1
        self.last_tokens = [passes * len(x) for x in ids]
        self.tokens_scored += sum(self.last_tokens)
        out = [0.0] * len(ids)
        order = sorted(range(len(ids)), key=lambda k: -len(ids[k]))
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(ids[k]) for k in idx)
            input_ids = torch.tensor(
                [ids[k] + [pad] * (width - len(ids[k])) for k in idx], device=self.device
            )
            attention = torch.tensor(
                [[1] * len(ids[k]) + [0] * (width - len(ids[k])) for k in idx], device=self.device
            )
            generated = torch.tensor([gen[k] + [0] * (width - len(gen[k])) for k in idx], device=self.device)
            with torch.inference_mode():
                logits = self.model(input_ids=input_ids, attention_mask=attention, generated_mask=generated)[
                    "logits"
                ]
                last = attention.sum(1) - 1
                probs = self.model.success_probs(logits[torch.arange(len(idx), device=self.device), last])
            for k, p in zip(idx, probs.tolist(), strict=True):
                out[k] = float(p)
        return out

    def __call__(self, prompts: Sequence[Prompt], texts: Sequence[str]) -> list[float]:
        full = [self.text_of(p, t) for p, t in zip(prompts, texts, strict=True)]
        return self.values(full, [len(f) - len(t) for f, t in zip(full, texts, strict=True)])
