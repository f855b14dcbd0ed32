"""Eval throughput: the plain HF backend against the Ray backend with 1 and 2 replicas, in one run.

Each mode runs the same `thinklab eval` (`run_eval`: prompts, budgeted generation, grading, samples
appended to a fresh run dir) on the same problems with greedy decoding, and the Ray runs must write
the same responses as plain HF. Modes are interleaved round by round so that load from other work on
the machine falls on all of them alike; the table shows the median and best round. Model loading and
cluster start-up are timed separately (paid once per command, not per problem).

- `hf`: plain HF backend in this process, `--threads` torch threads (default: all cores).
- `ray x1`: one replica with `num_cpus=threads` (so the same torch threads): the Ray overhead.
- `ray x2`: two replicas with `threads // 2` each: the data-parallel speed-up on the same cores.

One local Ray cluster serves both Ray modes; it declares enough logical CPUs for both pools to exist
at once, but only one mode runs at a time, so the cores are never oversubscribed.

    .venv/bin/python bench/scaling.py --problems 256 --budget 128 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import ray
from rich.console import Console
from rich.table import Table

from thinklab.backends import load_backend
from thinklab.eval.runner import EvalConfig, run_eval


def timed_eval(backend, args: argparse.Namespace, out: Path) -> tuple[float, int, dict[str, str]]:
    cfg = EvalConfig(
        model=args.model,
        task="arith",
        budgets=(args.budget,),
        limit=args.problems,
        chunk_size=args.chunk_size,
        out=str(out),
    )
    start = time.perf_counter()
    res = run_eval(cfg, backend=backend, console=Console(quiet=True))
    seconds = time.perf_counter() - start
    return seconds, sum(r["tokens"] for r in res.records), {r["key"]: r["response"] for r in res.records}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--problems", type=int, default=256)
    ap.add_argument("--budget", type=int, default=128)
    ap.add_argument("--chunk-size", type=int, default=256, help="eval chunk: problems per generate call")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    console = Console()

    loads: dict[str, float] = {}
    start = time.perf_counter()
    hf = load_backend("hf", args.model, threads=args.threads)
    loads["hf"] = time.perf_counter() - start
    start = time.perf_counter()
    half = max(1, args.threads // 2)
    ray.init(
        num_cpus=args.threads + 2 * half, include_dashboard=False, log_to_driver=False, logging_level="ERROR"
    )
    loads["ray cluster"] = time.perf_counter() - start
    backends = {"hf": hf}
    for label, replicas, cpus in (("ray x1", 1, args.threads), ("ray x2", 2, half)):
        start = time.perf_counter()
        backends[label] = load_backend("ray", args.model, replicas=replicas, num_cpus=cpus)
        loads[label] = time.perf_counter() - start

    times: dict[str, list[float]] = {k: [] for k in backends}
    tokens: dict[str, int] = {}
    outputs: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, backend in backends.items():  # warm-up round, not timed
            timed_eval(backend, argparse.Namespace(**{**vars(args), "problems": 8}), Path(tmp) / f"w-{label}")
        for r in range(args.rounds):
            for label, backend in backends.items():
                sec, tokens[label], outputs[label] = timed_eval(backend, args, Path(tmp) / f"{r}-{label}")
                times[label].append(sec)
    for label in ("ray x1", "ray x2"):
        backends[label].close()
    ray.shutdown()

    table = Table(title=f"eval throughput: {args.model}, {args.problems} problems, budget {args.budget}")
    for col in ("mode", "load s", "median s", "best s", "tokens/s (median)", "same responses as hf"):
        table.add_column(col, justify="right")
    med = {k: statistics.median(v) for k, v in times.items()}
    for label in backends:
        table.add_row(
            label,
            f"{loads[label]:.1f}",
            f"{med[label]:.2f}",
            f"{min(times[label]):.2f}",
            f"{tokens[label] / med[label]:.0f}",
            str(outputs[label] == outputs["hf"]),
        )
    console.print(table)
    console.print(f"local Ray cluster start: {loads['ray cluster']:.1f} s (once per command)")
    console.print(f"load average at the end (1/5/15 min): {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    console.print(f"Ray overhead at 1 replica: {med['ray x1'] / med['hf'] - 1:+.1%} (median time vs hf)")
    console.print(f"2-replica speed-up over plain hf: {med['hf'] / med['ray x2']:.2f}x")
    console.print(f"2-replica speed-up over 1 replica: {med['ray x1'] / med['ray x2']:.2f}x")


if __name__ == "__main__":
    main()
