"""The grader against real data from shared/: a peer test suite of 437 labelled answer pairs, and the gold
answers of MATH-500 and GSM8K. Skipped when shared/ is absent.

Run ``pytest tests/grading/test_grading_shared.py -s`` (or ``python bench/grading.py --agreement``) to see
the per-project agreement table that docs/grading.md reports.
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from thinklab.grading import compare, extract_answer, extract_boxed, grade, is_equivalent

MIN_AGREEMENT = 0.97

# Rows of shared/grader/answer_equivalence.jsonl whose label is NOT a statement about mathematical
# equivalence, keyed by the row's stable `id`. Each reason names the grader setting or quirk the label
# encodes. Rows are excluded for what their label means, never because thinklab fails them: several
# excluded rows pass, and every failing row that does mean equivalence stays in (see docs/grading.md).
EXCLUDED: dict[str, str] = {
    # Math-Verify configured for LaTeX-only extraction: the label checks that its inline-math regex does
    # not cross a newline, so "Answer $ \n 9 \n $" yields nothing. thinklab also reads plain numbers,
    # and the answer there is 9.
    "math-verify-0029": "extraction config match_types=['latex'] (inline $ across newlines)",
    "math-verify-0030": "extraction config match_types=['latex'] (inline \\( across newlines)",
    # Float precision settings coarser than thinklab's documented rule (relative 1e-4 for decimals).
    "math-verify-0128": "config precision=2: 0.33 = 1/3 only after rounding to 2 decimals",
    "math-verify-0134": "config precision=2: endpoint 2.6667 = 8/3 by rounding to 2 decimals",
    "math-verify-0185": "config precision=4: 0.3333 = 1/3 by rounding to 4 decimals (exactly at 1e-4 relative)",
    # Non-default comparison switches.
    "math-verify-0181": "config allow_set_relation_comp=False: -2<=x<=7 and [-2,7] are the same set",
    "math-verify-0246": "config strict=False: f(x) = f(y) only when variable names are ignored",
    # A wrong label: upstream Math-Verify tests/test_yujianll.py expects 0 for this pair, and
    # 1 - 1/e != 1 + 1/e. (Math-Verify 0.9.0 itself returns True here: its unit stripping deletes the
    # trailing \mathrm{e} and reads both sides as 1.)
    "math-verify-0256": "mislabelled: 1 - 1/e vs 1 + 1/e is labelled equal; upstream test says 0",
    # lighteval's multilingual configs anchor on translated words ("Réponse:"); thinklab's extractor is
    # English-anchored and takes the last number ("12 mois").
    "lighteval-0012": "config language=FRENCH: the answer is found only via the 'Réponse:' anchor",
    # lighteval's rule for which of several \boxed{} in a gold text form the answer ("\boxed{1} and and and
    # or thus but \boxed{2} and \boxed{3}" -> {2,3}); a box-joining heuristic, not equivalence. Math-Verify
    # 0.9.0 joins all three.
    "lighteval-0025": "lighteval box-joining heuristic decides the gold ({2,3}), not mathematics",
    "lighteval-0026": "lighteval box-joining heuristic decides the gold ({2,3}), not mathematics",
    # hendrycks/math's is_equiv is a normalised *string* match, so a list in another order is "different";
    # thinklab (like Math-Verify, and MARIO_EVAL's "1, 2, 3" = "1, 3, 2" in this same file) reads a bare
    # comma list as a set of solutions.
    "math-0002": "string-match grader: order of an unordered answer list matters to it",
    "math-0009": "string-match grader: order of an unordered answer list matters to it",
    # MARIO_EVAL strips units from a fixed word list with spacing rules, so "10weeks" = 10 and
    # "10 \text{cm}" = 10 (both labelled equal in this file) but "10cm" != 10. thinklab, like Math-Verify,
    # strips attached unit abbreviations too. ("10m" != 10 stays in: thinklab never strips a single
    # letter, which may be a variable.)
    "mario_eval-0033": "MARIO_EVAL unit-list quirk: '10cm' != 10 while '10 \\text{cm}' = 10",
    # simple-evals' LLM-judge rule: "only trivial simplifications count"; 3245/5 is 649 but takes a division.
    "simple-evals-0005": "LLM-judge semantics: mathematically equal, but the judge forbids non-trivial steps",
}


def load_cases(shared: Path) -> list[dict[str, Any]]:
    path = shared / "grader" / "answer_equivalence.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# The peer suites' labels come from graders that read an answer out of prose when there is no box
# ("The sum is 55" = 55 for SkyThought's last number, "Therefore $x \\geq 5$ is the solution" for
# Math-Verify's last LaTeX span). thinklab's `harness` extraction policy is the one that reads prose that
# way, so the agreement is measured with it; under `strict` (the default for thinking models) those
# responses have no answer by design, which `test_strict_differs_only_by_refusing_prose` checks.
AGREEMENT_POLICY = "harness"


def agreement_table(cases: list[dict[str, Any]], policy: str = AGREEMENT_POLICY) -> dict[str, Any]:
    """Grade every case; agreement per source project on included rows and on all rows."""
    per_project: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    disagreements: list[dict[str, Any]] = []
    for case in cases:
        equal, reason = compare(case["gold"], case["pred"], policy=policy)
        agrees = equal == bool(case["expected_equal"])
        included = case["id"] not in EXCLUDED
        stats = per_project[case["source_repo"]]
        stats["all"] += 1
        stats["all_agree"] += agrees
        stats["included"] += included
        stats["included_agree"] += agrees and included
        stats["timeouts"] += reason == "timeout"
        if not agrees:
            disagreements.append({**case, "got": equal, "reason": reason, "included": included})
    totals = {
        key: sum(s[key] for s in per_project.values())
        for key in ("all", "all_agree", "included", "included_agree")
    }
    return {"per_project": per_project, "totals": totals, "disagreements": disagreements}


def format_table(result: dict[str, Any]) -> str:
    """The markdown table docs/grading.md shows."""
    lines = [
        "| project | rows | excluded | agree (included) | agree (all rows) |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = sorted(result["per_project"].items(), key=lambda kv: -kv[1]["all"])
    for name, s in [*rows, ("**total**", result["totals"])]:
        inc = f"{s['included_agree']}/{s['included']} ({100 * s['included_agree'] / max(s['included'], 1):.1f}%)"
        all_ = f"{s['all_agree']}/{s['all']} ({100 * s['all_agree'] / max(s['all'], 1):.1f}%)"
        lines.append(f"| {name} | {s['all']} | {s['all'] - s['included']} | {inc} | {all_} |")
    return "\n".join(lines)


def test_excluded_rows_exist(shared_dir: Path) -> None:
    ids = {case["id"] for case in load_cases(shared_dir)}
    assert set(EXCLUDED) <= ids, sorted(set(EXCLUDED) - ids)


def test_agreement_with_peer_graders(shared_dir: Path) -> None:
    result = agreement_table(load_cases(shared_dir))
    print("\n" + format_table(result))
    for d in result["disagreements"]:
        tag = "counted" if d["included"] else "excluded"
        print(
            f"  [{tag}] {d['id']}: gold={d['gold']!r:.60} pred={d['pred']!r:.60} expected={d['expected_equal']}"
        )
    totals = result["totals"]
    agreement = totals["included_agree"] / totals["included"]
    assert agreement >= MIN_AGREEMENT, f"agreement {agreement:.3f} on {totals['included']} rows"
    assert sum(s["timeouts"] for s in result["per_project"].values()) == 0


def test_strict_differs_only_by_refusing_prose(shared_dir: Path) -> None:
    """Under `strict`, a row graded differently from `harness` is one whose prediction is prose without
    a boxed/final/"answer is" answer (reason no_answer), or one where an explicit box comes before
    Minerva's closing sentence; nothing else about equivalence changes."""
    changed = []
    for case in load_cases(shared_dir):
        strict = compare(case["gold"], case["pred"], policy="strict")
        harness = compare(case["gold"], case["pred"], policy="harness")
        if strict[0] != harness[0]:
            changed.append((case["id"], strict, harness))
    print(f"\n{len(changed)} rows graded differently under strict")
    assert changed, "the peer suite has prose predictions; strict must refuse some"
    minerva_first = {"math-verify-0167"}  # \boxed{255} (an intermediate) then "The final answer is $10,455$"
    assert all(s == (False, "no_answer") or i in minerva_first for i, s, _ in changed), changed


