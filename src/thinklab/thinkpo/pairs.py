"""ThinkPO preference pairs: the same problem solved correctly at length (chosen) and briefly (rejected).

ThinkPO (methods.md §4) takes a long chain-of-thought response as *chosen* and a short one from another
model as *rejected*, keeps a pair only when both answers are correct, and selects pairs by how much longer
the chosen one is. This module does that from any two sets of responses:

- a *long* set and a *short* set (files, eval run dirs, or sampled here from one or two models), matched
  by problem; per problem the longest correct long response is chosen and the shortest correct short
  response is rejected;
- or one set alone (several samples per problem): longest correct vs shortest correct.

Both sides are graded by `thinklab.grading.grade` (extract the answer after the thinking block, compare
with the gold answer), so "correct" means the same thing everywhere in thinklab.

Gap selection: `gap = len(chosen) - len(rejected)` in tokens. The seed writes the 1000 pairs with the
smallest, middle and largest gaps to three files; here `select` picks one bucket (`short`, `middle`,
`long`, or `all`) and `size` its size (default: a third of the pairs). Deviation: the seed computes
`len(rej) - len(cho)` and then swaps chosen and rejected in that script (methods.md flags the orientation
as unclear); here the orientation is explicit (chosen is always the longer one) and only pairs with
`gap >= min_gap` are kept, so a pair can never teach the opposite of what ThinkPO intends.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from thinklab.config import option
from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.writers import Pair, example_from_row, split_chat, to_dpo
from thinklab.errors import DataError, ThinklabError
from thinklab.prompting.modes import FORMATS

GAP_BUCKETS = ("all", "short", "middle", "long")
PAIR_FORMATS = ("conversational", "plain")


@dataclass
class Response:
    """One graded response: `text` is the full assistant turn (thinking prefill included)."""

    key: str  # problem id (or the problem text when rows carry no id)
    problem: str
    gold: str
    text: str
    tokens: int | None = None  # as recorded by the generator, if it did
    length: int = 0  # the length used for pairing (filled by `measure`)
    correct: bool | None = None
    origin: str = ""  # file:line or model, for error messages and provenance


@dataclass
class ThinkPOPair:
    key: str
    problem: str
    gold: str
    chosen: Response
    rejected: Response

    @property
    def gap(self) -> int:
        return self.chosen.length - self.rejected.length

    def to_row(self, system: str | None = None, fmt: str = "conversational") -> dict[str, Any]:
        """TRL's explicit-prompt preference row plus provenance fields (ignored by trainers)."""
        if fmt not in PAIR_FORMATS:
            raise ThinklabError(f"unknown pair format {fmt!r}; choose one of {', '.join(PAIR_FORMATS)}")
        pair = Pair(self.problem, self.chosen.text, self.rejected.text, system)
        try:
            row = to_dpo(pair, conversational=fmt == "conversational")
        except ValueError as exc:
            raise ThinklabError(str(exc)) from None
        row.update(
            id=self.key,
            gold=self.gold,
            chosen_length=self.chosen.length,
            rejected_length=self.rejected.length,
            gap=self.gap,
        )
        return row


@dataclass
class PairsConfig:
    """Where the two sides come from, how pairs are filtered, and where they go.

    Each side is a file / run dir (`long`, `short`) or a model to sample from (`long_model`,
    `short_model`, with `task`, `n`, `sampling`, `max_tokens`). Without a short side, pairs come from the
    long side alone (longest vs shortest correct sample of each problem).
    """

    out: str = option("runs/thinkpo/pairs.jsonl", "Output JSONL of pairs.")
    long: str | None = option(None, "Long responses: JSONL or a `thinklab eval` run dir.")
    short: str | None = option(
        None, "Short responses (same problems). Omit both short options to pair within the long side."
    )
    long_model: str | None = option(None, "Sample the long side from this model instead.")
    short_model: str | None = option(None, "Sample the short side from this model instead.")
    task: str | None = option(
        None, "Task to sample on, and to look up problems/answers by id (e.g. arith:train)."
    )
    data_dir: str | None = option(None, "Benchmark data folder for task.")
    limit: int | None = option(None, "Only the first N problems of task when sampling.")
    n: int = option(1, "Samples per problem when sampling.")
    sampling: str = option("", "k=v list for sampling, e.g. temperature=0.7,top_p=0.9.")
    max_tokens: int = option(1024, "Token budget per sampled response.")
    prompt_mode: str = option("standard", "standard | no-think | ellipsis (when sampling).")
    backend: str = option("hf", "hf | vllm | openai | ray (when sampling).")
    backend_args: str = option("", "k=v list passed to the backend.")
    seed: int = option(0, "Sampling seed.")
    samples_dir: str | None = option(None, "Run dirs of the sampled sides (default: <out dir>/samples).")
    system_prompt: str | None = option(None, "System prompt to attach to every pair (and to sample with).")
    tokenizer: str | None = option(
        None, "Measure lengths in this model's tokens (default: recorded token counts, else words)."
    )
    min_gap: int = option(1, "Chosen must be at least this much longer than rejected.")
    min_ratio: float = option(1.0, "...and at least this many times as long.")
    select: str = option("all", "Length-gap bucket: all | short | middle | long.")
    size: int | None = option(None, "Pairs in the bucket (default: a third of them; seed 1000).")
    out_format: str = option("conversational", "conversational (message lists) | plain (strings).")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")


