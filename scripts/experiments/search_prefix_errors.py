"""Where a value model falls short of the AUC ceiling on arith: prefixes that already hold an error vs
prefixes that are still right (docs/search.md, session 8).

    .venv/bin/python scripts/experiments/search_prefix_errors.py ROLLOUTS.jsonl VALUE_DIR [VALUE_DIR ...]

ROLLOUTS is a file with many roll-outs per cut (search.sh step 2d, `rollouts/ceiling.jsonl`). A prefix
"holds an error" if one of its `Step k: a op b = c` lines has the wrong left operand (not the previous
result), the wrong right operand (not the question's k-th number) or the wrong result. For mid-trace cuts
(0.3-0.7) it prints, per group, the prefixes' true success rate (correct share of their roll-outs) and
each value model's mean value and AUC (and, given several, their average's), beside the ceiling (plug-in:
the true rate as the value); then each AUC's bootstrap standard error over problems (how far apart two
models must be before a difference means something; paired: the same resamples for every model); then
why the failed roll-outs from those cuts failed (the first bad Step line of prefix + roll-out).
Arith-specific on purpose: it reads the task's own trace format to explain a number, nothing depends on it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

from thinklab.search.rollouts import LABEL_CORRECT, read_rollouts
from thinklab.search.train_value import bootstrap_aucs, outcome_pairs, roc_auc, standard_error
from thinklab.search.value_model import ValueFunction

STEP = re.compile(r"Step (\d+): (-?\d+) ([-+*]) (-?\d+) = (-?\d+)")


def first_error(question: str, text: str) -> str | None:
    """The kind of the first wrong Step line of `text`, or None if every Step line is right."""
    numbers = [int(x) for x in re.findall(r"-?\d+", question)]
    previous, operands = numbers[0], numbers[1:]
    for k, a, op, b, c in STEP.findall(text):
        k, a, b, c = int(k), int(a), int(b), int(c)
        if a != previous:
            return "carried the wrong value"
        if k > len(operands) or b != operands[k - 1]:
            return "misread an operand"
        if c != {"+": a + b, "-": a - b, "*": a * b}[op]:
            return f"wrong result ({op})"
        previous = c
    return None


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    rows = [r for r in read_rollouts(argv[0]) if 0.3 <= r["cut"] <= 0.7]
    questions = [r["prompt"].split("\n")[1] for r in rows]
    has_error = [first_error(q, r["roll_in"]) is not None for q, r in zip(questions, rows, strict=True)]
    rates = [sum(lab == LABEL_CORRECT for lab in r["labels"]) / len(r["labels"]) for r in rows]
    values = {
        d: ValueFunction.load(d)([r["prompt"] for r in rows], [r["roll_in"] for r in rows]) for d in argv[1:]
    }
    if len(values) > 1:  # an ensemble: would averaging the given value models help? (session 9)
        values["mean of these models"] = [sum(vs) / len(vs) for vs in zip(*values.values(), strict=True)]

    def mean_and_auc(scores: list[float], keep: list[bool]) -> str:
        """Mean prefix score and AUC against every roll-out label, over the kept prefixes."""
        kept = [v for v, k in zip(scores, keep, strict=True) if k]
        auc = roc_auc(*outcome_pairs(rows, scores, keep))
        return f"{sum(kept) / len(kept):.3f} / {'-' if auc is None else f'{auc:.3f}'}"

    print(
        "| prefixes | count | true success rate / ceiling AUC (plug-in) | "
        + " | ".join(f"{d}: mean value / AUC" for d in values)
        + " |"
    )
    print("|---|---|---|" + "---|" * len(values))
    for name, keep in (
        ("all", [True] * len(rows)),
        ("no error yet", [not e for e in has_error]),
        ("an error already", has_error),
    ):
        if any(keep):
            cells = [mean_and_auc(rates, keep)] + [mean_and_auc(v, keep) for v in values.values()]
            print(f"| {name} | {sum(keep)} | " + " | ".join(cells) + " |")

    print()
    print("\n".join(bootstrap_table(rows, {"ceiling (plug-in)": rates, **values})))

    why: Counter[str] = Counter()
    for q, r in zip(questions, rows, strict=True):
        for out, lab in zip(r["roll_outs"], r["labels"], strict=True):
            if lab == LABEL_CORRECT:
                continue
            kind = first_error(q, r["roll_in"] + out)
            if kind is None:
                steps = len(STEP.findall(r["roll_in"] + out))
                kind = (
                    "every Step line right, but too few"
                    if steps < len(re.findall(r"-?\d+", q)) - 1
                    else "other"
                )
            why[kind] += 1
    print(f"\nFailed roll-outs from these cuts: {sum(why.values())}")
    for kind, n in why.most_common():
        print(f"- {kind}: {n}")
    return 0


def bootstrap_table(rows: list[dict], scores: dict[str, list[float]]) -> list[str]:
    """Each scorer's AUC over all prefixes with its bootstrap s.e. over problems, and its paired
    difference from the first model after the ceiling (`train_value.bootstrap_aucs`)."""
    names = list(scores)
    base = names[1] if len(names) > 1 else names[0]
    draws = dict(zip(names, bootstrap_aucs(rows, list(scores.values())), strict=True))
    aucs = {k: roc_auc(*outcome_pairs(rows, v)) for k, v in scores.items()}
    lines = [
        f"| scorer | AUC (all mid-trace prefixes) | bootstrap s.e. ({len(draws[base])} resamples) "
        f"| minus {base} ± s.e. |",
        "|---|---|---|---|",
    ]
    for k in names:
        diff = standard_error([a - b for a, b in zip(draws[k], draws[base], strict=True)])
        paired = "-" if k == base else f"{aucs[k] - aucs[base]:+.3f} ± {diff:.3f}"
        lines.append(f"| {k} | {aucs[k]:.3f} | {standard_error(draws[k]):.3f} | {paired} |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
