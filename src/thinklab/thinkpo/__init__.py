"""ThinkPO: after SFT, prefer long correct reasoning over short correct reasoning with DPO.

`pairs` builds TRL preference rows from two sets of graded responses to the same problems (chosen =
the long correct trace, rejected = the short correct one) and selects them by length gap; `dpo` runs
TRL's `DPOTrainer` with the same prompt/completion conventions as `thinklab train sft`.
"""

from thinklab.thinkpo.dpo import DPORunConfig, run_dpo
from thinklab.thinkpo.pairs import (
    GAP_BUCKETS,
    PairsConfig,
    PairsResult,
    Response,
    ThinkPOPair,
    build_pairs,
    load_responses,
    make_pairs,
    select_by_gap,
)

__all__ = [
    "GAP_BUCKETS",
    "DPORunConfig",
    "PairsConfig",
    "PairsResult",
    "Response",
    "ThinkPOPair",
    "build_pairs",
    "load_responses",
    "make_pairs",
    "run_dpo",
    "select_by_gap",
]
