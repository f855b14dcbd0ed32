"""A*-Thought: compress long chains of thought with bidirectional importance scores and A* search.

Pieces (each usable on its own):

- `steps.StepSplitter`: thought → steps (blank-line paragraphs by default) and back;
- `bis.BISScorer` / `bis.score_jobs`: bidirectional importance of each step (attention + NLL towards the
  question and the solution) with a small scorer LM, cached and parallel;
- `validator.Validator`: path costs g, h and the answer check, over any backend, batched;
- `search.astar_search` / `search.run_lockstep`: the seed's greedy A* search, many samples in lockstep;
- `runner.run_compress(CompressConfig)`: the whole pipeline (`thinklab compress`), resumable;
- `baselines`: random / first-and-last step dropping at A*'s kept-token rate, and the eval's
  prompt-only baselines (Chain-of-Draft, skip-steps system prompts).
"""

from thinklab.compress.baselines import (
    DROP_BASELINES,
    SYSTEM_PROMPTS,
    drop_steps,
    run_drop_baseline,
    system_prompt,
)
from thinklab.compress.bis import BISScorer, ScorerConfig, StepScores, bis_formula, score_jobs
from thinklab.compress.runner import CompressConfig, run_compress
from thinklab.compress.search import SearchConfig, SearchResult, astar_search, run_lockstep
from thinklab.compress.steps import StepSplitter
from thinklab.compress.validator import Sample, Validator, ValidatorConfig

__all__ = [
    "DROP_BASELINES",
    "SYSTEM_PROMPTS",
    "BISScorer",
    "CompressConfig",
    "Sample",
    "ScorerConfig",
    "SearchConfig",
    "SearchResult",
    "StepScores",
    "StepSplitter",
    "Validator",
    "ValidatorConfig",
    "astar_search",
    "bis_formula",
    "drop_steps",
    "run_compress",
    "run_drop_baseline",
    "run_lockstep",
    "score_jobs",
    "system_prompt",
]
