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

from importlib import import_module
from typing import Any

# Lazy exports (PEP 562): the CLI's --help import no model code.
_EXPORTS = {
    "DROP_BASELINES": "baselines",
    "SYSTEM_PROMPTS": "baselines",
    "drop_steps": "baselines",
    "run_drop_baseline": "baselines",
    "system_prompt": "baselines",
    "BISScorer": "bis",
    "ScorerConfig": "bis",
    "StepScores": "bis",
    "bis_formula": "bis",
    "score_jobs": "bis",
    "CompressConfig": "runner",
    "run_compress": "runner",
    "AStarConfig": "search",
    "SearchResult": "search",
    "astar_search": "search",
    "run_lockstep": "search",
    "StepSplitter": "steps",
    "Sample": "validator",
    "Validator": "validator",
    "ValidatorConfig": "validator",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"thinklab.compress.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'thinklab.compress' has no attribute {name!r}")


__all__ = [
    "DROP_BASELINES",
    "SYSTEM_PROMPTS",
    "AStarConfig",
    "BISScorer",
    "CompressConfig",
    "Sample",
    "ScorerConfig",
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
