"""`thinklab rollouts`: value-model training data from a policy's own traces (VGS, methods.md §3).

Per problem: sample `n_rollins` complete traces (roll-ins) from the policy; cut each at the fractions
`cuts` of its tokens (token-aligned: the cut text is decoded from the policy's own token ids); from
every cut sample `n_rollouts` continuations (roll-outs) within the remaining `max_tokens`; label each
roll-out with the grader: 1 = finished correct, 0 = finished wrong, 2 = unfinished (length-capped).

One JSONL row per (problem, roll-in, cut):
`{id, gold, level, prompt, prefill, roll_in, roll_in_tokens, source_tokens, source_correct, cut,
  roll_outs: [str], roll_out_tokens: [int], labels: [0|1|2], preds: [str|None]}`.
Text, not token ids, is stored, so the value model may use another tokenizer than the policy (it
re-tokenises prompt + roll-in + roll-out as one string, as it will at search time).

Resumable: rows are appended per chunk of problems (fsynced); a rerun skips problems already in the
file. The settings are stored beside it (`<out>.config.json`); a rerun with other settings is refused.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from thinklab.backends import SamplingParams, load_backend_from_args
from thinklab.backends.forcing import thinking_format
from thinklab.config import option
from thinklab.data.jsonl import append_jsonl, read_jsonl
from thinklab.errors import ThinklabError
from thinklab.eval import rundir
from thinklab.prompting.modes import ChatPrompt, continue_prompt, prompt_for
from thinklab.tasks.registry import get_task

LABEL_WRONG, LABEL_CORRECT, LABEL_UNFINISHED = 0, 1, 2


@dataclass
class RolloutConfig:
    """`thinklab rollouts`: value-model training data (roll-ins cut, rolled out, labelled)."""

    model: str = option("tiny", "Policy: hub id, local model dir, or `tiny`.")
    task: str = option("arith:train", "Task to draw problems from (use a training split).")
    out: str = option("runs/rollouts/train.jsonl", "Output JSONL (resumed if it exists).")
    split: str = option("test", "Split name passed to the task loader (arith variants fix their own).")
    levels: tuple[int, ...] = option((), "Keep only problems of these difficulty levels, e.g. 6,7,8.")
    limit: int | None = option(None, "At most N problems (after the level filter).")
    n_rollins: int = option(2, "Policy traces per problem to cut into roll-ins.")
    cuts: tuple[float, ...] = option((0.25, 0.5, 0.75), "Cut points as fractions of each roll-in's tokens.")
    n_rollouts: int = option(4, "Roll-outs sampled from each cut.")
    max_tokens: int = option(512, "Length cap of roll-in + roll-out (beyond it: class 2).")
    sampling: str = option("temperature=0.8,top_p=0.95", "k=v list for the policy's sampling.")
    # Roll-ins may be drawn with other settings than roll-outs, e.g. `temperature=0` (the policy's greedy
    # trace, one per problem): where greedy decoding errs systematically but samples rarely do, greedy
    # roll-ins give the value model the wrong prefixes that sampled ones almost never contain.
    rollin_sampling: str = option(
        "",
        "k=v sampling for the roll-ins only, e.g. temperature=0 (greedy; with n_rollins 1). Empty: sampling.",
    )
    prompt_mode: str = option("standard", "standard | no-think | ellipsis.")
    system_prompt: str | None = option(None, "Optional system prompt.")
    backend: str = option("hf", "hf | vllm | openai | ray (replicas: docs/scaling.md).")
    backend_args: str = option("", "k=v list for the backend.")
    data_dir: str | None = option(None, "Benchmark data folder (else $THINKLAB_DATA_DIR).")
    seed: int = option(0, "Sampling seed.")
    chunk_size: int = option(32, "Problems per batch and per write to disk.")
    overwrite: bool = option(False, "Start over instead of resuming.")
    trust_remote_code: bool = option(False, "Allow model repos to run their own code.")

    def identity(self) -> dict[str, Any]:
        """Settings that change the file's rows, and the policy's *content* (a retrained `tiny` at the
        same path must not resume an old file)."""
        skip = {"limit", "out", "overwrite", "chunk_size"}
        if not self.rollin_sampling:
            skip.add("rollin_sampling")  # files made before the option existed still resume
        ident = {k: v for k, v in asdict(self).items() if k not in skip}
        ident["model_fingerprint"] = rundir.model_fingerprint(self.model)
        return ident


def _seed(seed: int, *parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()[:4], "big")


def label_of(finish_reason: str, correct: bool) -> int:
    """VGS classes: unfinished beats correctness (a capped trace has no final answer to trust)."""
    if finish_reason == "length":
        return LABEL_UNFINISHED
    return LABEL_CORRECT if correct else LABEL_WRONG


def cut_ids(ids: list[int], fraction: float) -> int:
    """Number of roll-in tokens kept at `fraction` of a trace of len(ids) tokens (0 <= k < len)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"cut fractions must lie in [0, 1), got {fraction}")
    return min(len(ids) - 1, int(round(fraction * len(ids)))) if ids else 0


