"""QT-R1's STaR loop with s1-style test-time compute: generate → verify → rationalise → merge →
fine-tune → evaluate, repeated, resumable at every stage (see `loop.py` for the run-dir layout)."""

from thinklab.star.config import (
    GenerationConfig,
    InitConfig,
    StarConfig,
    TrainConfig,
    config_from_dict,
    load_config,
)
from thinklab.star.loop import StarRun, generation_stats, heldout_metrics, load_reports, run_star
from thinklab.star.verify import Verdict, equations_hold, reasoning_lines, verify

__all__ = [
    "GenerationConfig",
    "InitConfig",
    "StarConfig",
    "StarRun",
    "TrainConfig",
    "Verdict",
    "config_from_dict",
    "equations_hold",
    "generation_stats",
    "heldout_metrics",
    "load_config",
    "load_reports",
    "reasoning_lines",
    "run_star",
    "verify",
]