@dataclass
class PairsResult:
    path: Path
    stats: dict[str, Any]
    pairs: list[ThinkPOPair] = field(repr=False, default_factory=list)


# ----------------------------------------------------------------------------- reading responses


# The open markers of every family (`<think>`, s1's `<|im_start|>think`): where a stored prompt's prefill starts.
_OPEN_MARKERS = tuple(sorted({f.open for f in FORMATS.values()}))


def _prefill_of(prompt: Any, response: str) -> str:
    """The part of the assistant turn that was pre-filled in the prompt (e.g. `<think>\\n`, or s1's
    `<|im_start|>think\\n`).

    thinklab's eval samples store the response *after* the prefill; the DPO completion must be the whole
    assistant turn, as in `train sft`, so the prefill is recovered from the stored prompt.
    """
    if response.lstrip().startswith(_OPEN_MARKERS):
        return ""
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict):
        last = prompt[-1]
        if str(last.get("role", last.get("from", ""))).lower() in ("assistant", "gpt"):
            return str(last.get("content", last.get("value", "")))
        return ""
    if isinstance(prompt, str):
        at = max(prompt.rfind(marker) for marker in _OPEN_MARKERS)
        if at >= 0:
            return prompt[at:]
    return ""


def _problem_of(row: dict[str, Any]) -> str | None:
    for k in ("problem", "question"):
        if isinstance(row.get(k), str):
            return row[k]
    prompt = row.get("prompt")
    if isinstance(prompt, list):
        try:
            return split_chat(prompt)[1]
        except ValueError:
            return None
    return None


def _task_index(task: str | None, data_dir: str | None) -> dict[str, Any]:
    if not task:
        return {}
    from thinklab.tasks.registry import get_task

    t = get_task(task)
    return {p.id: p for p in t.problems(Path(data_dir) if data_dir else None)}


def response_from_row(row: dict[str, Any], origin: str, index: dict[str, Any]) -> Response:
    """A Response from one row in any shape thinklab writes: eval samples, {problem, response, answer},
    or SFT rows (messages / sharegpt / alpaca) with a gold `answer`."""
    if "messages" in row or "conversations" in row or ("instruction" in row and "output" in row):
        ex = example_from_row(row)
        problem, text = ex.user_content, ex.response
    else:
        problem = _problem_of(row)
        text = next(
            (row[k] for k in ("response", "output", "completion") if isinstance(row.get(k), str)), None
        )
        if text is None:
            raise ValueError(f"no response field (response/output/completion); keys {sorted(row)}")
        text = _prefill_of(row.get("prompt"), text) + text
    key = str(row.get("id", row.get("problem_id", "")) or "")
    known = index.get(key)
    if problem is None and known is not None:
        problem = known.problem
    if problem is None:
        raise ValueError(
            "no problem text (problem/question field or chat prompt); pass the task to look ids up"
        )
    gold = row.get("gold", row.get("answer"))
    if gold is None and known is not None:
        gold = known.answer
    if gold is None or str(gold).strip() == "":
        raise ValueError("no gold answer (gold/answer field); pass the task to look ids up")
    tokens = row.get("tokens")
    return Response(
        key=key or problem,
        problem=problem,
        gold=str(gold),
        text=text,
        tokens=tokens if isinstance(tokens, int) else None,
        origin=origin,
    )