def build_rollouts(cfg: RolloutConfig, backend: Any = None, console: Any = None) -> Path:
    """Generate (or resume) the rollout file; returns its path."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    if cfg.n_rollins < 1 or cfg.n_rollouts < 1 or not cfg.cuts:
        raise ThinklabError("rollouts need --n-rollins >= 1, --n-rollouts >= 1 and at least one --cuts value")
    for c in cfg.cuts:
        if not 0.0 <= c < 1.0:
            raise ThinklabError(f"--cuts values must lie in [0, 1), got {c}")
    task = get_task(cfg.task)
    problems = task.problems(Path(cfg.data_dir) if cfg.data_dir else None, split=cfg.split)
    if cfg.levels:
        problems = [p for p in problems if p.metadata.get("level") in cfg.levels]
    if cfg.limit is not None:
        problems = problems[: cfg.limit]
    if not problems:
        raise ThinklabError(f"no problems in {cfg.task} (levels {cfg.levels or 'all'})")
    params = SamplingParams.parse(cfg.sampling)
    if params.temperature == 0:
        raise ThinklabError("rollouts need sampling (temperature > 0) so that roll-outs differ")
    rollin_params = SamplingParams.parse(cfg.rollin_sampling) if cfg.rollin_sampling else params
    if rollin_params.temperature == 0 and cfg.n_rollins > 1:
        raise ThinklabError("greedy roll-ins are all the same trace: use --n-rollins 1 with them")

    out = Path(cfg.out)
    done, stored = rundir.resume_output(out, cfg.identity(), asdict(cfg), cfg.overwrite)
    todo = [p for p in problems if p.id not in done]
    # Seeds are drawn per chunk (and the backend batches a chunk together), so the chunk size decides
    # which samples the remaining problems get: resuming with another size would silently change them.
    began_with = stored.get("config", {}).get("chunk_size")
    if done and todo and began_with is not None and began_with != cfg.chunk_size:
        raise ThinklabError(
            f"{out} was started with --chunk-size {began_with}; resume it with --chunk-size {began_with} "
            f"(another size draws other seeds for the {len(todo)} problems left), or use --overwrite"
        )
    if todo and backend is None:
        backend = load_backend_from_args(cfg.backend, cfg.model, cfg.backend_args, cfg.trust_remote_code)
    extract, grade = task.graders()
    extract = thinking_format(backend).reading(extract)  # s1's markers read as R1's
    prefill = (
        backend.thinking.prefix(cfg.prompt_mode)
        if backend is not None and hasattr(backend, "thinking")
        else ""
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not todo,
    ) as progress:
        bar = progress.add_task(f"rollouts {cfg.model} on {cfg.task}", total=len(problems))
        progress.advance(bar, len(problems) - len(todo))
        # Chunks are fixed by position in the full list, so a resumed run draws the same seeds.
        index = {p.id: k for k, p in enumerate(problems)}
        chunks: dict[int, list] = defaultdict(list)
        for p in todo:
            chunks[index[p.id] // cfg.chunk_size].append(p)
        for chunk_index, chunk in sorted(chunks.items()):
            rows = _chunk_rows(
                backend, task, chunk, cfg, rollin_params, params, extract, grade, prefill, chunk_index
            )
            append_jsonl(out, rows)
            progress.advance(bar, len(chunk))
    return out


def _chunk_rows(
    backend, task, chunk, cfg, rollin_params, params, extract, grade, prefill, chunk_index
) -> list[dict]:
    prompts = [prompt_for(backend, task.render(p), cfg.prompt_mode, cfg.system_prompt) for p in chunk]
    rollins = backend.generate(
        prompts,
        rollin_params.with_(
            n=cfg.n_rollins, max_tokens=cfg.max_tokens, seed=_seed(cfg.seed, chunk_index, "in")
        ),
    )
    # (problem k, roll-in j, cut fraction, roll-in text, roll-in tokens, source tokens, source correct)
    cuts = []
    for k, (p, row) in enumerate(zip(chunk, rollins, strict=True)):
        for j, c in enumerate(row):
            ids = c.token_ids if c.token_ids is not None else _ids(backend, c.text)
            src_ok = c.finish_reason != "length" and _correct(extract, grade, p.answer, prefill + c.text)
            for f in cfg.cuts:
                n = cut_ids(ids, f)
                text = _decode(backend, ids[:n]) if ids is not None else c.text[: int(f * len(c.text))]
                cuts.append((k, j, f, text, n, c.tokens, src_ok))
    # One generate call per remaining-budget value (each cut leaves a different allowance).
    outs: dict[int, list] = {}
    by_cap: dict[int, list[int]] = defaultdict(list)
    for i, (_, _, _, _, n, _, _) in enumerate(cuts):
        by_cap[max(1, cfg.max_tokens - n)].append(i)
    for g, (cap, members) in enumerate(sorted(by_cap.items())):
        res = backend.generate(
            [continue_prompt(prompts[cuts[i][0]], cuts[i][3]) for i in members],
            params.with_(n=cfg.n_rollouts, max_tokens=cap, seed=_seed(cfg.seed, chunk_index, "out", g)),
        )
        outs.update(zip(members, res, strict=True))
    rows = []
    for i, (k, j, f, text, n, src_tokens, src_ok) in enumerate(cuts):
        p, prompt = chunk[k], prompts[k]
        preds, labels = [], []
        for c in outs[i]:
            pred = extract(prefill + text + c.text)
            preds.append(pred)
            labels.append(label_of(c.finish_reason, pred is not None and grade(p.answer, pred)))
        rows.append(
            {
                "id": p.id,
                "gold": p.answer,
                "level": p.metadata.get("level"),
                "prompt": prompt.to_messages() if isinstance(prompt, ChatPrompt) else prompt,
                "prefill": prefill,
                "roll_in_index": j,
                "cut": f,
                "roll_in": text,
                "roll_in_tokens": n,
                "source_tokens": src_tokens,
                "source_correct": src_ok,
                "roll_outs": [c.text for c in outs[i]],
                "roll_out_tokens": [c.tokens for c in outs[i]],
                "labels": labels,
                "preds": preds,
            }
        )
    return rows


def _correct(extract, grade, gold: str, text: str) -> bool:
    pred = extract(text)
    return pred is not None and grade(gold, pred)


def _ids(backend: Any, text: str) -> list[int] | None:
    tok = getattr(backend, "tokenizer", None)
    return tok(text, add_special_tokens=False)["input_ids"] if tok is not None else None


def _decode(backend: Any, ids: list[int]) -> str:
    return backend.tokenizer.decode(ids, skip_special_tokens=False)


def read_rollouts(path: str | Path) -> list[dict]:
    """Rows of a rollout file, checked: a row without the fields training needs is a DataError."""
    from thinklab.errors import DataError

    rows = []
    need = ("prompt", "roll_in", "roll_outs", "labels")
    data = read_jsonl(path)
    for line_no, row in zip(data.line_numbers, data, strict=True):
        missing = [k for k in need if k not in row]
        if missing:
            raise DataError(f"{path}:{line_no}: rollout row lacks {', '.join(missing)}")
        if len(row["roll_outs"]) != len(row["labels"]):
            raise DataError(
                f"{path}:{line_no}: {len(row['roll_outs'])} roll_outs but {len(row['labels'])} labels"
            )
        if any(lab not in (0, 1, 2) for lab in row["labels"]):
            raise DataError(f"{path}:{line_no}: labels must be 0 (wrong), 1 (correct) or 2 (unfinished)")
        if not isinstance(row["prompt"], str):
            raise DataError(
                f"{path}:{line_no}: prompt must be the full prompt text (chat prompts are not supported)"
            )
        rows.append(row)
    return rows