def test_math500_gold_matches_reference_solution(shared_dir: Path) -> None:
    rows = [
        json.loads(x) for x in (shared_dir / "benchmarks/math500/test.jsonl").read_text().splitlines() if x
    ]
    assert len(rows) == 500
    failures = []
    for row in rows:
        boxed = extract_boxed(row["solution"])
        if boxed is None or not is_equivalent(row["answer"], boxed):
            failures.append((row["id"], row["answer"], boxed))
        # The whole solution as a response: extraction must find the same answer.
        if extract_answer(row["solution"]) != boxed:
            failures.append((row["id"], "extract_answer", extract_answer(row["solution"])))
    assert not failures, failures[:10]


def test_gsm8k_gold_matches_hash_answer(shared_dir: Path) -> None:
    rows = [json.loads(x) for x in (shared_dir / "benchmarks/gsm8k/test.jsonl").read_text().splitlines() if x]
    assert len(rows) == 1319
    failures = []
    for row in rows:
        after_hash = row["solution"].split("####")[-1].strip()
        assert after_hash == row["answer_raw"]
        if not is_equivalent(row["answer"], row["answer_raw"]):  # "2,125" vs "2125"
            failures.append((row["id"], row["answer"], row["answer_raw"]))
        if not is_equivalent(row["answer"], extract_answer(row["solution"], last_number=True)):
            failures.append((row["id"], row["answer"], "last number of the solution"))
    assert not failures, failures[:10]