def load_responses(path: str | Path, task: str | None = None, data_dir: str | None = None) -> list[Response]:
    """Responses from a JSONL file or a `thinklab eval` run dir (its samples.jsonl)."""
    p = Path(path)
    if p.is_dir():
        p = p / "samples.jsonl"
    rows = read_jsonl(p)
    index = _task_index(task, data_dir)
    out = []
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        try:
            out.append(response_from_row(row, f"{p}:{lineno}", index))
        except (ValueError, TypeError) as exc:
            raise DataError(f"{p}:{lineno}: {exc}") from None
    if not out:
        raise DataError(f"{p}: no responses")
    return out


def sample_responses(model: str, cfg: PairsConfig, tag: str) -> list[Response]:
    """Sample `cfg.n` responses per problem of `cfg.task` from `model` with thinklab's eval runner (so
    sampling is batched, seeded per chunk, graded and resumable), and read them back."""
    from thinklab.eval.runner import EvalConfig, run_eval

    if not cfg.task:
        raise ThinklabError("sampling responses from a model needs --task")
    samples = Path(cfg.samples_dir) if cfg.samples_dir else Path(cfg.out).parent / "samples"
    result = run_eval(
        EvalConfig(
            model=model,
            task=cfg.task,
            budgets=(cfg.max_tokens,),
            n=cfg.n,
            sampling=cfg.sampling,
            prompt_mode=cfg.prompt_mode,
            backend=cfg.backend,
            backend_args=cfg.backend_args,
            limit=cfg.limit,
            seed=cfg.seed,
            out=str(samples / tag),
            data_dir=cfg.data_dir,
            system_prompt=cfg.system_prompt,
            trust_remote_code=cfg.trust_remote_code,
        )
    )
    index = _task_index(cfg.task, cfg.data_dir)
    return [response_from_row(r, f"{model}#{r['key']}", index) for r in result.records]


# ----------------------------------------------------------------------------- pairing


def measure(responses: Sequence[Response], count: Callable[[str], int] | None = None) -> str:
    """Fill `length` on every response with one consistent unit and return its name.

    A tokenizer when given; else the generator's token counts when every response has one; else
    whitespace words (a mix of units would make gaps meaningless)."""
    if count is not None:
        for r in responses:
            r.length = count(r.text)
        return "tokens"
    if all(r.tokens is not None for r in responses):
        for r in responses:
            r.length = int(r.tokens or 0)
        return "tokens (recorded)"
    for r in responses:
        r.length = len(r.text.split())
    return "words"


def grade_all(responses: Sequence[Response]) -> None:
    from thinklab.grading import grade

    for r in responses:
        if r.correct is None:
            r.correct = grade(r.gold, r.text).correct


def make_pairs(
    long: Sequence[Response],
    short: Sequence[Response] | None = None,
    *,
    min_gap: int = 1,
    min_ratio: float = 1.0,
) -> list[ThinkPOPair]:
    """One pair per problem that has a correct response on both sides, chosen longer than rejected.

    Responses must be graded (`correct` set) and measured (`length` set). With `short=None` both sides
    come from `long` (the longest and the shortest correct sample, which must be different samples).
    Problems keep the order in which they first appear in `long`.
    """
    single = short is None
    by_long: dict[str, list[Response]] = {}
    for r in long:
        by_long.setdefault(r.key, []).append(r)
    by_short: dict[str, list[Response]] = {}
    for r in long if single else short or ():
        by_short.setdefault(r.key, []).append(r)
    pairs = []
    for key, group in by_long.items():
        good_long = [r for r in group if r.correct]
        good_short = [r for r in by_short.get(key, []) if r.correct]
        if not good_long or not good_short:
            continue
        chosen = max(good_long, key=lambda r: r.length)
        rejected = min(good_short, key=lambda r: r.length)
        if chosen is rejected:
            continue
        if chosen.length - rejected.length < min_gap or chosen.length < min_ratio * rejected.length:
            continue
        pairs.append(ThinkPOPair(key, chosen.problem, chosen.gold, chosen, rejected))
    return pairs


