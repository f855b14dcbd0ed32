"""Generation throughput: thinklab's HF backend against `model.generate`, and against the machine.

Three ways to decode the same prompts greedily with the same budget, in one run:

- naive: `model.generate` once per prompt (as the seeds' scripts do), on a prefix of the prompts;
- `decoder=generate`: the backend's sorted, left-padded batches through `model.generate`;
- `decoder=loop` (the default): the backend's own decode loop (`src/thinklab/backends/hf.py`).

The loop must write the same tokens as `generate()`: as batched `decoder=generate` on every prompt and
as the naive per-prompt loop on its prefix; the bench checks both and prints the counts.

The machine's side: the fp32 matmul ceiling is measured here (best GFLOP/s of square matmuls on the
same threads, before and after the decoders, since other jobs move it), and a decoder's rate is given as
a fraction of it: the FLOPs it did (2 per weight of every linear layer per token, plus attention's
4 x layers x heads x head_dim per attended position, counted over each row's real prompt and
generated tokens) per second, over the ceiling.

    .venv/bin/python bench/generation.py --model tiny --prompts 256 --budget 256 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from thinklab.backends import SamplingParams, load_backend
from thinklab.prompting.modes import prompt_for
from thinklab.tasks import arith


def matmul_ceiling(seconds: float = 3.0) -> float:
    """Best fp32 matmul rate (FLOP/s) on this machine now: square sizes from 512 to 2048, best of runs."""
    best = 0.0
    with torch.inference_mode():
        for n in (512, 1024, 2048):
            a, b = torch.randn(n, n), torch.randn(n, n)
            a @ b  # warm-up
            deadline = time.perf_counter() + seconds / 3
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                a @ b
                best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


def cpu_flags() -> str:
    """The CPU's bf16 matmul support as lscpu reports it (avx512_bf16 / amx_bf16), for the header."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    found = sorted(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags)
    return ", ".join(found) or "none of avx2/avx512/bf16"


class Flops:
    """FLOPs of generating tokens with the model (matmul work only: the ceiling is a matmul rate)."""

    def __init__(self, model) -> None:
        linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
        config = getattr(model.config, "text_config", None) or model.config
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.per_token = 2 * linear  # q/k/v/o, MLP and LM head matmuls
        self.per_position = 4 * config.num_hidden_layers * config.num_attention_heads * head_dim

    def of(self, prompt_tokens: int, new_tokens: int) -> float:
        """Generating `new_tokens` after a prompt: each token attends to all positions before it and itself."""
        attended = sum(prompt_tokens + s + 1 for s in range(new_tokens))
        return self.per_token * new_tokens + self.per_position * attended


def naive(backend, prompts: list[str], budget: int) -> tuple[list[list[int]], float]:
    tok, model = backend.tokenizer, backend.model
    rows, start = [], time.perf_counter()
    for p in prompts:
        ids = tok(p, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=budget, do_sample=False, pad_token_id=tok.pad_token_id)
        rows.append(out[0, ids["input_ids"].shape[1] :].tolist())
    return rows, time.perf_counter() - start


def batched(backend, prompts: list[str], budget: int, decoder: str) -> tuple[list, float]:
    backend.decoder = decoder
    start = time.perf_counter()
    out = backend.generate(prompts, SamplingParams(max_tokens=budget))
    return [row[0] for row in out], time.perf_counter() - start


