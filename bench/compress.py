"""A*-Thought compression throughput: batched validation against the seed's one-at-a-time schedule.

Both runs compress the same arith traces with the same scorer scores (BIS computed once and cached, its
time reported separately) and the same validator, with greedy validation so their outputs can be
compared:

- *batched* (thinklab): `--width` searches advance in lockstep; each round is one `score` call for every
  pending candidate of every search and one `generate` call for every pending check;
- *one at a time* (the seed's schedule): one trace after another, one validator call per candidate path
  and per check.

Prints samples per minute, validator calls per sample and whether both wrote the same compressed traces.

    OMP_NUM_THREADS=1 .venv/bin/python bench/compress.py --traces 64 --min-steps 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

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
    ap.add_argument("--seed", type=int, default=0)
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
        validator_sampling="temperature=0,max_tokens=32",
    )
    # BIS for all traces once (a search capped at 1 step does no validator work), so neither timed run
    # pays for it, and a warm-up of the validator.
    bis = run_compress(
        CompressConfig(out=str(work / "bis_only.jsonl"), **(common | {"min_steps": 1, "max_steps": 1})),
        backend=backend,
        scorer=scorer,
    )
    bis_seconds = bis["this_run"]["bis_seconds"]
    run_compress(
        CompressConfig(out=str(work / "warm.jsonl"), limit=2, **common), backend=backend, scorer=scorer
    )
    rows = {}
    for name, width, batched in (("batched", args.width, True), ("one at a time", 1, False)):
        out = work / f"{name.replace(' ', '_')}.jsonl"
        s = run_compress(
            CompressConfig(out=str(out), width=width, batch_candidates=batched, **common),
            backend=backend,
            scorer=scorer,
            console=console,
        )
        run = s["this_run"]
        rows[name] = {
            "samples": run["compressed"],
            "search_seconds": run["search_seconds"],
            "samples_per_minute": run["samples_per_minute"],
            "validator_calls": run["validator_calls"],
            "validator_calls_per_sample": run["validator_calls_per_sample"],
            "validator_requests_per_sample": s["mean_validator_requests"],
            "mean_rate": s["mean_rate"],
            "out": [{k: v for k, v in r.items() if k != "id"} for r in read_jsonl(out)],
        }
    same = rows["batched"]["out"] == rows["one at a time"]["out"]
    table = Table(title=f"A*-Thought search on {args.traces} arith traces, {args.model} scorer + validator")
    for col in (
        "schedule",
        "samples/min",
        "validator calls/sample",
        "requests/sample",
        "search s",
        "mean rate",
    ):
        table.add_column(col, justify="right")
    for name, r in rows.items():
        table.add_row(
            name,
            f"{r['samples_per_minute']:.1f}",
            f"{r['validator_calls_per_sample']:.2f}",
            f"{r['validator_requests_per_sample']:.2f}",
            f"{r['search_seconds']:.1f}",
            f"{r['mean_rate']:.3f}",
        )
    console.print(table)
    speedup = rows["batched"]["samples_per_minute"] / rows["one at a time"]["samples_per_minute"]
    console.print(
        f"BIS scoring (once, shared): {bis_seconds:.1f} s; batched speed-up x{speedup:.2f}; same output: {same}"
    )
    if args.json:
        for r in rows.values():
            r.pop("out")
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
