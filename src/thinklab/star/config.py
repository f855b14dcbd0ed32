"""The STaR loop's configuration: one YAML file (`recipes/*/star.yaml`) ↔ `StarConfig`.

Defaults follow QT-R1 (`configs/star.yml`, `star_test_100_v3.py`, methods.md §5) where they are about
the method: its system prompt, user prompt, rationalisation hint, the ≤8-step `Final:` format, greedy
generation with one try, top_p 0.95 / top_k 50 when sampling, LoRA r 16 / α 32 / dropout 0.05 and
lr 2e-4 for training. The tiny-model recipe (`recipes/tiny/star.yaml`) overrides the prompts and sizes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from thinklab.config import apply_sets, from_mapping, load_yaml, option
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

    max_tokens: int = option(384, "Token cap per response (thinking budget under force-answer).")
    temperature: float = option(0.0, "Sampling temperature (0: greedy).")
    top_p: float = option(0.95, "Nucleus sampling (QT-R1: 0.95 when sampling).")
    top_k: int = option(50, "Top-k sampling (QT-R1: 50 when sampling).")
    budget_mode: str = option("cap", "cap | force-answer (s1).")
    answer_tokens: int = option(32, "Answer allowance after a forced close.")
    extend: int = option(0, "s1: times to replace the end of thinking with extend_str.")
    extend_str: str = option("Wait", "String appended when thinking is extended.")


@dataclass
class TrainConfig:
    """SFT of each round (thinklab.train.sft). `init_from: start` re-trains the starting model on all
    merged data every round (STaR paper, which avoids drifting on its own outputs); `previous` continues
    from last round's model (QT-R1, which continues its LoRA adapter)."""

    init_from: str = option("start", "start (STaR: retrain the base each round) | previous (QT-R1).")
    epochs: float = option(1.0, "Training epochs (ignored when max_steps > 0).")
    max_steps: int = option(-1, "Optimizer steps (overrides epochs).")
    batch_size: int = option(8, "Per-device batch size.")
    grad_accum: int = option(1, "Gradient accumulation steps.")
    learning_rate: float = option(2e-4, "Peak learning rate (QT-R1: 2e-4).")
    lr_scheduler: str = option("cosine", "Learning-rate schedule.")
    warmup_ratio: float = option(0.05, "Warmup as a fraction of the steps.")
    max_length: int = option(2048, "Longest training sequence in tokens.")
    lora: bool = option(False, "Train a LoRA adapter (QT-R1: yes).")
    lora_r: int = option(16, "LoRA rank.")
    lora_alpha: int = option(32, "LoRA alpha.")
    lora_dropout: float = option(0.05, "LoRA dropout.")
    seed: int = option(42, "Seed.")
    extra_args: dict = option(factory=dict, help="Any other TRL SFTConfig field.")


@dataclass
class InitConfig:
    """Optional warm start before round 1: SFT the base model on `data` (any SFT JSONL), or, for the
    tiny preset, on `arith_examples` reference traces in the STaR format rendered from the arith train
    split (a `hint_fraction` of them with the rationalisation hint in the user turn, so the model has
    seen what a hint looks like)."""

    data: str | None = option(None, "SFT JSONL to warm-start on.")
    arith_examples: int = option(0, "Tiny model: reference traces from the arith train split.")
    arith_style: str = option("verbose", "verbose | steps | rambling (thinklab.star.tiny).")
    hint_fraction: float = option(0.0, "Share of warm-start rows with the rationalisation hint.")
    seed: int = option(7, "Seed.")
    train: TrainConfig = option(factory=TrainConfig, help="SFT settings of the warm start.")


