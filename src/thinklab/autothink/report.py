"""Per-stage reports: think rate (overall, per level, per difficulty third), accuracy, mean tokens.

Input is what `thinklab eval` writes (`summary.json`, whose ``by_level`` already holds accuracy, tokens
and think rate per arith level). The "what it must show" targets are checked against a standard-prompt
baseline: think rate <= 30% on the easiest third and >= 70% on the hardest third, mean tokens at least
30% below the baseline, accuracy at most 2 points below it. Thirds of arith's eight levels are the task's
own presets: easy = levels 1-3 (`arith:easy`), hard = levels 6-8 (`arith:hard`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError

EASY_LEVELS = (1, 2, 3)
HARD_LEVELS = (6, 7, 8)
TARGETS = {
    "easy_think_rate_max": 0.30,
    "hard_think_rate_min": 0.70,
    "token_cut_min": 0.30,
    "accuracy_drop_max": 0.02,
}


def load_summary(path: str | Path) -> dict:
    """A run dir, its summary.json, or an `--out` folder holding exactly one run dir."""
    p = Path(path)
    if p.is_dir():
        inside = sorted(p.glob("*/summary.json"))
        p = inside[0] if not (p / "summary.json").is_file() and len(inside) == 1 else p / "summary.json"
    if not p.is_file():
        raise ThinklabError(f"no eval summary at {p} (run `thinklab eval` first)")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ThinklabError(f"{p} is not valid JSON: {exc}") from None


def mode_accuracy(run: str | Path, budget: str | int | None = None) -> dict[str, dict[str, dict]]:
    """Accuracy of thinking and of direct (no-think) answers per arith level, from a run's samples.jsonl.

    Returns ``{level: {"think": {"n", "accuracy"}, "no_think": {"n", "accuracy"}}}`` (a mode with no samples
    at a level is left out; {} when the run dir has no samples file). This is what AutoThink's reward
    trades: answering directly pays off (2 right / -1 wrong against thinking's 1 / 0) only where the
    direct accuracy p beats (1 + q) / 3, q being the thinking accuracy at that level.
    """
    p = Path(run)
    if p.is_file():
        p = p.parent
    if not (p / "samples.jsonl").is_file():
        inside = sorted(p.glob("*/samples.jsonl"))
        if len(inside) != 1:
            return {}
        p = inside[0].parent
    rows = [json.loads(line) for line in (p / "samples.jsonl").read_text().splitlines() if line.strip()]
    if budget is None and rows:
        budget = max(int(r.get("budget", 0)) for r in rows)
    counts: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        if budget is not None and int(r.get("budget", 0)) != int(budget):
            continue
        mode = "think" if r.get("think") else "no_think"
        c = counts.setdefault(str(r.get("level", 0)), {}).setdefault(mode, [0, 0])
        c[0] += 1
        c[1] += bool(r.get("correct"))
    return {
        lv: {m: {"n": n, "accuracy": k / n} for m, (n, k) in modes.items()}
        for lv, modes in sorted(counts.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
    }


def _pool(by_level: dict[str, dict], levels: tuple[int, ...]) -> dict[str, float] | None:
    """Problem-weighted means over some levels (None when none of them was evaluated)."""
    rows = [by_level[str(lv)] for lv in levels if str(lv) in by_level]
    n = sum(r["problems"] for r in rows)
    if not n:
        return None
    return {
        key: sum(r[key] * r["problems"] for r in rows) / n
        for key in ("accuracy", "mean_tokens", "think_rate")
    } | {"problems": n}


def stage_report(summary: dict, budget: str | int | None = None, name: str = "") -> dict[str, Any]:
    """The numbers of one evaluation: overall, easy/hard thirds and per level."""
    budgets = summary.get("budgets") or {}
    if not budgets:
        raise ThinklabError("the eval summary has no budgets")
    key = str(budget) if budget is not None else max(budgets, key=int)
    if key not in budgets:
        raise ThinklabError(f"budget {key} not in the summary (has {', '.join(budgets)})")
    entry = budgets[key]
    by_level = entry.get("by_level") or {}
    return {
        "name": name or summary.get("model", ""),
        "prompt_mode": (summary.get("config") or {}).get("prompt_mode"),
        "budget": int(key),
        "problems": entry["problems"],
        "accuracy": entry["accuracy"],
        "mean_tokens": entry["mean_tokens"],
        "think_rate": entry["think_rate"],
        "easy": _pool(by_level, EASY_LEVELS),
        "hard": _pool(by_level, HARD_LEVELS),
        "by_level": {
            lv: {k: row[k] for k in ("problems", "accuracy", "mean_tokens", "think_rate")}
            for lv, row in by_level.items()
        },
    }


def check_targets(report: dict, baseline: dict) -> dict[str, Any]:
    """Compare a policy's report with the standard-prompt baseline's; each target gets value and pass."""
    cut = 1.0 - report["mean_tokens"] / baseline["mean_tokens"] if baseline["mean_tokens"] else 0.0
    drop = baseline["accuracy"] - report["accuracy"]
    easy = (report.get("easy") or {}).get("think_rate")
    hard = (report.get("hard") or {}).get("think_rate")
    return {
        "easy_think_rate": {
            "value": easy,
            "pass": easy is not None and easy <= TARGETS["easy_think_rate_max"],
        },
        "hard_think_rate": {
            "value": hard,
            "pass": hard is not None and hard >= TARGETS["hard_think_rate_min"],
        },
        "token_cut": {"value": cut, "pass": cut >= TARGETS["token_cut_min"]},
        "accuracy_drop": {"value": drop, "pass": drop <= TARGETS["accuracy_drop_max"]},
    }


def markdown(reports: list[dict], baseline: dict | None = None) -> str:
    """A table of reports (one row each) and, with a baseline, the target checks of the last one."""
    levels = sorted({int(lv) for r in reports for lv in r["by_level"]})
    head = ["run", "mode", "acc", "tokens", "think", "think easy", "think hard"] + [
        f"think L{lv}" for lv in levels
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    for r in reports:
        cells = [
            r["name"], str(r["prompt_mode"]), pct(r["accuracy"]), f"{r['mean_tokens']:.1f}", pct(r["think_rate"]),
            pct((r["easy"] or {}).get("think_rate")), pct((r["hard"] or {}).get("think_rate")),
        ] + [pct(r["by_level"].get(str(lv), {}).get("think_rate")) for lv in levels]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    with_modes = [r for r in reports if r.get("by_mode")]
    if with_modes:
        lines += ["", "Accuracy of thinking / direct answers per level (samples in that mode):", ""]
        lines += ["| run | " + " | ".join(f"L{lv}" for lv in levels) + " |", "|" + "---|" * (len(levels) + 1)]

        def cell(m: dict | None) -> str:
            return "-" if not m else f"{100 * m['accuracy']:.0f}% ({m['n']})"

        for r in with_modes:
            cells = [
                f"{cell(r['by_mode'].get(str(lv), {}).get('think'))} / "
                f"{cell(r['by_mode'].get(str(lv), {}).get('no_think'))}"
                for lv in levels
            ]
            lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    if baseline is not None and reports:
        checks = check_targets(reports[-1], baseline)
        lines += ["", f"Targets for {reports[-1]['name']} against {baseline['name']}:", ""]
        for name, c in checks.items():
            value = "-" if c["value"] is None else f"{100 * c['value']:.1f}%"
            lines.append(f"- {name}: {value} ({'pass' if c['pass'] else 'FAIL'})")
    return "\n".join(lines) + "\n"


def plot_stages(reports: list[dict], out: str | Path, baseline: dict | None = None) -> Path:
    """Think rate (overall, easiest and hardest third) and accuracy per stage, the baseline's as dashed
    lines: AutoThink should keep accuracy while the easy think rate falls below the hard one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] or f"run {i + 1}" for i, r in enumerate(reports)]
    xs = list(range(len(reports)))

    def series(get: Any) -> list[float]:
        return [float("nan") if get(r) is None else 100 * get(r) for r in reports]

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for get, label, style in (
        (lambda r: r["accuracy"], "accuracy", "o-"),
        (lambda r: r["think_rate"], "think rate", "s-"),
        (lambda r: (r["easy"] or {}).get("think_rate"), f"think rate, levels {EASY_LEVELS[0]}-{EASY_LEVELS[-1]}", "v--"),
        (lambda r: (r["hard"] or {}).get("think_rate"), f"think rate, levels {HARD_LEVELS[0]}-{HARD_LEVELS[-1]}", "^--"),
    ):  # fmt: skip
        ax.plot(xs, series(get), style, label=label)
    if baseline is not None:
        ax.axhline(100 * baseline["accuracy"], color="C0", ls=":", lw=1, label=f"{baseline['name']} accuracy")
        ax.axhline(
            100 * baseline["think_rate"], color="C1", ls=":", lw=1, label=f"{baseline['name']} think rate"
        )
    ax.set_xticks(xs, names)
    ax.set_ylim(0, 102)
    ax.set_ylabel("%")
    ax.set_xlabel("stage")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(
        f"AutoThink per stage (budget {reports[-1]['budget']})" if reports else "AutoThink per stage"
    )
    from thinklab.eval.plot import save_figure

    return save_figure(fig, out)
