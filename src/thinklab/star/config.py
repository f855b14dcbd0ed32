"""The STaR loop's configuration: one YAML file (`configs/star.yaml`) ↔ `StarConfig`.

Defaults follow QT-R1 (`configs/star.yml`, `star_test_100_v3.py`, methods.md §5) where they are about
the method: its system prompt, user prompt, rationalisation hint, the ≤8-step `Final:` format, greedy
generation with one try, top_p 0.95 / top_k 50 when sampling, LoRA r 16 / α 32 / dropout 0.05 and
lr 2e-4 for training. The tiny-model preset (`configs/star.yaml`) overrides the prompts and sizes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError

# QT-R1's prompt strings (star_test_100_v3.py), verbatim.
QTR1_SYSTEM = "You are a careful, concise math tutor. Show ≤8 steps and finish with 'Final:'."
QTR1_FORMAT_DEMO = (
    "Follow this output format:\nExample format:\n1) <brief step>\n2) <brief step>\n...\n"
    "Final: <single-line final answer>\n\n"
)
QTR1_SOLVE = (
    "Solve ONLY the given problem. Do NOT copy any example answers. "
    "Show concise steps (≤8 lines). End with one line exactly starting with 'Final:'."
)
QTR1_HINT = (
    "The correct final answer is '{answer}'. Give a new set of verifiable steps that logically lead to "
    "'Final: {answer}'. Do NOT output any other final value. End with exactly 'Final: {answer}'."
)
QTR1_USER = QTR1_FORMAT_DEMO + QTR1_SOLVE + "\n\nProblem:\n{problem}\n\nResponse:"
QTR1_RATIONALIZE = QTR1_FORMAT_DEMO + QTR1_HINT + "\n\nProblem:\n{problem}\n\nResponse:"

STAGES = ("generate", "merge", "train", "eval")
PROMPT_MODES = ("standard", "no-think", "ellipsis", "plain")  # plain: chat template, no thinking prefill
INIT_FROM = ("start", "previous")


@dataclass
class GenerationConfig:
    """One generation call. `budget_mode`/`extend` are s1's test-time compute controls (thinklab's
    `generate_budgeted`): `force-answer` closes thinking at `max_tokens` and lets the model write its
    `Final:` line within `answer_tokens`; `extend` appends `extend_str` when thinking ends early."""

    max_tokens: int = 384
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 50
    budget_mode: str = "cap"
    answer_tokens: int = 32
    extend: int = 0
    extend_str: str = "Wait"


@dataclass
class TrainConfig:
    """SFT of each round (thinklab.train.sft). `init_from: start` re-trains the starting model on all
    merged data every round (STaR paper, which avoids drifting on its own outputs); `previous` continues
    from last round's model (QT-R1, which continues its LoRA adapter)."""

    init_from: str = "start"
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.05
    max_length: int = 2048
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    seed: int = 42
    extra_args: dict = field(default_factory=dict)


