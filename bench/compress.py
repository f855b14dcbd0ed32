"""A*-Thought compression throughput: validation batched across samples against one call per candidate.

Three schedules compress the same arith traces with the same BIS scores (computed once and cached, time
reported separately) and the same validator, with greedy validation so their outputs can be compared:

- *lockstep* (thinklab): `--width` searches advance together; each round is one `score` call for every
  pending candidate of every search and one `generate` call for every pending check (on the HF backend
  split into groups of similar length, see docs/compress.md);
- *per sample* (the seed's schedule): one trace after another; a search step's W candidates are scored
  in one call (the seed's `AStar.cost(batch)`), each check is one call;
- *one candidate at a time*: one trace after another, one validator call per candidate path and check.

Prints samples per minute (median of `--repeats` runs, order alternating), validator calls per sample
and whether every schedule wrote the same compressed traces.

    OMP_NUM_THREADS=1 .venv/bin/python bench/compress.py --traces 64 --min-steps 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from statistics import median

import torch
from rich.console import Console
from rich.table import Table

from thinklab.backends import load_backend
from thinklab.compress import CompressConfig, run_compress
from thinklab.compress.bis import BISScorer, ScorerConfig
from thinklab.compress.data import write_arith_traces
from thinklab.data import read_jsonl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny", help="scorer and validator")
    ap.add_argument("--traces", type=int, default=64)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--min-steps", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=20)
    ap.add_argument("--span", type=int, default=1, help="span radius (seed: 1)")
    ap.add_argument("--min-kept", type=float, default=0.0, help="validate once this fraction is kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="runs per schedule (order alternates)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    console = Console(stderr=True)
    work = Path(tempfile.mkdtemp(prefix="bench-compress-"))
    data = work / "traces.jsonl"
    write_arith_traces(data, args.traces, seed=args.seed)
    backend = load_backend("hf", args.model)
    scorer = BISScorer(ScorerConfig(model=args.model))
    cache = work / "bis.jsonl"
    common = dict(
        data=str(data),
        scorer=args.model,
        validator=args.model,
        cache=str(cache),
        min_steps=args.min_steps,
        max_steps=args.max_steps,
        span=args.span,
        min_kept=args.min_kept,
        validator_sampling="temperature=0,max_tokens=32",
    )
    # BIS for all traces once (a search capped at 1 step does no validator work), so neither timed run
    # pays for it, and a warm-up of the validator.
    bis = run_compress(
        CompressConfig(
            out=str(work / "bis_only.jsonl"), **(common | {"min_steps": 1, "max_steps": 1, "min_kept": 0.0})
        ),
        backend=backend,
        scorer=scorer,
    )
    bis_seconds = bis["this_run"]["bis_seconds"]
    run_compress(
        CompressConfig(out=str(work / "warm.jsonl"), limit=2, **common), backend=backend, scorer=scorer
    )
    schedules = {
        "lockstep (thinklab)": (args.width, True),
        "per sample (seed)": (1, True),
        "one candidate at a time": (1, False),
    }
    rows: dict[str, dict] = {}
    outputs: dict[str, list] = {}
    for rep in range(args.repeats):  # alternate the order: the machine's load drifts between runs
        names = list(schedules) if rep % 2 == 0 else list(reversed(schedules))
        for name in names:
            width, batched = schedules[name]
            out = work / f"{name.split()[0]}-{rep}.jsonl"
            s = run_compress(
                CompressConfig(out=str(out), width=width, batch_candidates=batched, **common),
                backend=backend,
                scorer=scorer,
                console=console,
            )
            run = s["this_run"]
            row = rows.setdefault(name, {"samples_per_minute": [], "search_seconds": []})
            row["samples_per_minute"].append(run["samples_per_minute"])
            row["search_seconds"].append(run["search_seconds"])
            row["validator_calls_per_sample"] = run["validator_calls_per_sample"]
            row["validator_requests_per_sample"] = s["mean_validator_requests"]
            row["mean_rate"] = s["mean_rate"]
            outputs[name] = [{k: v for k, v in r.items() if k != "id"} for r in read_jsonl(out)]
    same = all(o == outputs["lockstep (thinklab)"] for o in outputs.values())
    table = Table(
        title=f"A*-Thought search, {args.traces} arith traces, {args.model} scorer + validator, "
        f"{torch.get_num_threads()} thread(s), median of {args.repeats}"
    )
    for col in ("schedule", "samples/min", "validator calls/sample", "requests/sample", "mean rate"):
        table.add_column(col, justify="right")
    for name, r in rows.items():
        r["samples_per_minute_median"] = median(r["samples_per_minute"])
        table.add_row(
            name,
            f"{r['samples_per_minute_median']:.1f}",
            f"{r['validator_calls_per_sample']:.2f}",
            f"{r['validator_requests_per_sample']:.2f}",
            f"{r['mean_rate']:.3f}",
        )
    console.print(table)
    speedup = (
        rows["lockstep (thinklab)"]["samples_per_minute_median"]
        / rows["one candidate at a time"]["samples_per_minute_median"]
    )
    console.print(
        f"BIS scoring (once, shared): {bis_seconds:.1f} s; lockstep vs one candidate at a time: "
        f"x{speedup:.2f} samples/min; same output for every schedule: {same}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"json": str(args.json)},
                    "bis_seconds": bis_seconds,
                    "speedup": speedup,
                    "same_output": same,
                    "runs": rows,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
