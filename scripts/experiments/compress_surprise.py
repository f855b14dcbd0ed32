"""Could the validator's log-probs tell a needed step from a redundant one? (docs/compress.md, session 5)

A*-Thought's check asks the validator for the answer after a compressed path; the tiny validator copies
"So the answer is N." from the path, so the check passes whatever else was dropped. This measures the
other signal a validator gives for free: how much more surprising each kept step becomes (its summed NLL
given the question and the kept steps before it, minus its NLL inside the full thought) when lines are
dropped. A check "no kept step may become much more surprising" would work if dropping redundant lines
(the upper-bound `steps` set) raised the surprise far less than dropping one `Step` line. Prints
percentiles of the largest per-step increase over N shipped-style traces for each kind of path.

    .venv/bin/python scripts/experiments/compress_surprise.py [traces.jsonl] [N]
"""

from __future__ import annotations

import random
import statistics
import sys

from thinklab.backends import load_backend
from thinklab.compress.validator import Sample, Validator
from thinklab.data import read_traces


def main(path: str = "runs/compress/traces.jsonl", n: int = 120) -> None:
    backend = load_backend("hf", "tiny")
    validator = Validator(backend)

    def n_tokens(text: str) -> int:
        return len(backend.tokenizer(text, add_special_tokens=False)["input_ids"])

    def step_surprise(question: str, steps: list[str]) -> list[float]:
        """Summed NLL (nats) of each step and its separator, given the question and the steps before it."""
        logprobs = backend.score([validator.prompt(Sample(question, "", None))], ["\n\n".join(steps)])[0]
        out, start = [], 0
        for k in range(len(steps)):
            end = n_tokens("\n\n".join(steps[: k + 1]))
            out.append(-sum(logprobs[start:end]))
            start = end
        return out

    rng = random.Random(0)
    worst: dict[str, list[float]] = {}
    for record in read_traces(path)[:n]:
        steps = record.trace.thought.split("\n\n")
        full = step_surprise(record.trace.problem, steps)
        needed = [i for i, s in enumerate(steps) if s.startswith(("Okay", "Step", "So the answer"))]
        computed = [i for i in needed if steps[i].startswith("Step")]
        paths = {"upper bound (redundant lines dropped)": needed}
        if len(computed) >= 2:
            drop = rng.choice(computed[:-1])
            paths["upper bound minus one middle Step"] = [i for i in needed if i != drop]
        paths["upper bound minus the last Step"] = [i for i in needed if i != computed[-1]]
        paths["upper bound minus the restatement"] = needed[1:]
        for name, kept in paths.items():
            surprise = step_surprise(record.trace.problem, [steps[i] for i in kept])
            worst.setdefault(name, []).append(max(s - full[i] for s, i in zip(surprise, kept, strict=True)))
    print(f"largest per-step surprise increase over the full thought (nats), {n} traces")
    print(f"{'path':42s} {'p10':>7s} {'median':>7s} {'p90':>7s}")
    for name, values in worst.items():
        values.sort()
        p10, p90 = values[len(values) // 10], values[9 * len(values) // 10]
        print(f"{name:42s} {p10:7.1f} {statistics.median(values):7.1f} {p90:7.1f}")


if __name__ == "__main__":
    main(*(sys.argv[1:2]), *(int(a) for a in sys.argv[2:3]))
