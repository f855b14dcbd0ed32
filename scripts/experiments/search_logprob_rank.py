"""How well the policy's own log-probs rank one problem's finished samples (right above wrong).

Reads a `thinklab search` single-strategy run dir (its samples are the candidates every sampling
strategy of the same command votes over) and scores each response under the policy: summed, mean and
minimum token log-prob. Prints the within-problem AUC of each (the ranking best-of-N and weighted votes
need; thinklab.search.report.within_problem_auc explains why the pooled AUC overstates it), next to trace length.

    .venv/bin/python scripts/experiments/search_logprob_rank.py runs/search-t1lp/strategies/tiny_arith-L8-single_* --budget 8
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from thinklab.models import resolve_model_path
from thinklab.search.train_value import within_group_auc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--budget", type=int, default=8)
    ap.add_argument("--model", default="tiny")
    args = ap.parse_args()
    path = resolve_model_path(args.model)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    by_problem: dict[str, list[dict]] = defaultdict(list)
    for line in Path(args.run_dir, "samples.jsonl").read_text().splitlines():
        r = json.loads(line)
        if int(r["budget"]) == args.budget:
            by_problem[r["id"]].append(r)
    mixed = [rs for rs in by_problem.values() if len({bool(r["correct"]) for r in rs}) == 2]
    scores: dict[str, list[list[tuple[float, bool]]]] = defaultdict(list)
    for rs in mixed:
        g: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        for r in rs:
            p_ids = tok(r["prompt"], add_special_tokens=False)["input_ids"]
            ids = tok(r["prompt"] + r["response"], add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0, :-1].float()
            lp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
            gen = lp[len(p_ids) - 1 :]
            ok = bool(r["correct"])
            g["sum log-prob"].append((gen.sum().item(), ok))
            g["mean log-prob"].append((gen.mean().item(), ok))
            g["min log-prob"].append((gen.min().item(), ok))
            g["length (longer first)"].append((float(len(gen)), ok))
        for k, v in g.items():
            scores[k].append(v)
    print(f"{len(mixed)} problems with right and wrong samples at width {args.budget}")
    print("| ranker | within-problem AUC | pairs |\n|---|---|---|")
    for k, groups in scores.items():
        auc, n, _ = within_group_auc(groups)
        print(f"| {k} | {auc:.3f} | {n} |")


if __name__ == "__main__":
    main()
