"""AutoThink's three RL stages as presets: the authors' full-scale settings and a CPU-sized version.

Full scale (`scripts/train/train_stage{1,2,3}.sh` in TU2021/AutoThink, GRPO in verl; methods.md §2):

| stage | alpha / beta | gamma | prompts / rollout | max response | GPUs |
|---|---|---|---|---|---|
| 1 stabilise both modes | 0 / 0 | 0.5 | 128 | 8192 | 4 x 8 |
| 2 reinforce accuracy | 0 / 0 | 1.0 (off) | 64 | 16384 | 2 x 8 |
| 3 prune length | 0.05 / 0.05 | 1.0 | 64 | 24576 | 2 x 8 |

All stages: 8 rollouts per prompt at T=0.6, lr 1e-6, clip 0.2/0.2, no KL, PPO mini-batch of 64 prompts
(so stage 1 takes two optimizer steps per rollout batch, stages 2-3 one), 2 epochs over the data.

The CPU presets keep every reward coefficient and the sampling temperature, and shrink what costs time:
4 prompts x 8 completions per step, completions capped at 448 tokens (the tiny model's longest arith
trace is ~410), a few dozen steps per stage, and a learning rate of 5e-5 (chosen, not swept: 1/6 of the starting
policy's SFT rate, so that ~100 steps can move a 3.5M-parameter model's think / no-think choice; the
authors' 1e-6 is for a 1.5B model and thousands of steps; docs/autothink.md has the run). They are a demonstration of the pipeline, not of the authors' scale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from thinklab.errors import ThinklabError


@dataclass(frozen=True)
class StagePreset:
    stage: int
    alpha: float
    beta: float
    gamma: float
    prompts_per_rollout: int  # distinct prompts per generation batch (verl's train_batch_size)
    prompts_per_update: int  # prompts per optimizer step (verl's ppo_mini_batch_size)
    num_generations: int
    max_completion_length: int
    temperature: float
    learning_rate: float
    epochs: float = 2.0
    max_steps: int = -1  # optimizer steps; -1 = run `epochs` over the prompts
    epsilon: float = 0.2
    max_prompts: int | None = None  # train on the first N prompts of the task (None = all)

    @property
    def completions_per_update(self) -> int:
        return self.prompts_per_update * self.num_generations

    @property
    def updates_per_rollout(self) -> int:
        return self.prompts_per_rollout // self.prompts_per_update


def _full(stage: int, alpha: float, gamma: float, prompts: int, max_len: int) -> StagePreset:
    return StagePreset(
        stage=stage, alpha=alpha, beta=alpha, gamma=gamma, prompts_per_rollout=prompts,
        prompts_per_update=64, num_generations=8, max_completion_length=max_len, temperature=0.6,
        learning_rate=1e-6, epochs=2.0,
    )  # fmt: skip


def _cpu(stage: int, alpha: float, gamma: float, steps: int) -> StagePreset:
    return StagePreset(
        stage=stage, alpha=alpha, beta=alpha, gamma=gamma, prompts_per_rollout=4, prompts_per_update=4,
        num_generations=8, max_completion_length=448, temperature=0.6, learning_rate=5e-5, max_steps=steps,
    )  # fmt: skip


PRESETS: dict[str, dict[int, StagePreset]] = {
    "full": {
        1: _full(1, 0.0, 0.5, 128, 8192),
        2: _full(2, 0.0, 1.0, 64, 16384),
        3: _full(3, 0.05, 1.0, 64, 24576),
    },
    "cpu": {
        1: _cpu(1, 0.0, 0.5, 30),
        2: _cpu(2, 0.0, 1.0, 40),
        3: _cpu(3, 0.05, 1.0, 30),
    },
}


def stage_preset(stage: int, preset: str = "cpu", **overrides: object) -> StagePreset:
    """The settings of one stage; keyword overrides (None values ignored) replace preset fields."""
    if preset not in PRESETS:
        raise ThinklabError(f"unknown AutoThink preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if stage not in PRESETS[preset]:
        raise ThinklabError(f"AutoThink has stages 1, 2 and 3, not {stage!r}")
    fields = {k: v for k, v in overrides.items() if v is not None}
    return replace(PRESETS[preset][stage], **fields)
