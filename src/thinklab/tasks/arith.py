"""`arith`: the synthetic multi-step arithmetic task that the embedded tiny model reasons on.

A problem is a start value and a chain of 1-8 operations applied left to right, e.g.
"Compute 7 + 5 * 3 - 4 from left to right." (expression form) or "Start with 7. Add 5, then multiply
by 3, then subtract 4. What is the result?" (word form). The design serves learnability by a
few-million-parameter model on 2 CPU cores:

- every intermediate value stays in 0..99 and every operand is a single digit, so each step is a
  lookup in a small fact table (a two-digit number plus or minus a digit, or times 2-5);
- an (operation, operand) pair never repeats inside a problem, so "which operation comes next" is
  answerable by finding the last one used in the problem text (an induction-head pattern);
- the number of operations is the difficulty level: errors compound with it, which is what gives
  thinking budgets, search and adaptive thinking something to trade.

Train and test are disjoint by construction: a problem's split is a hash of its canonical content
(start value and operations, whatever the surface form), so no test problem can appear in training
data in any wording.

Trace styles rendered from the same solution: *verbose* (R1-like, with a restatement, double checks,
"Wait, let me recompute", running summaries: lines a compressor can drop, placed by chance),
*verbose-rules* (the same lines placed by visible rules; the shipped model's style, see `_extra_line`)
and *concise* (one line per operation). Steps are separated by blank lines, the step separator that
A*-Thought splits on. Every trace ends `</think>` then `\\boxed{N}`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from thinklab.data.problem import Problem
from thinklab.tasks.registry import Task, TaskError, register, register_prefix

MAX_VALUE = 99
MAX_LEVEL = 8  # the levels the tiny model trains on (1..MAX_LEVEL)
# Test-only levels beyond training (`arith:L9`, `arith:L10`, `arith:beyond`): longer chains than any
# training trace, a hard slice where the policy's samples fail often enough for search to matter.
BEYOND_LEVELS = (9, 10)
# `steps` is the shipped style with every redundant line removed (restatement, `Step k` lines, the answer
# line): what a perfect compression of a shipped-style trace keeps (docs/compress.md, "upper bound").
TRACE_STYLES = ("verbose-rules", "verbose", "concise", "steps")
SHIPPED_STYLE = "verbose-rules"  # the style the shipped tiny model thinks in; data made for it should match
TEST_BUCKETS = 10  # one hash bucket in ten is the test split
DEFAULT_TEST_SEED = 1234
DEFAULT_TEST_SIZE = 800

_SYMBOL = {"add": "+", "sub": "-", "mul": "*"}
_WORD = {"add": "add {b}", "sub": "subtract {b}", "mul": "multiply by {b}"}

Op = tuple[str, int]


@dataclass(frozen=True)
class ArithProblem:
    """Canonical content of one problem; the surface form only changes how it is worded."""

    start: int
    ops: tuple[Op, ...]
    form: str  # "expr" or "words"

    @property
    def level(self) -> int:
        return len(self.ops)

    @property
    def values(self) -> list[int]:
        """The running value after each operation (the last is the answer)."""
        out, v = [], self.start
        for op, b in self.ops:
            v = apply_op(v, op, b)
            out.append(v)
        return out

    @property
    def answer(self) -> int:
        return self.values[-1]

    @property
    def key(self) -> str:
        return f"{self.start}|" + ",".join(f"{op}{b}" for op, b in self.ops)

    @property
    def split(self) -> str:
        digest = hashlib.sha256(self.key.encode()).digest()
        return "test" if int.from_bytes(digest[:4], "big") % TEST_BUCKETS == 0 else "train"

    def text(self) -> str:
        if self.form == "expr":
            chain = " ".join(f"{_SYMBOL[op]} {b}" for op, b in self.ops)
            return f"Compute {self.start} {chain} from left to right."
        words = ", then ".join(_WORD[op].format(b=b) for op, b in self.ops)
        return f"Start with {self.start}. {words[0].upper() + words[1:]}. What is the result?"

    def to_problem(self, index: int) -> Problem:
        return Problem(
            id=f"arith-{self.split}-{index:06d}",
            problem=self.text(),
            answer=str(self.answer),
            source="arith",
            metadata={"level": self.level, "form": self.form, "key": self.key},
        )


def apply_op(v: int, op: str, b: int) -> int:
    if op == "add":
        return v + b
    if op == "sub":
        return v - b
    if op == "mul":
        return v * b
    raise ValueError(f"unknown op {op!r}")


def _legal_ops(v: int, used: set[Op]) -> list[Op]:
    ops: list[Op] = []
    ops += [("add", b) for b in range(1, 10) if v + b <= MAX_VALUE]
    ops += [("sub", b) for b in range(1, 10) if v - b >= 0]
    ops += [("mul", b) for b in range(2, 6) if v >= 1 and v * b <= MAX_VALUE]
    return [o for o in ops if o not in used]


def sample_problem(rng: random.Random, level: int, form: str | None = None) -> ArithProblem:
    """Draw one problem with exactly `level` operations (rejection-free: legal ops are enumerated)."""
    while True:
        start = rng.randint(1, 50)
        v, used, ops = start, set(), []
        for _ in range(level):
            legal = _legal_ops(v, used)
            if not legal:
                break
            # Multiplication is rarer among legal ops; weight it up so every fact table is practised.
            weights = [3.0 if op == "mul" else 1.0 for op, _ in legal]
            op = rng.choices(legal, weights=weights)[0]
            used.add(op)
            ops.append(op)
            v = apply_op(v, *op)
        if len(ops) == level:
            return ArithProblem(start, tuple(ops), form or rng.choice(("expr", "words")))


def generate(
    n: int,
    split: str,
    seed: int,
    levels: tuple[int, ...] = tuple(range(1, MAX_LEVEL + 1)),
    exclude: set[str] | None = None,
    distinct: bool = True,
) -> list[ArithProblem]:
    """`n` problems of `split`, levels cycled evenly, deterministic in `seed`.

    Evaluation sets are `distinct` (no canonical problem twice); training streams need not be, since
    the easiest levels have only about a thousand problems in all. `exclude` holds canonical keys not
    to draw (e.g. an evaluation set you want to keep clean)."""
    if split not in ("train", "test"):
        raise TaskError(f"arith split must be 'train' or 'test', not {split!r}")
    rng = random.Random(f"arith-{split}-{seed}")
    seen: set[str] = set(exclude or ())
    out: list[ArithProblem] = []
    misses = 0
    while len(out) < n:
        level = levels[len(out) % len(levels)]
        p = sample_problem(rng, level)
        if p.split != split or (distinct and p.key in seen) or p.key in (exclude or ()):
            misses += 1
            if misses > 200 * n + 10_000:
                raise TaskError(f"could not draw {n} distinct {split} problems at levels {levels}")
            continue
        seen.add(p.key)
        out.append(p)
    return out


# ----------------------------------------------------------------------------- traces


def render_thought(p: ArithProblem, style: str, rng: random.Random | None = None) -> str:
    """The thinking text (without tags). Steps are separated by blank lines."""
    if style == "concise":
        return "\n\n".join(worked_lines(p))
    if style == "steps":
        restate, *rest = render_thought(p, SHIPPED_STYLE).split("\n\n")
        return "\n\n".join([restate] + [line for line in rest if not redundant_step(line)])
    if style not in ("verbose", "verbose-rules"):
        raise ValueError(f"unknown trace style {style!r}")
    rng = rng or random.Random(p.key)
    chain = ", then ".join(f"{_SYMBOL[op]} {b}" for op, b in p.ops)
    lines = [f"Okay, let me restate the problem: start with {p.start}, then {chain}."]
    v, history = p.start, []
    for i, (op, b) in enumerate(p.ops, start=1):
        new = apply_op(v, op, b)
        lines.append(f"Step {i}: {v} {_SYMBOL[op]} {b} = {new}.")
        extra = _extra_line(style, rng, op, v, new)
        if extra == "check":
            lines.append(f"Let me double check: {v} {_SYMBOL[op]} {b} = {new}. Yes.")
        elif extra == "recompute":
            lines.append(f"Wait, let me recompute {v} {_SYMBOL[op]} {b}. It is {new}. Correct.")
        history.append(new)
        if i % 3 == 0 and i < p.level:
            lines.append("So far the values are " + ", ".join(map(str, history)) + ".")
        v = new
    lines.append(f"So the answer is {v}.")
    return "\n\n".join(lines)


def worked_lines(p: ArithProblem, ops_per_line: int = 1) -> list[str]:
    """The bare worked solution: `a op b = c` lines (the `concise` style), or with `ops_per_line` 2,
    `a op b op c = d` lines whose intermediate value is never written (AutoThink's `paired` answers)."""
    lines, v = [], p.start
    for i in range(0, len(p.ops), ops_per_line):
        expr = str(v)
        for op, b in p.ops[i : i + ops_per_line]:
            expr += f" {_SYMBOL[op]} {b}"
            v = apply_op(v, op, b)
        lines.append(f"{expr} = {v}")
    return lines


def _extra_line(style: str, rng: random.Random, op: str, v: int, new: int) -> str | None:
    """Which redundant line follows a step. `verbose`: by chance (35% a double check, 20% a recompute).
    `verbose-rules`: by rules the model can see — a double check after every multiplication, a recompute
    after an addition or subtraction that changes the tens digit. With chance placement the most likely
    line after a step is always another step, so greedy decoding writes traces with no checks at all, a
    shape the model almost never saw in training (README, model card); by rule, greedy decoding can
    follow the training shape."""
    if style == "verbose-rules":
        return "check" if op == "mul" else "recompute" if v // 10 != new // 10 else None
    r = rng.random()
    return "check" if r < 0.35 else "recompute" if r < 0.55 else None


def render_completion(p: ArithProblem, style: str, rng: random.Random | None = None) -> str:
    """Completion after the `<think>\\n` prefill: thought, close tag, boxed answer."""
    return f"{render_thought(p, style, rng)}\n</think>\n\n\\boxed{{{p.answer}}}"


def train_traces(n: int, seed: int = 0, style: str = SHIPPED_STYLE, distinct: bool = True) -> list[dict]:
    """`n` *train*-split problems with their traces in `style`, as `{id, problem, response, answer, level}`
    rows, `response = "<think>\\n" + render_completion(p, style)` (compress input; `thinklab tiny data`)."""
    return [
        {
            "id": f"arith-train-{seed}-{i:06d}",
            "problem": p.text(),
            "response": "<think>\n" + render_completion(p, style),
            "answer": str(p.answer),
            "level": p.level,
        }
        for i, p in enumerate(generate(n, "train", seed, distinct=distinct))
    ]


def redundant_step(step: str) -> bool:
    """True for verbose-trace lines that carry no new computation (checks, recomputes, summaries)."""
    return not step.startswith("Step ") and not step.startswith("So the answer")


# ----------------------------------------------------------------------------- task


def _load(split: str, levels: tuple[int, ...], size: int, seed: int) -> list[Problem]:
    return [p.to_problem(i) for i, p in enumerate(generate(size, split, seed, levels))]


def _make(arg: str) -> Task:
    """`arith:hard` (levels 6-8), `arith:easy` (1-3), `arith:L3` (only level 3), `arith:train`, and the
    test-only extrapolation slices `arith:beyond` (9-10), `arith:L9`, `arith:L10`."""
    presets = {
        "hard": (6, 7, 8),
        "easy": (1, 2, 3),
        "beyond": BEYOND_LEVELS,
        "": tuple(range(1, MAX_LEVEL + 1)),
    }
    all_levels = (*range(1, MAX_LEVEL + 1), *BEYOND_LEVELS)
    split = "test"
    if arg == "train":
        levels, split = presets[""], "train"
    elif arg in presets:
        levels = presets[arg]
    elif arg.startswith("L") and arg[1:].isdigit() and int(arg[1:]) in all_levels:
        levels = (int(arg[1:]),)
    else:
        raise TaskError(
            f"unknown arith variant {arg!r}; use arith, arith:easy, arith:hard, arith:beyond, "
            f"arith:L<1-{all_levels[-1]}>, arith:train"
        )

    # Level 1 has fewer than 200 distinct held-out problems, so a list holding it draws 100 per level
    # (as `arith` does: 800 over 8 levels); other lists hold DEFAULT_TEST_SIZE.
    size = 100 * len(levels) if 1 in levels else DEFAULT_TEST_SIZE

    def load(data_dir: Path | None, _split: str) -> list[Problem]:
        return _load(split, levels, size, DEFAULT_TEST_SEED)

    return Task(
        name=f"arith:{arg}" if arg else "arith",
        load=load,
        description=f"synthetic {len(levels)}-level left-to-right arithmetic ({split} split, levels {levels})",
        metadata={"levels": levels, "split": split, "synthetic": True},
    )


register(_make(""))
register_prefix("arith", _make)
