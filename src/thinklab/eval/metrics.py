"""Metrics per budget, each a small pure function over sample records (formulas in docs/metrics.md).

A sample record is a dict with at least `id`, `gold`, `correct` (bool), `tokens` (response tokens),
`thinking_tokens`, `finish_reason`, `think` (bool: did it think), `format_ok` (bool), `pred` (str|None).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from statistics import mean


def by_problem(records: Sequence[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[r["id"]].append(r)
    return groups


def accuracy(records: Sequence[dict]) -> float:
    """Mean correctness over problems of the per-problem mean over its `n` samples (avg@n)."""
    groups = by_problem(records)
    return mean(mean(float(s["correct"]) for s in g) for g in groups.values()) if groups else 0.0


def accuracy_stderr(records: Sequence[dict]) -> float:
    """Standard error of `accuracy` across problems: std(per-problem means, ddof=1) / sqrt(#problems)."""
    per = [mean(float(s["correct"]) for s in g) for g in by_problem(records).values()]
    if len(per) < 2:
        return 0.0
    m = mean(per)
    return math.sqrt(sum((x - m) ** 2 for x in per) / (len(per) - 1) / len(per))


def pass_at_k_one(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with `n` samples of which `c` are correct (Chen et al. 2021):
    1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def pass_at_k(records: Sequence[dict], k: int) -> float:
    groups = by_problem(records)
    return mean(pass_at_k_one(len(g), sum(bool(s["correct"]) for s in g), k) for g in groups.values())


def majority_vote(
    preds: Sequence[str | None],
    equivalent: Callable[[str, str], bool],
    weights: Sequence[float] | None = None,
) -> str | None:
    """The answer whose equivalence class has the largest (weighted) count; ties go to the class seen
    first. Answers are grouped by `equivalent`, not by string equality, so `0.5` and `\\frac12` vote together."""
    weights = weights if weights is not None else [1.0] * len(preds)
    classes: list[tuple[str, float]] = []
    for p, w in zip(preds, weights, strict=True):
        if p is None:
            continue
        for idx, (rep, total) in enumerate(classes):
            if p == rep or equivalent(rep, p):
                classes[idx] = (rep, total + w)
                break
        else:
            classes.append((p, w))
    if not classes:
        return None
    best = max(range(len(classes)), key=lambda i: (classes[i][1], -i))
    return classes[best][0]


def maj_at_k(records: Sequence[dict], k: int, equivalent: Callable[[str, str], bool]) -> float:
    """Share of problems whose majority answer over the first `k` samples equals the gold answer."""
    scores = []
    for g in by_problem(records).values():
        g = sorted(g, key=lambda s: s.get("sample", 0))[:k]
        winner = majority_vote([s.get("pred") for s in g], equivalent)
        scores.append(float(winner is not None and equivalent(g[0]["gold"], winner)))
    return mean(scores) if scores else 0.0


def mean_of(records: Sequence[dict], key: str) -> float:
    return mean(float(r[key]) for r in records) if records else 0.0


def truncation_rate(records: Sequence[dict]) -> float:
    """Share of samples that hit the token budget instead of finishing."""
    return mean(float(r["finish_reason"] == "length") for r in records) if records else 0.0


def acu(acc: float, mean_tokens: float) -> float:
    """A*-Thought's table form: 100 x accuracy / mean response tokens (accuracy as a fraction)."""
    return 100.0 * acc / mean_tokens if mean_tokens > 0 else 0.0


def acu_params(acc: float, mean_tokens: float, n_params: int | None) -> float | None:
    """CoT-Valve's original ACU: accuracy / (#params x #tokens), with params in billions so values are
    readable (CoT-Valve reports accuracy/(params[B] x tokens) scaled by 100)."""
    if not n_params or mean_tokens <= 0:
        return None
    return 100.0 * acc / ((n_params / 1e9) * mean_tokens)


def summarize(
    records: Sequence[dict],
    equivalent: Callable[[str, str], bool],
    n_params: int | None = None,
    ks: Sequence[int] | None = None,
) -> dict:
    """All metrics for one budget's records."""
    if not records:
        return {}
    n = min(len(g) for g in by_problem(records).values())
    ks = ks or sorted({k for k in (1, 2, 4, 8, 16, 32, 64) if k <= n} | {n})
    acc = accuracy(records)
    tokens = mean_of(records, "tokens")
    out = {
        "problems": len(by_problem(records)),
        "samples": len(records),
        "accuracy": acc,
        "accuracy_stderr": accuracy_stderr(records),
        "mean_tokens": tokens,
        "mean_thinking_tokens": mean_of(records, "thinking_tokens"),
        "truncation_rate": truncation_rate(records),
        # Samples not generated because the prompt left less room in the context than the budget:
        # scored wrong (their problems stay in every rate), and counted here so that is visible.
        "prompt_too_long": sum(r["finish_reason"] == "prompt_too_long" for r in records),
        "think_rate": mean_of(records, "think"),
        "format_pass": mean_of(records, "format_ok"),
        "acu": acu(acc, tokens),
        "acu_params": acu_params(acc, tokens, n_params),
    }
    for k in ks:
        out[f"pass@{k}"] = pass_at_k(records, k)
    if n > 1:
        out[f"maj@{n}"] = maj_at_k(records, n, equivalent)
    return out