# Gold answers of the two benchmarks added in issue 26 that are not graded equal to their own reference,
# with the reason (none at present: minerva-72's answer "x_{0} \\cos (\\omega t)+$ $\\dot{x}_{0} ..." keeps the
# stray "$ $" of the harness that cut it, which the grader drops).
GOLD_EXCEPTIONS: dict[str, str] = {}


@pytest.mark.parametrize("name", ["minerva", "olympiadbench"])
def test_new_benchmark_golds_match_their_references(shared_dir: Path, name: str) -> None:
    """Minerva: the gold equals the last \\boxed{} of its solution, and the solution graded as a response is
    correct. OlympiadBench: the gold equals its `final_answer` list. Both: a boxed answer is credited."""
    rows = [
        json.loads(x) for x in (shared_dir / f"benchmarks/{name}/test.jsonl").read_text().splitlines() if x
    ]
    assert len(rows) == {"minerva": 272, "olympiadbench": 675}[name]
    failures = []
    for row in rows:
        if row["id"] in GOLD_EXCEPTIONS:
            continue
        if name == "minerva":
            reference = extract_boxed(row["solution"])
            if not grade(row["answer"], row["solution"]).correct:
                failures.append((row["id"], "solution as a response"))
        else:
            reference = ", ".join(row["final_answer"]).replace("$", "")
        if reference is None or not is_equivalent(row["answer"], reference):
            failures.append((row["id"], row["answer"], reference))
        if not grade(row["answer"], f"</think>\n\nSo the answer is $\\boxed{{{row['answer']}}}$.").correct:
            failures.append((row["id"], "boxed", row["answer"]))
    assert not failures, failures[:10]


def test_minerva_gold_with_stray_dollars_accepts_a_clean_answer() -> None:
    gold = "x_{0} \\cos (\\omega t)+$ $\\dot{x}_{0} \\sin (\\omega t) / \\omega"  # minerva-72
    assert is_equivalent(gold, "x_0\\cos(\\omega t) + \\frac{\\dot{x}_0}{\\omega}\\sin(\\omega t)")
    assert not is_equivalent(gold, "x_0\\cos(\\omega t)")


@pytest.mark.parametrize("name", ["aime24", "aime25", "amc23"])
def test_competition_gold_answers_are_self_equivalent(shared_dir: Path, name: str) -> None:
    rows = [
        json.loads(x) for x in (shared_dir / f"benchmarks/{name}/test.jsonl").read_text().splitlines() if x
    ]
    for row in rows:
        assert is_equivalent(row["answer"], f"The answer is $\\boxed{{{row['answer']}}}$."), row["answer"]


def test_r1_traces_grade_like_their_labels(shared_dir: Path) -> None:
    """Real DeepSeek-R1-Distill responses (thinking + solution): `grade` agrees with every is_correct label."""
    from thinklab.grading import grade

    rows = [
        json.loads(x)
        for x in (shared_dir / "traces/r1_distill_math_traces.jsonl").read_text().splitlines()
        if x
    ]
    assert rows
    for row in rows:
        result = grade(row["answer"], row["response"])
        assert result.correct == row["is_correct"], (row["id"], row["answer"], result)


def test_shared_dir_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Load this folder's conftest by path: "import conftest" could find another folder's conftest.
    spec = importlib.util.spec_from_file_location("grading_conftest", Path(__file__).with_name("conftest.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    find_shared_dir = module.find_shared_dir

    monkeypatch.setenv("THINKLAB_SHARED_DIR", str(tmp_path))
    assert find_shared_dir() == tmp_path.resolve()
    monkeypatch.setenv("THINKLAB_SHARED_DIR", str(tmp_path / "missing"))
    assert find_shared_dir() is None