def select_by_gap(
    pairs: Sequence[ThinkPOPair], select: str = "all", size: int | None = None
) -> list[ThinkPOPair]:
    """ThinkPO's length-gap buckets: the `size` pairs with the smallest (`short`), central (`middle`) or
    largest (`long`) gaps; without `size`, the lower, middle or upper third. `all` keeps every pair
    (in problem order), or the `size` largest-gap pairs when `size` is given."""
    if select not in GAP_BUCKETS:
        raise ThinklabError(f"unknown gap bucket {select!r}; choose one of {', '.join(GAP_BUCKETS)}")
    if size is not None and size < 1:
        raise ThinklabError(f"--size must be positive, got {size}")
    ranked = sorted(pairs, key=lambda p: (p.gap, p.key))
    n = len(ranked)
    if select == "all":
        return list(pairs) if size is None else ranked[max(0, n - size) :]
    k = min(size, n) if size is not None else n // 3
    if select == "short":
        return ranked[:k]
    if select == "long":
        return ranked[n - k :] if k else []
    start = (n - k) // 2
    return ranked[start : start + k]


def _lengths(items: Sequence[int]) -> dict[str, float]:
    if not items:
        return {"mean": 0.0, "min": 0, "max": 0}
    return {"mean": round(statistics.fmean(items), 2), "min": min(items), "max": max(items)}


def build_pairs(cfg: PairsConfig) -> PairsResult:
    """Load or sample both sides, grade, pair, select by gap, write TRL rows and a stats file."""
    if cfg.out_format not in PAIR_FORMATS:
        raise ThinklabError(
            f"unknown --out-format {cfg.out_format!r}; choose one of {', '.join(PAIR_FORMATS)}"
        )
    if cfg.select not in GAP_BUCKETS:
        raise ThinklabError(f"unknown --select {cfg.select!r}; choose one of {', '.join(GAP_BUCKETS)}")
    if cfg.out_format == "plain" and cfg.system_prompt is not None:
        raise ThinklabError("plain pairs have no place for a system prompt; use --format conversational")
    if bool(cfg.long) == bool(cfg.long_model):
        raise ThinklabError("give the long side as exactly one of --long FILE or --long-model MODEL")
    if cfg.short and cfg.short_model:
        raise ThinklabError("give the short side as at most one of --short FILE or --short-model MODEL")

    def side(path: str | None, model: str | None, tag: str) -> list[Response] | None:
        if path:
            return load_responses(path, cfg.task, cfg.data_dir)
        if model:
            return sample_responses(model, cfg, tag)
        return None

    long = side(cfg.long, cfg.long_model, "long")
    short = side(cfg.short, cfg.short_model, "short")
    assert long is not None
    everything = list(long) + list(short or [])
    count = None
    if cfg.tokenizer:
        from transformers import AutoTokenizer

        from thinklab.models import resolve_model_path

        tok = AutoTokenizer.from_pretrained(
            resolve_model_path(cfg.tokenizer, weights=False), trust_remote_code=cfg.trust_remote_code
        )

        def count(text: str) -> int:
            return len(tok(text, add_special_tokens=False)["input_ids"])

    unit = measure(everything, count)
    grade_all(everything)
    pairs = make_pairs(long, short, min_gap=cfg.min_gap, min_ratio=cfg.min_ratio)
    chosen = select_by_gap(pairs, cfg.select, cfg.size)
    out = Path(cfg.out)
    write_jsonl(out, (p.to_row(cfg.system_prompt, cfg.out_format) for p in chosen))

    def correct_share(rs: Sequence[Response]) -> float:
        return round(sum(bool(r.correct) for r in rs) / len(rs), 4) if rs else 0.0

    stats = {
        "out": str(out),
        "length_unit": unit,
        "long": {
            "responses": len(long),
            "problems": len({r.key for r in long}),
            "correct": correct_share(long),
        },
        "short": None
        if short is None
        else {
            "responses": len(short),
            "problems": len({r.key for r in short}),
            "correct": correct_share(short),
        },
        "pairs_after_filter": len(pairs),
        "written": len(chosen),
        "select": cfg.select,
        "size": cfg.size,
        "gap": _lengths([p.gap for p in chosen]),
        "chosen_length": _lengths([p.chosen.length for p in chosen]),
        "rejected_length": _lengths([p.rejected.length for p in chosen]),
        "config": asdict(cfg),
    }
    stats_path = out.with_name(out.stem + ".stats.json")
    stats_path.write_text(json.dumps(stats, indent=2) + "\n")
    return PairsResult(path=out, stats=stats, pairs=chosen)
