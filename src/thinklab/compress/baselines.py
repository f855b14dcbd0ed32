"""Baselines A*-Thought is compared against.

**Step dropping at the same kept-token rate** (data baselines: fine-tune on them like on A*'s output):

- ``random``: keep a random subset of steps (in their original order) whose tokens match the target: the
  steps are shuffled with a per-sample seed and added in that order, passing over a step that would
  overshoot by more than it helps;
- ``ends``: keep the first and the last steps, alternately from each end, while that brings the kept
  tokens closer to the target.

The target for each sample is the number of thought tokens A*-Thought kept for the *same* sample (read
from its output), so the comparison is at equal length sample by sample, not only on average. A step is
added while the kept total is still below the target, so the kept count overshoots by less than one step.

**Prompt-only baselines** (the A*-Thought eval's system prompts, `methods.md` §1.7): the Sky-T1 system
prompt plus one instruction: Chain-of-Draft, BtC "Effective Shortcut", BtC "Skip Steps". They only make
sense for instruction-following models: the tiny model never saw a system prompt. Use them with any real
model via ``thinklab eval --system-prompt "$(thinklab compress-prompts cod)"``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from thinklab.errors import ThinklabError

DROP_BASELINES = ("random", "ends")

SKY_T1_SYSTEM = (
    "Your role as an assistant involves thoroughly exploring questions through a systematic long thinking "
    "process before providing the final precise and accurate solutions. This requires engaging in a "
    "comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection, backtracing, and "
    "iteration to develop well-considered thinking process. Please structure your response into two main "
    "sections: Thought and Solution. In the Thought section, detail your reasoning process using the "
    "specified format: <|begin_of_thought|> {thought with steps separated with '\n\n'} "
    "<|end_of_thought|> Each step should include detailed considerations such as analisying questions, "
    "summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the current steps, "
    "refining any errors, and revisiting previous steps. In the Solution section, based on various "
    "attempts, explorations, and reflections from the Thought section, systematically present the final "
    "solution that you deem correct. The solution should remain a logical, accurate, concise expression "
    "style and detail necessary step needed to reach the conclusion, formatted as follows: "
    "<|begin_of_solution|> {final formatted, precise, and clear solution} <|end_of_solution|> Now, try to "
    "solve the following question through the above guidelines:"
)

_INSTRUCTIONS = {
    "cod": "Think step by step, but only keep a minimum draft for each thinking step, with 5 words at most.",
    "shortcut": "Rapidly evaluate and use the most effective reasoning shortcut to answer the question.",
    "skip-steps": "Let's skip as much as possible.",
}

# The fork's YAML (`astarthought/evals/models/model_configs.yaml`) ends the Sky-T1 prompt with
# "guidelines." instead of "guidelines:" and appends the instruction after one space.
SYSTEM_PROMPTS: dict[str, str] = {
    "sky-t1": SKY_T1_SYSTEM,
    **{name: f"{SKY_T1_SYSTEM.removesuffix(':')}. {text}" for name, text in _INSTRUCTIONS.items()},
}
PROMPT_DESCRIPTIONS = {
    "sky-t1": "the Sky-T1 system prompt alone (what the A*-Thought eval gives its own models)",
    "cod": "Chain-of-Draft: Sky-T1 + 'only keep a minimum draft ... 5 words at most'",
    "shortcut": "Break-the-Chain 'Effective Shortcut': Sky-T1 + 'use the most effective reasoning shortcut'",
    "skip-steps": "Break-the-Chain 'Skip Steps': Sky-T1 + 'Let's skip as much as possible.'",
}


def system_prompt(name: str) -> str:
    if name not in SYSTEM_PROMPTS:
        raise ThinklabError(f"unknown prompt {name!r}; choose one of {', '.join(SYSTEM_PROMPTS)}")
    return SYSTEM_PROMPTS[name]


def keep_to_target(
    step_tokens: Sequence[int], target: int, order: Sequence[int], skip: bool = False
) -> list[int]:
    """Add steps in `order` until the kept tokens reach `target`; returns kept indices, sorted.

    A step is added only if the total lands at least as close to the target with it as without it, so
    the kept count is within half a step of the target. With `skip=True` a step that would overshoot too
    far is passed over and later (smaller) steps are tried; otherwise the walk stops there.
    """
    kept: list[int] = []
    total = 0
    for i in order:
        if total >= target:
            break
        if total + step_tokens[i] - target <= target - total:
            kept.append(i)
            total += step_tokens[i]
        elif not skip:
            break
    return sorted(kept)


def ends_order(n: int) -> list[int]:
    """0, n-1, 1, n-2, ...: the first and last steps first."""
    out: list[int] = []
    lo, hi = 0, n - 1
    while lo <= hi:
        out.append(lo)
        if hi != lo:
            out.append(hi)
        lo, hi = lo + 1, hi - 1
    return out


def drop_steps(
    steps: Sequence[str],
    target_tokens: int,
    method: str,
    count_tokens: Callable[[str], int],
    seed: int | str = 0,
) -> list[int]:
    """Indices of the steps a drop baseline keeps to reach `target_tokens` thought tokens."""
    if method not in DROP_BASELINES:
        raise ThinklabError(f"unknown baseline {method!r}; choose one of {', '.join(DROP_BASELINES)}")
    n = len(steps)
    sizes = [count_tokens(s) for s in steps]
    if method == "ends":
        order = ends_order(n)
    else:
        order = list(range(n))
        random.Random(f"drop-{seed}").shuffle(order)
    return keep_to_target(sizes, target_tokens, order, skip=method == "random")


# --------------------------------------------------------------------------- data baselines as files


def run_drop_baseline(
    data: str,
    like: str,
    out: str,
    method: str = "random",
    *,
    fmt: str | None = None,
    out_format: str = "messages",
    step_sep: str = "\n\n",
    step_regex: str | None = None,
    tokenizer: str = "tiny",
    seed: int = 0,
) -> dict:
    """Write a drop baseline of the traces in `data`, matched sample by sample to the kept thought tokens of
    an A*-Thought output `like` (same ids); returns a summary (also written to `<out>.summary.json`)."""
    import json
    from pathlib import Path
    from statistics import mean

    from transformers import AutoTokenizer

    from thinklab.compress.data import load_items, output_row
    from thinklab.compress.steps import StepSplitter
    from thinklab.data.jsonl import read_jsonl, write_jsonl
    from thinklab.data.traces import trace_from_row
    from thinklab.models import resolve_model_path

    if method not in DROP_BASELINES:
        raise ThinklabError(f"unknown baseline {method!r}; choose one of {', '.join(DROP_BASELINES)}")
    tok = AutoTokenizer.from_pretrained(resolve_model_path(tokenizer, weights=False))

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    splitter = StepSplitter(step_sep, step_regex)
    sep_cost = count(splitter.join_with)
    compressed = {}
    rows = read_jsonl(like)
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        if "id" not in row:
            raise ThinklabError(f"{like}:{lineno}: an A*-Thought output row needs its `id`")
        trace, _ = trace_from_row(row, fmt)
        compressed[str(row["id"])] = trace.thought or ""
    written = []
    for item in load_items(data, fmt):
        if item.key not in compressed or not item.trace.finished:
            continue
        steps = splitter.split(item.trace.thought or "")
        target = count(compressed[item.key]) + sep_cost  # n steps carry n-1 separators
        kept = drop_steps(steps, target, method, lambda s: count(s) + sep_cost, seed=f"{seed}-{item.key}")
        thought = splitter.join(steps, kept)
        n_orig, n_new = count(item.trace.thought or ""), count(thought)
        stats = {
            "rate": round(n_new / n_orig, 4) if n_orig else 1.0,
            "status": f"baseline-{method}",
            "kept_steps": kept,
            "total_steps": len(steps),
            "original_tokens": n_orig,
            "compressed_tokens": n_new,
            "target_tokens": target - sep_cost,
        }
        written.append(output_row(item, thought, out_format, stats))
    if not written:
        raise ThinklabError(f"no trace of {data} has an id found in {like}")
    write_jsonl(out, written)
    orig = sum(r["original_tokens"] for r in written)
    summary = {
        "method": method,
        "data": data,
        "like": like,
        "tokenizer": tokenizer,
        "seed": seed,
        "compressed": len(written),
        "mean_rate": round(mean(r["rate"] for r in written), 4),
        "token_rate": round(sum(r["compressed_tokens"] for r in written) / orig, 4) if orig else None,
        "target_token_rate": round(sum(r["target_tokens"] for r in written) / orig, 4) if orig else None,
    }
    Path(f"{out}.summary.json").write_text(json.dumps(summary, indent=2))
    return summary
