"""Generation throughput: thinklab's HF backend against the seeds' naive loop, in one run.

The naive loop calls `model.generate` once per prompt (as the seeds' scripts do); the backend sorts
prompts by length, left-pads them into large batches and decodes with a KV cache, either through
`model.generate` (`decoder=generate`) or through its own loop that preallocates the cache and drops
finished rows (`decoder=loop`, the default). Same model, same prompts, same greedy decoding, same
budget; the batched decoders must produce the same tokens. Prints a table and the speed-up ratios.

    .venv/bin/python bench/generation.py --model tiny --prompts 256 --budget 256
"""

from __future__ import annotations

import argparse
import time

import torch
from rich.console import Console
from rich.table import Table

from thinklab.backends import SamplingParams, load_backend
from thinklab.prompting.modes import prompt_for
from thinklab.tasks import arith


def naive(backend, prompts: list[str], budget: int) -> tuple[int, float]:
    tok, model = backend.tokenizer, backend.model
    tokens, start = 0, time.perf_counter()
    for p in prompts:
        ids = tok(p, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=budget, do_sample=False, pad_token_id=tok.pad_token_id)
        new = out[0, ids["input_ids"].shape[1] :].tolist()
        tokens += new.index(tok.eos_token_id) + 1 if tok.eos_token_id in new else len(new)
    return tokens, time.perf_counter() - start


def batched(backend, prompts: list[str], budget: int, decoder: str) -> tuple[int, float, list[str]]:
    backend.decoder = decoder
    start = time.perf_counter()
    out = backend.generate(prompts, SamplingParams(max_tokens=budget))
    return sum(row[0].tokens for row in out), time.perf_counter() - start, [row[0].text for row in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument(
        "--naive-prompts", type=int, default=64, help="the naive loop runs on this prefix (it is slow)"
    )
    ap.add_argument("--budget", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=256)
    args = ap.parse_args()
    backend = load_backend("hf", args.model, batch_size=args.batch_size)
    problems = arith.generate(args.prompts, "test", arith.DEFAULT_TEST_SEED)
    prompts = [prompt_for(backend, p.text()) for p in problems]
    backend.generate(prompts[:4], SamplingParams(max_tokens=8))  # warm-up
    n_tok, n_sec = naive(backend, prompts[: args.naive_prompts], args.budget)
    g_tok, g_sec, g_text = batched(backend, prompts, args.budget, "generate")
    l_tok, l_sec, l_text = batched(backend, prompts, args.budget, "loop")
    same = sum(a == b for a, b in zip(g_text, l_text, strict=True))
    table = Table(
        title=f"greedy generation, {args.model}, budget {args.budget}, {torch.get_num_threads()} threads"
    )
    for c in ("method", "prompts", "tokens", "seconds", "tokens/s", "vs naive"):
        table.add_column(c, justify="right")
    base = n_tok / n_sec
    rows = [
        ("naive: generate() per prompt", args.naive_prompts, n_tok, n_sec),
        (f"HF backend, decoder=generate (batch {args.batch_size})", args.prompts, g_tok, g_sec),
        (f"HF backend, decoder=loop (batch {args.batch_size})", args.prompts, l_tok, l_sec),
    ]
    for name, n, tok, sec in rows:
        table.add_row(name, str(n), str(tok), f"{sec:.1f}", f"{tok / sec:.0f}", f"{tok / sec / base:.1f}x")
    Console().print(table)
    print(f"identical outputs, loop vs generate: {same}/{len(prompts)}")
    print(
        f"speed-up of the default backend (decoder=loop) over the naive loop: {(l_tok / l_sec) / base:.1f}x"
    )


if __name__ == "__main__":
    main()
