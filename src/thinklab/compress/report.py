"""The compression report (`thinklab report compress`): what `thinklab compress` (and `compress-baseline`)
kept, and how models fine-tuned on the compressed sets do.

Reads only files those commands write: an output JSONL (one row per trace with its `rate`, `status`,
`original_tokens`, `compressed_tokens`) and its `<out>.summary.json`; and, optionally, the run dirs of
`thinklab eval` on models trained on each set (their `summary.json`). The first eval run is the
reference the others are compared with (in recipes/tiny/compress.yaml, the model trained on the
uncompressed traces).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thinklab.data.jsonl import read_jsonl
from thinklab.errors import ThinklabError


def load_output(path: str | Path) -> tuple[dict[str, Any], list[dict]]:
    """(summary, rows) of a `thinklab compress` or `compress-baseline` output JSONL."""
    p = Path(path)
    side = Path(f"{p}.summary.json")
    if not p.is_file():
        raise ThinklabError(f"{p}: no such compressed output")
    if not side.is_file():
        raise ThinklabError(f"{p}: no {side.name} beside it (not written by `thinklab compress`)")
    try:
        summary = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise ThinklabError(f"{side} is not valid JSON: {exc}") from None
    rows = [r for r in read_jsonl(p, allow_partial_last_line=True) if "rate" in r]
    return summary, rows


def _status(summary: dict, rows: list[dict]) -> dict[str, int]:
    if isinstance(summary.get("status"), dict):
        return summary["status"]
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.get("status", "?"))] = counts.get(str(r.get("status", "?")), 0) + 1
    return counts


def _f(x: Any, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def output_table(outputs: list[str | Path]) -> list[str]:
    """One row per compressed output: traces, compressed, token rate (kept / original thought tokens, all
    traces), mean per-trace rate, mean search steps, and the status counts (baselines: their method)."""
    lines = [
        "| output | method | traces | compressed | token rate | mean rate | mean search steps | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for path in outputs:
        summary, rows = load_output(path)
        method = f"baseline-{summary['method']}" if "method" in summary else "A*-Thought"
        status = ", ".join(f"{k} {v}" for k, v in sorted(_status(summary, rows).items()))
        lines.append(
            f"| {Path(path).name} | {method} | {summary.get('traces', summary.get('compressed', '-'))} | "
            f"{summary.get('compressed', len(rows))} | {_f(summary.get('token_rate'), '.3f')} | "
            f"{_f(summary.get('mean_rate'), '.3f')} | {_f(summary.get('mean_search_steps'), '.2f')} | {status} |"
        )
    return lines + [""]


def _eval_summary(run: str | Path) -> dict:
    """The summary of a `thinklab eval` run dir, or of an eval `--out` folder holding exactly one."""
    path = Path(run) / "summary.json"
    inside = sorted(Path(run).glob("*/summary.json"))
    if not path.is_file() and len(inside) == 1:
        path = inside[0]
    if not path.is_file():
        raise ThinklabError(f"{run}: no summary.json (not a finished `thinklab eval` run dir)")
    return json.loads(path.read_text())


def _names(runs: list[str | Path], names: list[str] | tuple[str, ...]) -> list[str]:
    if names and len(names) != len(runs):
        raise ThinklabError(f"{len(names)} names for {len(runs)} eval runs")
    return list(names) if names else [Path(r).name for r in runs]


def eval_table(runs: list[str | Path], names: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Accuracy and mean response length per eval run and budget, and each run against the first at
    the same budget (response length change in %, accuracy change in points)."""
    if not runs:
        return []
    labels = _names(runs, names)
    summaries = [_eval_summary(r) for r in runs]
    ref = summaries[0]["budgets"]
    lines = [
        f"| run | model | budget | problems | acc % | ± se | mean tokens | tokens vs {labels[0]} "
        f"| acc vs {labels[0]} (points) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, s in zip(labels, summaries, strict=True):
        for budget, m in sorted(s["budgets"].items(), key=lambda kv: int(kv[0])):
            if not m:
                continue
            r = ref.get(budget) or {}
            shorter = (
                f"{100 * (m['mean_tokens'] / r['mean_tokens'] - 1):+.1f}%" if r.get("mean_tokens") else "-"
            )
            diff = f"{100 * (m['accuracy'] - r['accuracy']):+.1f}" if "accuracy" in r else "-"
            lines.append(
                f"| {label} | {s.get('model', '-')} | {budget} | {m['problems']} | {100 * m['accuracy']:.1f} | "
                f"{100 * m.get('accuracy_stderr', 0.0):.1f} | {m['mean_tokens']:.1f} | {shorter} | {diff} |"
            )
    return lines + [""]


def markdown_report(
    outputs: list[str | Path], runs: list[str | Path] = (), names: list[str] | tuple[str, ...] = ()
) -> str:
    if not outputs and not runs:
        raise ThinklabError("give a compressed output (OUTPUT...) or eval run dirs (--runs)")
    parts = []
    if outputs:
        parts.append("### Compressed traces\n\n" + "\n".join(output_table(outputs)))
    if runs:
        parts.append(
            "### Models trained on the sets (thinklab eval)\n\n" + "\n".join(eval_table(runs, names))
        )
    return "\n".join(parts)


def plot_report(
    outputs: list[str | Path],
    png: str | Path,
    runs: list[str | Path] = (),
    names: list[str] | tuple[str, ...] = (),
) -> Path:
    """Left: the per-trace kept-token rate of each output (histogram); right, given eval runs: accuracy
    against mean response tokens per run (one point per budget)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = int(bool(outputs)) + int(bool(runs))
    fig, axes = plt.subplots(1, panels, figsize=(6.0 * panels, 4.2), dpi=120, squeeze=False)
    ax_iter = iter(axes[0])
    if outputs:
        ax = next(ax_iter)
        bins = [i / 20 for i in range(21)]
        for path in outputs:
            _, rows = load_output(path)
            rates = [min(float(r["rate"]), 1.0) for r in rows]
            ax.hist(
                rates, bins=bins, histtype="step", linewidth=1.5, label=f"{Path(path).name} ({len(rates)})"
            )
        ax.set_xlabel("kept thought tokens / original (per trace)")
        ax.set_ylabel("traces")
        ax.set_title("kept-token rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if runs:
        ax = next(ax_iter)
        for label, run in zip(_names(runs, names), runs, strict=True):
            s = _eval_summary(run)
            pts = sorted(
                (int(b), m["mean_tokens"], 100 * m["accuracy"]) for b, m in s["budgets"].items() if m
            )
            ax.plot([p[1] for p in pts], [p[2] for p in pts], "o-", label=label)
            for b, x, y in pts:
                ax.annotate(
                    str(b), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7, color="gray"
                )
        ax.set_xlabel("mean response tokens")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(bottom=0)
        ax.set_title("trained on each set (labels: budget)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    from thinklab.eval.plot import save_figure

    return save_figure(fig, png)
