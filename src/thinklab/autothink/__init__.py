"""AutoThink: teach an R1-style model *when* to think (ellipsis prompt + three-stage GRPO).

- `rewards`: the reward (`autothink_rewards`, pure) and TRL reward functions (`AutoThinkReward`,
  `CorrectnessLengthReward`);
- `stages`: the three stage presets (the authors' full-scale settings and CPU-sized ones);
- `data`: the starting policy's SFT mixture and GRPO prompt rows;
- `grpo`: `run_grpo(GRPORunConfig)`, TRL's GRPOTrainer for one stage (`thinklab train grpo`);
- `report`: per-stage think-rate / accuracy / token reports from `thinklab eval` summaries;
- `verl`: `compute_score` adapters for verl's reward managers.
"""

from thinklab.autothink.rewards import (
    AutoThinkReward,
    CorrectnessLengthReward,
    SampleScore,
    autothink_rewards,
    batch_balance,
    consecutive_group_ids,
    length_shaping,
    sample_score,
)
from thinklab.autothink.stages import PRESETS, StagePreset, stage_preset

__all__ = [
    "PRESETS",
    "AutoThinkReward",
    "CorrectnessLengthReward",
    "SampleScore",
    "StagePreset",
    "autothink_rewards",
    "batch_balance",
    "consecutive_group_ids",
    "length_shaping",
    "sample_score",
    "stage_preset",
]
