"""Resumable, deterministic generation for the STaR loop: data rounds and held-out evaluation.

Both work the same way as `thinklab eval`: the problems form a fixed list of chunks; each chunk is one
unit of work with its own seed (derived from the run seed, the round, the phase, the chunk and the try),
and its rows are appended to a JSONL file (fsynced) when it finishes. On resume a chunk whose rows are
all on disk is skipped and any other chunk is generated again in full — same prompts, same seeds, so the
same outputs (the HF backend seeds each call; vLLM seeds each request) — and only its missing rows are
written. A killed loop therefore ends with exactly the rows of an uninterrupted one.

Per problem (QT-R1's generator, with its bugs fixed):

1. up to `tries` attempts with the plain prompt, keeping the first one the verifier accepts (by default
   all tries are sampled in one batched call, `parallel_tries`; off, they run one at a time and stop
   at the first verified one, which spends fewer tokens and far more time);
2. if none passed and `rationalize` is on: up to `rationalize_tries` attempts with the hint prompt
   (the gold answer in the user turn). A rationalised response is kept only if it passes the same
   verifier (QT-R1 kept a regenerated output it never checked), and it is trained on *without* the hint
   (STaR: the rationale must look as if the model found the answer itself).

Saved texts are the generated text only (QT-R1 decoded `gen[0]`, which included the prompt, into its
training data); the kept `response` is the full assistant turn, thinking prefill included, the way
`train sft` expects it.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thinklab.backends import SamplingParams
from thinklab.backends.forcing import BudgetConfig, generate_budgeted
from thinklab.data.jsonl import append_jsonl, read_jsonl
from thinklab.data.problem import Problem
from thinklab.prompting.modes import ChatPrompt, Prompt, prompt_for, render_chat
from thinklab.star.config import GenerationConfig, StarConfig
from thinklab.star.verify import verify


def chunk_seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "big")


def user_message(cfg: StarConfig, problem: Problem, hint: bool = False) -> str:
    template = cfg.rationalize_template if hint else cfg.prompt_template
    return template.replace("{problem}", problem.problem).replace("{answer}", problem.answer)


def make_prompt(backend: Any, cfg: StarConfig, user: str) -> tuple[Prompt, str]:
    """(prompt, prefill): the prompt for the backend and the text pre-filled into the assistant turn."""
    if cfg.prompt_mode == "plain":
        if getattr(backend, "chat", False):
            return ChatPrompt(
                messages=((("system", cfg.system_prompt),) if cfg.system_prompt else ()) + (("user", user),)
            ), ""
        return render_chat(backend.tokenizer, user, cfg.system_prompt), ""
    prompt = prompt_for(backend, user, cfg.prompt_mode, cfg.system_prompt)
    prefill = getattr(backend, "thinking", None)
    return prompt, prefill.prefix(cfg.prompt_mode) if prefill is not None else ""


def _params(g: GenerationConfig) -> tuple[SamplingParams, BudgetConfig]:
    params = SamplingParams(temperature=g.temperature, top_p=g.top_p, top_k=g.top_k, max_tokens=g.max_tokens)
    budget = BudgetConfig(
        mode=g.budget_mode, answer_tokens=g.answer_tokens, extend=g.extend, extend_str=g.extend_str
    )
    return params, budget


def _attempt(
    backend: Any,
    cfg: StarConfig,
    g: GenerationConfig,
    problems: list[Problem],
    hint: bool,
    seed: int,
    n: int = 1,
):
    """`n` budgeted, seeded generations for each problem; yields (problem, attempt index, full text,
    attempt record, verdict), a problem's attempts in order."""
    params, budget = _params(g)
    prompts, prefills = zip(
        *(make_prompt(backend, cfg, user_message(cfg, p, hint)) for p in problems), strict=True
    )
    outs = generate_budgeted(backend, list(prompts), params.with_(seed=seed, n=n), g.max_tokens, budget)
    for p, prefill, row in zip(problems, prefills, outs, strict=True):
        for k, r in enumerate(row):
            yield (p, k, *_record(cfg, p, prefill, r, hint))


def _record(cfg: StarConfig, p: Problem, prefill: str, r: Any, hint: bool) -> tuple[str, dict, Any]:
    """(full assistant text, attempt record, verdict) of one generation."""
    full = prefill + r.text
    v = verify(
        full,
        p.answer,
        max_steps=cfg.max_steps,
        min_steps=cfg.min_steps,
        check_equations=cfg.check_equations,
    )
    record = {
        "hint": hint,
        "text": r.text,
        "tokens": r.tokens,
        "finish_reason": r.finish_reason,
        "forced_answer": r.forced_answer,
        **v.to_dict(),
    }
    return full, record, v


