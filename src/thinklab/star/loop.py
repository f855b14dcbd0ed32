"""The STaR loop (QT-R1's `pipeline.py`, rebuilt): generate → verify → rationalise → merge → train → eval.

Run directory layout::

    state.json                   completed stages, the model of each round, the config hash
    config.json                  the full config
    init/data.jsonl, init/model  the optional warm start
    rounds/r00/eval.jsonl        held-out responses of the starting model, report.json
    rounds/rNN/problems.json     the round's training problems (fixed before generation starts)
    rounds/rNN/generate.jsonl    every attempt per problem (appended per chunk), verdicts included
    rounds/rNN/merged.jsonl      all kept examples so far: one per problem, first verified one wins
    rounds/rNN/train.jsonl       the SFT data of the round (messages format)
    rounds/rNN/model/            the fine-tuned model
    rounds/rNN/eval.jsonl        held-out responses, report.json

Round r generates with model r-1 on the round's problems, merges the verified examples into the data
of round r-1, trains model r on the merged data (from the starting model, or from model r-1), and
evaluates model r on the held-out set. `state.json` is rewritten after every stage, so `--resume`
starts at the first stage not done; generation and evaluation also resume inside a stage (per chunk),
and an interrupted training is restarted (its partial output is removed first).

QT-R1 saved its state only after a whole round and wrote the new data path back into the user's YAML
config; here the config is never modified and all state lives in the run dir.
"""

from __future__ import annotations

import gc
import json
import random
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.problem import Problem
from thinklab.data.writers import Example, write_examples
from thinklab.errors import ThinklabError
from thinklab.star.config import StarConfig, TrainConfig
from thinklab.star.generate import eval_chunk, kill_point, run_chunks, solve_chunk
from thinklab.star.verify import verify

STATE = "state.json"


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")
    tmp.replace(path)


def round_dir(run_dir: Path, r: int) -> Path:
    return run_dir / "rounds" / f"r{r:02d}"