@dataclass
class InitConfig:
    """Optional warm start before round 1: SFT the base model on `data` (any SFT JSONL), or, for the
    tiny preset, on `arith_examples` reference traces in the STaR format rendered from the arith train
    split (a `hint_fraction` of them with the rationalisation hint in the user turn, so the model has
    seen what a hint looks like)."""

    data: str | None = None
    arith_examples: int = 0
    arith_style: str = "verbose"  # verbose | steps | rambling (thinklab.star.tiny)
    hint_fraction: float = 0.0
    seed: int = 7
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class StarConfig:
    out: str = "runs/star"
    base_model: str = "tiny"
    rounds: int = 3
    seed: int = 0
    # problems: the training pool and the held-out set
    task: str = "arith:train"
    data_dir: str | None = None
    pool_limit: int | None = None
    problems_per_round: int = 600  # QT-R1's n
    skip_solved: bool = True  # problems already in the merged data are not generated again
    tries: int = 1  # attempts per problem, stopping at the first verified one
    # all tries of a phase in one batched call (n samples per prompt), the first verified kept: the same
    # choice as trying one at a time, at the cost of the attempts a sequential loop would have skipped,
    # but without one decoding pass per try over an ever smaller batch (the slow part on CPU and GPU alike)
    parallel_tries: bool = True
    rationalize: bool = True
    rationalize_tries: int = 1
    eval_task: str = "math500"
    eval_limit: int | None = None
    # the verifier
    max_steps: int = 8
    min_steps: int = 2
    check_equations: bool = False
    # prompts
    system: str | None = QTR1_SYSTEM
    user_template: str = QTR1_USER
    rationalize_template: str = QTR1_RATIONALIZE
    prompt_mode: str = "plain"
    # generation (data) and held-out evaluation (greedy by default)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    eval_generation: GenerationConfig = field(default_factory=GenerationConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    init: InitConfig | None = None
    backend: str = "hf"
    backend_args: str = ""
    chunk_size: int = 64
    trust_remote_code: bool = False

    def identity(self) -> dict[str, Any]:
        """Everything that changes results; `rounds` and `out` are left out so a finished run can be
        extended with more rounds by `--resume`."""
        d = asdict(self)
        d.pop("rounds")
        d.pop("out")
        return d

    def identity_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:12]

    def validate(self) -> None:
        if self.rounds < 0:
            raise ThinklabError(f"rounds must be >= 0, got {self.rounds}")
        if self.problems_per_round < 1 or self.tries < 1 or self.chunk_size < 1:
            raise ThinklabError("problems_per_round, tries and chunk_size must be >= 1")
        if self.prompt_mode not in PROMPT_MODES:
            raise ThinklabError(
                f"prompt_mode must be one of {', '.join(PROMPT_MODES)}, not {self.prompt_mode!r}"
            )
        if self.train.init_from not in INIT_FROM:
            raise ThinklabError(f"train.init_from must be one of {', '.join(INIT_FROM)}")
        for name in ("user_template", "rationalize_template"):
            if "{problem}" not in getattr(self, name):
                raise ThinklabError(f"{name} must contain {{problem}}")
        if "{answer}" not in self.rationalize_template:
            raise ThinklabError("rationalize_template must contain {answer} (the hint)")
        if self.min_steps < 0 or self.max_steps < self.min_steps:
            raise ThinklabError(f"need 0 <= min_steps <= max_steps, got {self.min_steps}, {self.max_steps}")
        for g in (self.generation, self.eval_generation):
            if g.budget_mode not in ("cap", "force-answer"):
                raise ThinklabError(f"budget_mode must be cap or force-answer, not {g.budget_mode!r}")
            if g.max_tokens < 1 or g.temperature < 0:
                raise ThinklabError("max_tokens must be >= 1 and temperature >= 0")
        if self.init is not None and not self.init.data and self.init.arith_examples < 1:
            raise ThinklabError("init needs `data` (an SFT JSONL) or `arith_examples` > 0")


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    """A dataclass from a YAML mapping, nested dataclasses included; unknown keys are errors."""
    if not isinstance(values, dict):
        raise ThinklabError(f"{where}: expected a mapping, got {type(values).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ThinklabError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(known)}")
    kwargs: dict[str, Any] = {}
    nested = {
        "generation": GenerationConfig,
        "eval_generation": GenerationConfig,
        "train": TrainConfig,
        "init": InitConfig,
    }
    for key, value in values.items():
        sub = nested.get(key)
        if sub is not None and value is not None:
            value = _build(sub, value, f"{where}.{key}")
        kwargs[key] = _coerce(value, str(known[key].type), f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ThinklabError(f"{where}: {exc}") from None


def _coerce(value: Any, kind: str, where: str) -> Any:
    """YAML reads `2e-4` as a string (YAML 1.1 wants `2.0e-4`); numbers are converted to the field's type."""
    if isinstance(value, bool) or value is None:
        return value
    try:
        if kind.startswith("float") and isinstance(value, str | int):
            return float(value)
        if kind.startswith("int") and isinstance(value, str):
            return int(value)
    except ValueError:
        raise ThinklabError(f"{where}: expected a number, got {value!r}") from None
    return value


def config_from_dict(values: dict[str, Any], where: str = "config") -> StarConfig:
    cfg = _build(StarConfig, values, where)
    # A greedy eval by default even when data generation samples.
    if "eval_generation" not in values:
        cfg.eval_generation = GenerationConfig(**{**asdict(cfg.generation), "temperature": 0.0})
    cfg.validate()
    return cfg


def apply_sets(values: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """Apply `key.sub=value` overrides (values parsed as YAML: `3`, `true`, `null`, `1e-4`, `[1, 2]`)."""
    import yaml

    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ThinklabError(f"malformed --set {item!r}: expected key=value, e.g. train.epochs=2")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ThinklabError(f"malformed --set {item!r}: the value is not valid YAML") from None
        target = values
        *parents, last = key.strip().split(".")
        for name in parents:
            node = target.get(name)
            if node is None:
                node = target[name] = {}
            if not isinstance(node, dict):
                raise ThinklabError(f"--set {item!r}: {name} is not a section")
            target = node
        target[last] = value
    return values


def load_config(path: str | Path, sets: list[str] | None = None, **overrides: Any) -> StarConfig:
    """Read a STaR YAML config; `overrides` (CLI flags) replace top-level keys, `sets` any key."""
    import yaml

    p = Path(path)
    try:
        values = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise ThinklabError(f"{p}: no such config file") from None
    except yaml.YAMLError as exc:
        raise ThinklabError(f"{p}: invalid YAML: {str(exc).splitlines()[0]}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    apply_sets(values, sets or [])
    return config_from_dict(values, str(p))