def until_end(row: list[int], ends: set[int]) -> list[int]:
    """A naive row's tokens before its first end token (what the backend keeps as `token_ids`)."""
    cut = next((k for k, t in enumerate(row) if t in ends), len(row))
    return row[:cut]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument(
        "--naive-prompts", type=int, default=64, help="the naive loop runs on this prefix (it is slow)"
    )
    ap.add_argument("--budget", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=1, help="runs of each batched decoder (median shown)")
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's, the cores); on a shared machine 1 is steadier, since a "
        "2-thread matmul waits for its descheduled thread whenever another job holds a core",
    )
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    backend = load_backend("hf", args.model, batch_size=args.batch_size, threads=args.threads)
    problems = arith.generate(args.prompts, "test", arith.DEFAULT_TEST_SEED)
    prompts = [prompt_for(backend, p.text()) for p in problems]
    prompt_tokens = [backend.prompt_tokens(p) for p in prompts]
    flops = Flops(backend.model)
    backend.generate(prompts[:4], SamplingParams(max_tokens=8))  # warm-up
    ceilings = [matmul_ceiling()]

    naive_rows, n_sec = naive(backend, prompts[: args.naive_prompts], args.budget)
    runs: dict[str, list[tuple[list, float]]] = {"generate": [], "loop": []}
    for _ in range(args.repeats):  # alternated, so a change in load hits both
        for decoder in runs:
            runs[decoder].append(batched(backend, prompts, args.budget, decoder))
    ceilings.append(matmul_ceiling())
    ceiling = max(ceilings)

    ends = backend.end_ids
    naive_kept = [until_end(r, ends) for r in naive_rows]
    naive_tok = sum(len(k) + (len(k) < len(r)) for k, r in zip(naive_kept, naive_rows, strict=True))
    naive_flops = sum(flops.of(n, len(r)) for n, r in zip(prompt_tokens, naive_rows, strict=False))
    results = {}
    for decoder, reps in runs.items():
        out = reps[0][0]
        seconds = statistics.median(sec for _, sec in reps)
        work = sum(flops.of(n, c.tokens) for n, c in zip(prompt_tokens, out, strict=True))
        results[decoder] = (out, sum(c.tokens for c in out), seconds, work)

    title = (
        f"greedy generation, {args.model}, budget {args.budget}, {torch.get_num_threads()} threads, "
        f"load average {load_before:.1f} at start / {os.getloadavg()[0]:.1f} at end"
    )
    table = Table(title=title)
    for c in ("method", "prompts", "tokens", "seconds", "tokens/s", "% of fp32 ceiling", "vs naive"):
        table.add_column(c, justify="right")
    base = naive_tok / n_sec
    rows = [
        ("naive: generate() per prompt", args.naive_prompts, naive_tok, n_sec, naive_flops),
        (f"HF backend, decoder=generate (batch {args.batch_size})", args.prompts, *results["generate"][1:]),
        (f"HF backend, decoder=loop (batch {args.batch_size})", args.prompts, *results["loop"][1:]),
    ]
    for name, n, tok, sec, work in rows:
        table.add_row(
            name,
            str(n),
            str(tok),
            f"{sec:.2f}",
            f"{tok / sec:.0f}",
            f"{100 * work / sec / ceiling:.1f}%",
            f"{tok / sec / base:.1f}x",
        )
    console = Console(width=150)
    console.print(table)
    loop, gen = results["loop"], results["generate"]
    per_token = loop[3] / loop[1]
    print(
        f"fp32 matmul ceiling: {ceiling / 1e9:.0f} GFLOP/s (runs: {', '.join(f'{c / 1e9:.0f}' for c in ceilings)}); "
        f"{per_token / 1e6:.2f} MFLOP per generated token on these prompts -> {ceiling / per_token:.0f} tokens/s"
    )
    print(f"CPU flags for bf16 matmul: {cpu_flags()}")
    same_gen = sum(a.token_ids == b.token_ids for a, b in zip(loop[0], gen[0], strict=True))
    same_naive = sum(a.token_ids == b for a, b in zip(loop[0][: args.naive_prompts], naive_kept, strict=True))
    print(f"identical outputs, loop vs batched generate(): {same_gen}/{args.prompts}")
    print(f"identical outputs, loop vs per-prompt generate(): {same_naive}/{args.naive_prompts}")
    print(
        f"default decoder (loop): {100 * loop[3] / loop[2] / ceiling:.1f}% of the fp32 ceiling, "
        f"{(loop[1] / loop[2]) / base:.1f}x the naive loop, {(loop[1] / loop[2]) / (gen[1] / gen[2]):.1f}x "
        f"batched generate()"
    )


if __name__ == "__main__":
    main()