class StarRun:
    """One run directory and its state; `run()` executes (or resumes) every stage not yet done."""

    def __init__(
        self, cfg: StarConfig, *, resume: bool = False, overwrite: bool = False, log: Callable | None = None
    ):
        cfg.validate()
        _quiet_datasets()
        self.cfg = cfg
        self.dir = Path(cfg.out)
        self.log = log or (lambda msg: print(msg, flush=True))
        state_path = self.dir / STATE
        if overwrite and self.dir.exists():
            shutil.rmtree(self.dir)
        if state_path.exists():
            if not resume:
                raise ThinklabError(
                    f"{self.dir} already holds a STaR run; pass --resume to continue or --overwrite"
                )
            self.state = json.loads(state_path.read_text())
            if self.state.get("identity") != cfg.identity_hash():
                raise ThinklabError(
                    f"{self.dir} was started with other settings (config hash {self.state.get('identity')} vs "
                    f"{cfg.identity_hash()}); use the same config, another out, or --overwrite"
                )
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.state = {
                "identity": cfg.identity_hash(),
                "completed": [],
                "models": {},
                "created": time.time(),
            }
            _write_json(self.dir / "config.json", asdict(cfg))
            self._save()
        self._backend: tuple[str, Any] | None = None
        self._pool: list[Problem] | None = None
        self._heldout: list[Problem] | None = None

    # ------------------------------------------------------------------ state
    def _save(self) -> None:
        self.state["updated"] = time.time()
        _write_json(self.dir / STATE, self.state)

    def done(self, stage: str) -> bool:
        return stage in self.state["completed"]

    def _complete(self, stage: str, **info: Any) -> None:
        self.state["completed"].append(stage)
        if info:
            self.state.setdefault("info", {})[stage] = info
        self._save()

    def model_of(self, r: int) -> str:
        return self.state["models"][str(r)]

    # ------------------------------------------------------------------ resources
    @property
    def pool(self) -> list[Problem]:
        if self._pool is None:
            from thinklab.tasks.registry import get_task

            data_dir = Path(self.cfg.data_dir) if self.cfg.data_dir else None
            self._pool = get_task(self.cfg.task).problems(data_dir, "train", self.cfg.pool_limit)
        return self._pool

    @property
    def heldout(self) -> list[Problem]:
        if self._heldout is None:
            from thinklab.tasks.registry import get_task

            data_dir = Path(self.cfg.data_dir) if self.cfg.data_dir else None
            self._heldout = get_task(self.cfg.eval_task).problems(data_dir, "test", self.cfg.eval_limit)
            overlap = {p.problem for p in self._heldout} & {p.problem for p in self.pool}
            if overlap:
                raise ThinklabError(
                    f"{len(overlap)} held-out problems of {self.cfg.eval_task} are also in the training pool "
                    f"{self.cfg.task}; evaluation must be on unseen problems"
                )
        return self._heldout

    def backend(self, model: str) -> Any:
        """The generation backend for `model`, kept while consecutive stages use the same model."""
        if self._backend is not None and self._backend[0] == model:
            return self._backend[1]
        self.release_backend()
        from thinklab.backends import load_backend, parse_kv

        extra = parse_kv(self.cfg.backend_args)
        if self.cfg.trust_remote_code:
            extra["trust_remote_code"] = True
        self._backend = (model, load_backend(self.cfg.backend, model, **extra))
        return self._backend[1]

    def release_backend(self) -> None:
        """Free the engine before training (a vLLM engine holds most of the GPU memory)."""
        if self._backend is None:
            return
        self._backend = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    # ------------------------------------------------------------------ run
    def run(self) -> list[dict]:
        """Run every stage not yet completed; returns the per-round reports."""
        self._init()
        if not self.done("r0:eval"):
            self._eval(0)
        for r in range(1, self.cfg.rounds + 1):
            for stage in ("generate", "merge", "train", "eval"):
                if not self.done(f"r{r}:{stage}"):
                    getattr(self, f"_{stage}")(r)
        self.release_backend()
        return load_reports(self.dir)

    # ------------------------------------------------------------------ stages
    def _init(self) -> None:
        if self.done("init"):
            return
        cfg = self.cfg
        if cfg.init is None:
            from thinklab.models import resolve_model_path

            self.state["models"]["0"] = resolve_model_path(cfg.base_model)
            self._complete("init", model=self.state["models"]["0"], warm_start=False)
            return
        data = self.dir / "init" / "data.jsonl"
        data.parent.mkdir(parents=True, exist_ok=True)
        if cfg.init.data:
            if not Path(cfg.init.data).is_file():
                raise ThinklabError(f"init.data: {cfg.init.data}: no such file")
            shutil.copyfile(cfg.init.data, data)
        else:
            from thinklab.star.tiny import seed_examples

            exclude = {p.metadata["key"] for p in self.pool if "key" in p.metadata}
            exclude |= {p.metadata["key"] for p in self.heldout if "key" in p.metadata}
            examples = seed_examples(
                cfg.init.arith_examples,
                seed=cfg.init.seed,
                prompt_template=cfg.prompt_template,
                rationalize_template=cfg.rationalize_template,
                hint_fraction=cfg.init.hint_fraction,
                system=cfg.system_prompt,
                exclude=exclude,
                style=cfg.init.arith_style,
            )
            write_examples(data, examples)
        self.log(f"[init] warm-start SFT of {cfg.base_model} on {data}")
        model, info = self._sft(cfg.base_model, data, self.dir / "init" / "model", cfg.init.train)
        self.state["models"]["0"] = model
        self._complete("init", model=model, warm_start=True, **info)

    def _problems(self, r: int) -> list[Problem]:
        """The round's training problems, fixed in problems.json before generation starts."""
        path = round_dir(self.dir, r) / "problems.json"
        by_id = {p.id: p for p in self.pool}
        if path.exists():
            return [by_id[i] for i in json.loads(path.read_text())]
        solved = set()
        if self.cfg.skip_solved and r > 1:
            solved = {e["id"] for e in read_jsonl(round_dir(self.dir, r - 1) / "merged.jsonl")}
        candidates = [p for p in self.pool if p.id not in solved]
        random.Random(f"star/{self.cfg.seed}/{r}").shuffle(candidates)
        chosen = candidates[: self.cfg.problems_per_round]
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(path, [p.id for p in chosen])
        return chosen

    def _generate(self, r: int) -> None:
        problems = self._problems(r)
        model = self.model_of(r - 1)
        self.log(f"[round {r}] generate: {len(problems)} problems with {model}")
        backend = self.backend(model)
        rows = run_chunks(
            round_dir(self.dir, r) / "generate.jsonl",
            problems,
            self.cfg.chunk_size,
            lambda chunk, k: solve_chunk(backend, self.cfg, chunk, r, k),
            _Progress(self.log, f"round {r} generate", len(problems)),
            kill_after=kill_point(f"r{r}:generate"),
        )
        self._complete(f"r{r}:generate", **generation_stats(rows))

    def _merge(self, r: int) -> None:
        rd = round_dir(self.dir, r)
        merged = list(read_jsonl(round_dir(self.dir, r - 1) / "merged.jsonl")) if r > 1 else []
        have = {e["id"] for e in merged}
        added = 0
        for row in read_jsonl(rd / "generate.jsonl", allow_partial_last_line=True):
            if row["kind"] is None or row["id"] in have:
                continue
            # Defensive re-check: nothing reaches training without passing the verifier.
            v = verify(
                row["response"],
                row["gold"],
                max_steps=self.cfg.max_steps,
                min_steps=self.cfg.min_steps,
                check_equations=self.cfg.check_equations,
            )
            if not v.ok:
                continue
            merged.append(
                {
                    "id": row["id"],
                    "round": r,
                    "kind": row["kind"],
                    "user": row["user"],
                    "response": row["response"],
                    "gold": row["gold"],
                    **({"level": row["level"]} if "level" in row else {}),
                }
            )
            have.add(row["id"])
            added += 1
        write_jsonl(rd / "merged.jsonl", merged)
        write_examples(
            rd / "train.jsonl", [Example(e["user"], e["response"], self.cfg.system_prompt) for e in merged]
        )
        self.log(f"[round {r}] merge: +{added} examples, {len(merged)} in all")
        self._complete(f"r{r}:merge", added=added, total=len(merged))

    def _train(self, r: int) -> None:
        rd = round_dir(self.dir, r)
        start = self.model_of(0) if self.cfg.train.init_from == "start" else self.model_of(r - 1)
        n = sum(1 for _ in read_jsonl(rd / "train.jsonl"))
        if n == 0:
            self.log(f"[round {r}] train: no data; the model stays {self.model_of(r - 1)}")
            self.state["models"][str(r)] = self.model_of(r - 1)
            self._complete(f"r{r}:train", skipped=True)
            return
        self.release_backend()
        self.log(f"[round {r}] train: {n} examples, from {start}")
        model, info = self._sft(start, rd / "train.jsonl", rd / "model", self.cfg.train)
        self.state["models"][str(r)] = model
        self._complete(f"r{r}:train", examples=n, **info)

    def _eval(self, r: int) -> None:
        rd = round_dir(self.dir, r)
        model = self.model_of(r)
        problems = self.heldout
        self.log(f"[round {r}] eval: {len(problems)} held-out problems with {model}")
        backend = self.backend(model)
        rows = run_chunks(
            rd / "eval.jsonl",
            problems,
            self.cfg.chunk_size,
            lambda chunk, k: eval_chunk(backend, self.cfg, chunk, r, k),
            _Progress(self.log, f"round {r} eval", len(problems)),
            kill_after=kill_point(f"r{r}:eval"),
        )
        report = {"round": r, "model": model, "heldout": heldout_metrics(rows)}
        info = self.state.get("info", {})
        if r > 0:
            report["generation"] = info.get(f"r{r}:generate", {})
            report["examples_added"] = info.get(f"r{r}:merge", {}).get("added", 0)
            report["examples_total"] = info.get(f"r{r}:merge", {}).get("total", 0)
            report["train"] = info.get(f"r{r}:train", {})
        _write_json(rd / "report.json", report)
        h = report["heldout"]
        self.log(
            f"[round {r}] held-out accuracy {h['accuracy']:.3f}, verified {h['verified']:.3f}, "
            f"format-pass {h['format_pass']:.3f}, avg steps {h['avg_steps']:.2f}, timeout {h['timeout_pct']:.1f}%"
        )
        self._complete(f"r{r}:eval")

    def _sft(self, start: str, data: Path, out: Path, t: TrainConfig) -> tuple[str, dict]:
        """SFT with thinklab.train.sft into `out` (written to a temp dir first, so a kill mid-training
        never leaves something that looks like a finished model)."""
        from thinklab.train.sft import SFTRunConfig, run_sft

        tmp = out.with_name(out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        started = time.time()
        run_sft(
            SFTRunConfig(
                model=start,
                data=str(data),
                out=str(tmp),
                epochs=t.epochs,
                max_steps=t.max_steps,
                batch_size=t.batch_size,
                grad_accum=t.grad_accum,
                learning_rate=t.learning_rate,
                lr_scheduler=t.lr_scheduler,
                warmup_ratio=t.warmup_ratio,
                max_length=t.max_length,
                lora=t.lora,
                lora_r=t.lora_r,
                lora_alpha=t.lora_alpha,
                lora_dropout=t.lora_dropout,
                seed=t.seed,
                logging_steps=10**6,
                trust_remote_code=self.cfg.trust_remote_code,
                extra_args=dict(t.extra_args),
            )
        )
        tmp.rename(out)
        return str(out), {"minutes": round((time.time() - started) / 60, 2)}


def _quiet_datasets() -> None:
    """TRL's dataset preprocessing prints several progress bars per training; a loop trains every round,
    so they drown the loop's own log. Only the bars are switched off, not warnings."""
    try:
        from datasets.utils.logging import disable_progress_bar

        disable_progress_bar()
    except ImportError:
        pass


class _Progress:
    """A plain-text progress line per chunk (the loop runs for hours on GPUs; logs beat live bars)."""

    def __init__(self, log: Callable, what: str, total: int) -> None:
        self.log, self.what, self.total, self.n = log, what, total, 0

    def __call__(self, k: int) -> None:
        self.n += k
        if k:
            self.log(f"  {self.what}: {self.n}/{self.total}")


# ----------------------------------------------------------------------------- metrics


def generation_stats(rows: list[dict]) -> dict:
    """Counts of a data round: how each problem ended up (first try, retry, rationalised, failed)."""
    kinds = [r["kind"] for r in rows]
    first = [r["attempts"][0] for r in rows if r["attempts"]]
    return {
        "problems": len(rows),
        "first": kinds.count("first"),
        "retry": kinds.count("retry"),
        "rationalized": kinds.count("rationalized"),
        "failed": kinds.count(None),
        "first_try_accuracy": round(sum(a["correct"] for a in first) / len(first), 4) if first else 0.0,
        "first_try_verified": round(sum(a["ok"] for a in first) / len(first), 4) if first else 0.0,
    }


def heldout_metrics(rows: list[dict]) -> dict:
    """QT-R1's scorecard on the held-out set: Accuracy, Format-Pass, Avg Steps, Timeout%.

    accuracy: the grader's verdict on the answer in any format; verified: correct *and* in format
    (QT-R1's strict reading, and what STaR would keep); timeout: the response hit its token budget
    (finish_reason "length", or the thinking budget was forced closed)."""
    n = len(rows)
    if n == 0:
        return {
            "n": 0,
            "accuracy": 0.0,
            "verified": 0.0,
            "format_pass": 0.0,
            "avg_steps": 0.0,
            "timeout_pct": 0.0,
            "mean_tokens": 0.0,
        }

    def share(key: str) -> float:
        return round(sum(bool(r[key]) for r in rows) / n, 4)

    out = {
        "n": n,
        "accuracy": share("correct"),
        "verified": share("ok"),
        "format_pass": share("format_ok"),
        "avg_steps": round(statistics.fmean(r["steps"] for r in rows), 3),
        "timeout_pct": round(
            100 * sum(r["finish_reason"] == "length" or r["forced_answer"] for r in rows) / n, 2
        ),
        "mean_tokens": round(statistics.fmean(r["tokens"] for r in rows), 2),
    }
    levels = sorted({r["level"] for r in rows if "level" in r})
    if levels:
        out["by_level"] = {
            str(lv): {
                "n": len(sub),
                "accuracy": round(sum(r["correct"] for r in sub) / len(sub), 4),
                "verified": round(sum(r["ok"] for r in sub) / len(sub), 4),
            }
            for lv in levels
            for sub in [[r for r in rows if r.get("level") == lv]]
        }
    return out


def load_reports(run_dir: str | Path) -> list[dict]:
    """The per-round reports of a run dir, round 0 (the starting model) first."""
    rounds = Path(run_dir) / "rounds"
    if not rounds.is_dir():
        raise ThinklabError(f"{run_dir} is not a STaR run dir (no rounds/ folder)")
    out = []
    for d in sorted(rounds.iterdir()):
        path = d / "report.json"
        if path.is_file():
            out.append(json.loads(path.read_text()))
    return out


def run_star(
    cfg: StarConfig, *, resume: bool = False, overwrite: bool = False, log: Callable | None = None
) -> list[dict]:
    """Run or resume a STaR loop; returns the per-round reports (round 0 = the starting model)."""
    return StarRun(cfg, resume=resume, overwrite=overwrite, log=log).run()