@dataclass
class StarConfig:
    """`thinklab star`: the STaR loop (QT-R1): generate, verify, rationalise, merge, fine-tune, evaluate."""

    out: str = option("runs/star", "Run directory (rounds, data, models, report).")
    base_model: str = option("tiny", "Starting model: hub id, local dir, or `tiny`.")
    rounds: int = option(3, "Rounds (a finished run takes more with --resume).")
    seed: int = option(0, "Seed of problem sampling and generation.")
    resume: bool = option(False, "Continue the run in out at the stage where it stopped.")
    overwrite: bool = option(False, "Delete out and start over.")
    # problems: the training pool and the held-out set
    task: str = option("arith:train", "Training pool: registry name or jsonl:PATH.")
    data_dir: str | None = option(None, "Benchmark data folder (else $THINKLAB_DATA_DIR).")
    pool_limit: int | None = option(None, "Only the first N problems of the pool.")
    problems_per_round: int = option(600, "Problems generated per round (QT-R1's n).")
    skip_solved: bool = option(True, "Problems already in the merged data are not generated again.")
    tries: int = option(1, "Attempts per problem, stopping at the first verified one.")
    # all tries of a phase in one batched call (n samples per prompt), the first verified kept: the same
    # choice as trying one at a time, at the cost of the attempts a sequential loop would have skipped,
    # but without one decoding pass per try over an ever smaller batch (the slow part on CPU and GPU alike)
    parallel_tries: bool = option(True, "All tries of a phase in one batched call (same choice, faster).")
    rationalize: bool = option(True, "Retry failures with the answer as a hint (STaR's rationalisation).")
    rationalize_tries: int = option(1, "Attempts per rationalisation.")
    eval_task: str = option("math500", "Held-out task evaluated after each round.")
    eval_limit: int | None = option(None, "Only the first N held-out problems.")
    # the verifier
    max_steps: int = option(8, "Verifier: at most this many numbered steps.")
    min_steps: int = option(2, "Verifier: at least this many numbered steps.")
    check_equations: bool = option(False, "Verifier: also check the arithmetic of `a op b = c` lines.")
    # prompts
    system_prompt: str | None = option(QTR1_SYSTEM, "System prompt (QT-R1's by default).")
    prompt_template: str = option(
        QTR1_USER, "User message: a template name or text with {problem} (QT-R1's by default)."
    )
    rationalize_template: str = option(
        QTR1_RATIONALIZE, "Rationalisation message with {problem} and {answer} (the hint)."
    )
    prompt_mode: str = option("plain", "standard | no-think | ellipsis | plain (chat template, no prefill).")
    # generation (data) and held-out evaluation (greedy by default)
    generation: GenerationConfig = option(factory=GenerationConfig, help="Data generation settings.")
    eval_generation: GenerationConfig | None = option(
        None, "Held-out evaluation settings (default: generation's, greedy)."
    )
    train: TrainConfig = option(factory=TrainConfig, help="SFT of each round.")
    init: InitConfig | None = option(None, "Optional warm start before round 1.")
    backend: str = option("hf", "hf | vllm | openai | ray.")
    backend_args: str = option("", "k=v list passed to the backend.")
    chunk_size: int = option(64, "Problems per generation call.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")

    def __post_init__(self) -> None:
        from thinklab.prompting.modes import resolve_template

        self.prompt_template = resolve_template(self.prompt_template, QTR1_USER)  # a name or text
        if self.eval_generation is None:  # a greedy eval by default, even when data generation samples
            self.eval_generation = GenerationConfig(**{**asdict(self.generation), "temperature": 0.0})
        self.validate()

    def identity(self) -> dict[str, Any]:
        """Everything that changes results; `rounds`, `out` and the run controls are left out so a
        finished run can be extended with more rounds by `--resume`."""
        d = asdict(self)
        for key in ("rounds", "out", "resume", "overwrite"):
            d.pop(key)
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
        for name in ("prompt_template", "rationalize_template"):
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


def config_from_dict(values: dict[str, Any], where: str = "config") -> StarConfig:
    return from_mapping(StarConfig, values, where)


def load_config(path: str | Path, sets: list[str] | None = None, **overrides: Any) -> StarConfig:
    """Read a STaR YAML config; `overrides` replace top-level keys, `sets` (`key.sub=value`) any key."""
    values = load_yaml(path)
    values.update({k: v for k, v in overrides.items() if v is not None})
    apply_sets(values, sets or [])
    return config_from_dict(values, str(path))