def solve_chunk(
    backend: Any, cfg: StarConfig, chunk: list[Problem], round_index: int, chunk_index: int
) -> list[dict]:
    """The rows of one chunk of a data round (one row per problem, with every attempt recorded)."""
    rows = {
        p.id: {
            "id": p.id,
            "problem": p.problem,
            "gold": p.answer,
            **({"level": p.metadata["level"]} if "level" in p.metadata else {}),
            "attempts": [],
            "kind": None,
            "response": None,
        }
        for p in chunk
    }
    greedy = cfg.generation.temperature == 0  # greedy tries are identical
    phases = []  # (hint, first try index, tries in this call)
    for hint, n in ((False, cfg.tries), (True, cfg.rationalize_tries if cfg.rationalize else 0)):
        n = min(n, 1) if greedy else n
        if cfg.parallel_tries and n:
            phases.append((hint, 0, n))
        else:
            phases += [(hint, t, 1) for t in range(n)]
    pending = list(chunk)
    for hint, first, n in phases:
        if not pending:
            break
        seed = chunk_seed(cfg.seed, round_index, "hint" if hint else "try", chunk_index, first)
        for p, k, full, record, v in _attempt(backend, cfg, cfg.generation, pending, hint, seed, n):
            t = first + k
            row = rows[p.id]
            row["attempts"].append({"try": t, **record})
            if v.ok and row["kind"] is None:
                row["kind"] = "rationalized" if hint else ("first" if t == 0 else "retry")
                # Trained on without the hint: the prompt is the plain user message.
                row["user"] = user_message(cfg, p)
                row["response"] = full
        pending = [p for p in pending if rows[p.id]["kind"] is None]
    return [rows[p.id] for p in chunk]


def eval_chunk(
    backend: Any, cfg: StarConfig, chunk: list[Problem], round_index: int, chunk_index: int
) -> list[dict]:
    """Held-out rows: one plain-prompt response per problem, verified."""
    seed = chunk_seed(cfg.seed, "eval", round_index, chunk_index)
    rows = []
    for p, _k, _full, record, _v in _attempt(backend, cfg, cfg.eval_generation, chunk, False, seed):
        row = {"id": p.id, "gold": p.answer, **record}
        if "level" in p.metadata:
            row["level"] = p.metadata["level"]
        rows.append(row)
    return rows


def run_chunks(
    path: Path,
    problems: list[Problem],
    chunk_size: int,
    work: Callable[[list[Problem], int], list[dict]],
    progress: Callable[[int], None] | None = None,
    kill_after: int | None = None,
) -> list[dict]:
    """Do `work` on every chunk not yet complete in `path` (append per chunk); return all rows in order.

    `kill_after` (tests only, see `kill_point`): once the chunk being written would bring `path` to
    that many rows, write only the rows up to it and SIGKILL this process — a kill that lands
    deterministically in the middle of a stage, and in the middle of a chunk's rows."""
    done: dict[str, dict] = {}
    if path.exists():
        for r in read_jsonl(path, allow_partial_last_line=True):
            done.setdefault(r["id"], r)
    chunks = [problems[s : s + chunk_size] for s in range(0, len(problems), chunk_size)]
    if progress:
        progress(sum(1 for p in problems if p.id in done))
    for k, chunk in enumerate(chunks):
        if all(p.id in done for p in chunk):
            continue
        fresh = [r for r in work(chunk, k) if r["id"] not in done]
        if kill_after is not None and len(done) + len(fresh) >= kill_after:
            append_jsonl(path, fresh[: max(0, kill_after - len(done))])
            os.kill(os.getpid(), signal.SIGKILL)
        append_jsonl(path, fresh)
        done.update((r["id"], r) for r in fresh)
        if progress:
            progress(len(fresh))
    return [done[p.id] for p in problems]


KILL_ENV = "THINKLAB_STAR_TEST_KILL"


def kill_point(stage: str) -> int | None:
    """Test hook: `THINKLAB_STAR_TEST_KILL=r2:generate:3` makes the loop SIGKILL itself once 3 rows of
    stage `r2:generate` are on disk (tests/star/test_star_resume.py). Unset: None, no effect."""
    spec = os.environ.get(KILL_ENV, "")
    where, _, rows = spec.rpartition(":")
    if not spec or where != stage:
        return None
    return int(rows)
