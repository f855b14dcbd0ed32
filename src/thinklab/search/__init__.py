"""Test-time scaling: sampling strategies, a value model, value-guided block search and DVTS.

Strategies are small functions over the shared backend interface (`thinklab.backends`), with compute
counted identically for all (generated tokens, blocks, value-model tokens):

- `run_sampling("single" | "majority" | "weighted" | "bon", backend, prompts, n, ...)`;
- `beam_search(backend, prompts, value_fn, params, BeamConfig(...), extract)` and `dvts(...)`;
- `ValueModel` / `ValueFunction` (VGS's token-level classifier head), trained by `run_train_value`
  on rollouts made by `build_rollouts`;
- `run_search(SearchConfig(...))`: the budget sweep behind `thinklab search`.

s1 budget forcing lives in `thinklab.backends.forcing` and applies to every sampling strategy.
"""

from thinklab.search.beam import BeamConfig, beam_search, beam_search_trees, dvts, pool_result
from thinklab.search.strategies import (
    SAMPLING_STRATEGIES,
    Candidate,
    StrategyResult,
    aggregate,
    logprob_scorer,
    run_sampling,
    sample_candidates,
    score_candidates,
)
from thinklab.search.vote import VoteResult, best_of_n, majority, tally, weighted_majority

__all__ = [
    "SAMPLING_STRATEGIES",
    "BeamConfig",
    "Candidate",
    "StrategyResult",
    "VoteResult",
    "aggregate",
    "beam_search",
    "beam_search_trees",
    "best_of_n",
    "dvts",
    "logprob_scorer",
    "majority",
    "pool_result",
    "run_sampling",
    "sample_candidates",
    "score_candidates",
    "tally",
    "weighted_majority",
]
