"""Before/after table for ThinkPO from `thinklab eval` run dirs (`python -m thinklab.thinkpo.compare`).

ThinkPO's claim is two-sided: responses get longer *and* accuracy goes up. The table puts both side by
side per run (and per level when the task has levels), from the runs' `summary.json` files only, so
every number in docs/thinkpo.md can be traced to a run dir.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path


def _summary(run_dir: str | Path) -> dict:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        from thinklab.errors import ThinklabError

        raise ThinklabError(f"{run_dir}: no summary.json (not a finished `thinklab eval` run dir)")
    return json.loads(path.read_text())


def compare_table(runs: dict[str, str | Path] | Iterable[tuple[str, str | Path]]) -> str:
    """Markdown: one row per (label, task, budget) with accuracy ± stderr, mean tokens, mean thinking
    tokens; then accuracy by level if the runs have levels. `runs`: label -> run dir, or (label, run
    dir) pairs, where one label may name several runs (e.g. "before" on two tasks)."""
    lines = [
        "| model | task | budget | problems | accuracy | ± stderr | mean tokens | mean thinking tokens |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_level: dict[str, dict[str, float]] = {}
    for label, run in runs.items() if isinstance(runs, dict) else runs:
        s = _summary(run)
        for budget, b in s["budgets"].items():
            lines.append(
                f"| {label} | {s['task']} | {budget} | {b.get('problems', '-')} | {b['accuracy']:.3f} | "
                f"{b.get('accuracy_stderr', 0):.3f} | {b.get('mean_tokens', 0):.1f} | {b.get('mean_thinking_tokens', 0):.1f} |"
            )
            for lv, entry in (b.get("by_level") or {}).items():
                by_level.setdefault(f"{label} ({s['task']}, {budget})", {})[lv] = entry["accuracy"]
    if by_level:
        levels = sorted({lv for row in by_level.values() for lv in row}, key=int)
        lines += [
            "",
            "| run | " + " | ".join(f"L{lv}" for lv in levels) + " |",
            "|---|" + "---|" * len(levels),
        ]
        for name, row in by_level.items():
            lines.append(
                f"| {name} | " + " | ".join(f"{row[lv]:.3f}" if lv in row else "-" for lv in levels) + " |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """`python -m thinklab.thinkpo.compare LABEL=RUN_DIR ...`"""
    runs = []
    for arg in argv:
        label, sep, path = arg.partition("=")
        if not sep:
            raise SystemExit(f"expected LABEL=RUN_DIR, got {arg!r}")
        runs.append((label, path))  # a label may repeat (one phase, several tasks)
    print(compare_table(runs))


if __name__ == "__main__":
    main(sys.argv[1:])
