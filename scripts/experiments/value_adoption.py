"""Read a candidate value model against the default one by sessions 11-12's adoption rule (docs/search.md).

    .venv/bin/python scripts/experiments/value_adoption.py BASE_PREFIX CANDIDATE_PREFIX

Each prefix names five `thinklab value-eval` JSON files, `PREFIX_{val,test,ceiling,confirm,fresh17}.json`
(validation, test, and the three large held-out sets: `arith:L8` ceiling, `arith-fresh:L8:11` ceiling,
`arith-fresh:L8:17` mid). The rule, fixed before each run: adopt the candidate only if BOTH its
precision-weighted mid-trace AUC over the three large sets is >= 0.8 (the issue's target) AND its
within-problem AUC on finished traces is not lower than the base's on at least 3 of the 5 sets.

Precision-weighted: the inverse-variance mean of the sets' `mid_trace_auc`, weights 1 / s.e.^2 from their
`mid_trace_auc_se`, and its s.e. sqrt(1 / sum of weights); the sets hold different problems, so they are
independent. Sessions 9-11 did this sum by hand; a script makes the verdict reproducible.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

LARGE = ("ceiling", "confirm", "fresh17")
ALL_SETS = ("val", "test", *LARGE)
TARGET = 0.8


def weighted_auc(evals: dict[str, dict]) -> tuple[float, float] | None:
    """Inverse-variance mean of the large sets' mid-trace AUCs and its standard error (None if a report
    predates `mid_trace_auc_se`: session 9's were written before value-eval had it)."""
    if any(evals[s].get("mid_trace_auc_se") is None for s in LARGE):
        return None
    weights = [1 / evals[s]["mid_trace_auc_se"] ** 2 for s in LARGE]
    mean = sum(w * evals[s]["mid_trace_auc"] for w, s in zip(weights, LARGE, strict=True)) / sum(weights)
    return mean, math.sqrt(1 / sum(weights))


def _f3(x: float | None) -> str:
    """Three digits; "n/a" for an AUC a set could not give (one class only)."""
    return "n/a" if x is None else f"{x:.3f}"


def load(prefix: str) -> dict[str, dict]:
    """The five value-eval reports of one model, by set name; a missing file stops with its path."""
    evals = {}
    for name in ALL_SETS:
        path = Path(f"{prefix}_{name}.json")
        if not path.is_file():
            sys.exit(f"error: missing value-eval report {path}")
        evals[name] = json.loads(path.read_text())
    return evals


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base, cand = load(argv[0]), load(argv[1])
    print("| set | base mid-trace AUC | candidate | base finished within-problem | candidate |")
    print("|---|---|---|---|---|")
    not_lower = 0
    for s in ALL_SETS:
        fb, fc = (m[s]["finished"]["within_problem_auc"] for m in (base, cand))
        # None: no problem with both right and wrong finished traces; no comparison, so it cannot count.
        not_lower += fb is not None and fc is not None and fc >= fb
        se = cand[s].get("mid_trace_auc_se")
        se_txt = f" ± {se:.3f}" if se is not None else ""
        mb, mc = base[s]["mid_trace_auc"], cand[s]["mid_trace_auc"]
        print(f"| {s} | {_f3(mb)} | {_f3(mc)}{se_txt} | {_f3(fb)} | {_f3(fc)} |")
    wb, wc = weighted_auc(base), weighted_auc(cand)
    if wc is None:
        sys.exit("error: the candidate's reports lack mid_trace_auc_se; rerun thinklab value-eval")
    base_txt = f"{wb[0]:.3f} ± {wb[1]:.3f}" if wb else "n/a (reports without s.e.)"
    print(
        f"\nweighted mid-trace AUC over {', '.join(LARGE)}: base {base_txt}, candidate {wc[0]:.3f} ± {wc[1]:.3f}"
    )
    print(f"finished ranking not lower than base on {not_lower} of {len(ALL_SETS)} sets")
    adopt = wc[0] >= TARGET and not_lower >= 3
    print(f"verdict: {'ADOPT' if adopt else 'do not adopt'} (needs weighted >= {TARGET} and >= 3 of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
