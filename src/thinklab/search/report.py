"""The test-time scaling report (`thinklab report search OUT_DIR...`): markdown tables and a plot
from the run dirs of recipes/tiny/search.yaml (or of one `thinklab search --out DIR`).

Reads, under an output dir: value_auc*.json and value/value_training.json (value model),
rollouts/ceiling.jsonl (the AUC no value model can beat), the
strategies/*/summary.json of `thinklab search` (accuracy vs generated tokens per problem; a dir with no
strategies/ folder is read as a `thinklab search --out` dir itself) and the
forcing/*/summary.json of `thinklab eval --extend K` (s1 budget forcing), and the best-of-N run's
candidates (how the value model ranks one problem's finished traces), and each strategy's paired
difference from majority vote on the same problems. Where a strategy or K has
several run dirs (other settings), the most recently written one is shown and the others are named.
`pool=True` reads several output dirs as one set of problems for the paired differences.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from thinklab.data.jsonl import read_jsonl
from thinklab.errors import ThinklabError
from thinklab.search.rollouts import read_rollouts
from thinklab.search.train_value import auc_ceiling, within_group_auc

STRATEGY_ORDER = ["single", "majority", "weighted", "bon", "beam", "dvts"]


def strategy_runs(out: Path) -> dict[str, list[Path]]:
    """`thinklab search` run dirs under out/strategies, by the strategy their summary names, in
    STRATEGY_ORDER (unknown names last)."""
    by_strategy: dict[str, list[Path]] = {}
    root = out / "strategies" if (out / "strategies").is_dir() else out
    for s in root.glob("*/summary.json"):
        summary = json.loads(s.read_text())
        if "strategy" in summary:  # a `thinklab eval` run dir beside them is not a strategy
            by_strategy.setdefault(summary["strategy"], []).append(s.parent)
    rank = {n: i for i, n in enumerate(STRATEGY_ORDER)}
    return dict(sorted(by_strategy.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _latest(dirs: list[Path]) -> tuple[Path, list[Path]]:
    dirs = sorted(dirs, key=lambda d: (d / "summary.json").stat().st_mtime)
    return dirs[-1], dirs[:-1]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _f3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def value_tables(out: Path) -> list[str]:
    lines = []
    train = out / "value" / "value_training.json"
    if train.is_file():
        t = json.loads(train.read_text())
        lines += [
            f"Value model: {t['examples']} training roll-outs from {t['rows']} roll-in cuts "
            f"(labels {t['label_counts']}), {t['steps']} steps, {t['minutes']} min; "
            f"loss {t['losses'][0] if t['losses'] else '-'} -> {t['losses'][-1] if t['losses'] else '-'}.",
            "",
        ]
    for name, label in (
        ("value_auc.json", "held-out roll-outs from sampled roll-ins"),
        ("value_auc_greedy.json", "held-out roll-outs from greedy roll-ins"),
        ("value_auc_ceiling.json", "held-out roll-outs, 16 per cut (`rollouts/ceiling.jsonl`)"),
    ):
        if (out / name).is_file():
            lines += [
                f"Value model on {label} (`{name}`):",
                "",
                *_auc_table(json.loads((out / name).read_text())),
            ]
    return lines


def _auc_table(a: dict) -> list[str]:
    lines = [
        "| cut (fraction of the roll-in trace) | pairs | P(correct) | ROC AUC | mean V, correct | mean V, wrong |",
        "|---|---|---|---|---|---|",
    ]
    for cut, m in a["by_cut"].items():
        lines.append(
            f"| {cut} | {m['pairs']} | {_pct(m['correct_rate'])}% | {_f3(m['auc'])} | "
            f"{_f3(m['mean_value_correct'])} | {_f3(m['mean_value_wrong'])} |"
        )
    lines.append("")
    if a.get("mid_trace_auc") is not None:
        lines.append(
            f"**Mid-trace ROC AUC** (cuts {', '.join(a['mid_trace_cuts'])}): {a['mid_trace_auc']:.3f}"
            + (
                f" ± {a['mid_trace_auc_se']:.3f} (bootstrap over problems)"
                if a.get("mid_trace_auc_se")
                else ""
            )
        )
    if a.get("by_level"):
        per = ", ".join(
            f"L{lv} {_f3(m['auc'])} ({m['pairs']} pairs, {_pct(m['correct_rate'])}% correct)"
            for lv, m in a["by_level"].items()
        )
        lines.append(f"AUC within one level (all cuts): {per}. Brier score: {a['brier']:.3f}.")
    f = a.get("finished")
    if f and f.get("pairs"):
        lines.append(
            f"Finished roll-outs valued at their end: **within-problem AUC {_f3(f['within_problem_auc'])}** "
            f"({f['pairs']} right/wrong pairs in {f['problems']} problems; pooled {_f3(f['pooled_auc'])})."
        )
    lines.append("")
    return lines


def ceiling_table(out: Path) -> list[str]:
    """The AUC no value model can beat on `rollouts/ceiling.jsonl` (many roll-outs per prefix), per
    cut, beside the value model's AUC on the same file (`value_auc_ceiling.json`)."""
    path = out / "rollouts" / "ceiling.jsonl"
    if not path.is_file():
        return []
    ceiling = auc_ceiling(read_rollouts(path))
    model = {}
    if (out / "value_auc_ceiling.json").is_file():
        model = json.loads((out / "value_auc_ceiling.json").read_text())["by_cut"]
    lines = [
        "| cut | prefixes | roll-outs | P(correct) | prefixes all right / all wrong "
        "| ceiling: plug-in | ceiling: leave-one-out | value model |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cut, c in ceiling.items():
        lines.append(
            f"| {cut} | {c['prefixes']} | {c['roll_outs']} | {_pct(c['correct_rate'])}% | "
            f"{c['all_right']} / {c['all_wrong']} | {_f3(c['plug_in'])} | {_f3(c['leave_one_out'])} | "
            f"{_f3(model.get(cut, {}).get('auc'))} |"
        )
    return [*lines, "", "(thinklab.search.train_value.auc_ceiling says what the two estimates are.)", ""]


def strategy_table(out: Path) -> list[str]:
    by_strategy = strategy_runs(out)
    if not by_strategy:
        return []
    lines = [
        "| strategy | budget (width) | accuracy % (± s.e.) | generated tokens / problem | blocks / problem "
        "| value-model tokens / problem | also |",
        "|---|---|---|---|---|---|---|",
    ]
    notes, seconds = [], 0.0
    for name, dirs in by_strategy.items():
        run, older = _latest(dirs)
        notes += [f"older {name} run ignored: {o}" for o in older]
        summary = json.loads((run / "summary.json").read_text())
        seconds = max(seconds, summary.get("seconds", 0.0))
        for budget, m in sorted(summary["budgets"].items(), key=lambda kv: int(kv[0])):
            if not m:
                continue
            also = []
            if name == "single":
                also.append(f"avg@{budget} over {m['samples']} samples")
            if "accuracy_tie_split" in m and name in ("majority", "weighted"):
                also.append(f"tie-split {_pct(m['accuracy_tie_split'])}")
            for k in ("maj", "bon"):
                if f"accuracy_{k}" in m:
                    also.append(f"{k} over the same beams {_pct(m[f'accuracy_{k}'])}")
            lines.append(
                f"| {name} | {budget} | {_pct(m['accuracy'])} ± {_pct(m['accuracy_stderr'])} | "
                f"{m['mean_tokens']:.0f} | {m.get('mean_blocks', 0):.1f} | {m.get('mean_value_tokens', 0):.0f} | "
                f"{'; '.join(also)} |"
            )
    lines.append("")
    lines.append(f"`thinklab search` wall time (all strategies, one command): {seconds / 60:.1f} min.")
    lines += notes
    lines.append("")
    return lines


def _per_problem(run: Path) -> dict[int, dict[str, float]]:
    """{width: {problem id: accuracy}}; a strategy with several records per problem and width
    (`single`: one per sample) is averaged."""
    acc: dict[int, dict[str, list[float]]] = {}
    for r in read_jsonl(run / "samples.jsonl"):  # a bad line stops the report with its line number
        acc.setdefault(int(r["budget"]), {}).setdefault(r["id"], []).append(float(bool(r["correct"])))
    return {w: {pid: sum(v) / len(v) for pid, v in rows.items()} for w, rows in acc.items()}


def paired_differences(
    outs: Path | list[Path], reference: str = "majority"
) -> dict[tuple[str, int], list[float]]:
    """Per (strategy, width): the per-problem accuracy differences from `reference` on the same problems.

    Paired, because every strategy of one command runs on the same problems, so between-problem variance
    cancels; the unpaired s.e. of each accuracy (the strategy table) overstates the noise of a difference.
    Several output dirs pool their problems: each problem is paired within its own dir, so sets run with
    different value models or seeds can be read together, and a strategy counts only where its dir also
    has `reference`."""
    diffs: dict[tuple[str, int], list[float]] = {}
    for out in [outs] if isinstance(outs, Path) else outs:
        runs = {name: _latest(dirs)[0] for name, dirs in strategy_runs(out).items()}
        if reference not in runs or not (runs[reference] / "samples.jsonl").is_file():
            continue
        ref = _per_problem(runs[reference])
        for name in runs:
            if name == reference or not (runs[name] / "samples.jsonl").is_file():
                continue
            for width, rows in sorted(_per_problem(runs[name]).items()):
                shared = sorted(set(rows) & set(ref.get(width, {})))
                if shared:
                    diffs.setdefault((name, width), []).extend(rows[k] - ref[width][k] for k in shared)
    return diffs


def _mean_se(d: list[float]) -> tuple[float, float]:
    n = len(d)
    sd = statistics.stdev(d) if n > 1 else 0.0
    return sum(d) / n, sd / n**0.5


def paired_table(outs: Path | list[Path], reference: str = "majority") -> list[str]:
    """Each strategy minus `reference` on the same problems at the same width: mean difference and its
    paired standard error (s.d. of the per-problem differences / sqrt(n)); see `paired_differences`."""
    diffs = paired_differences(outs, reference)
    if not diffs:
        return []
    lines = [
        f"| strategy | width | problems | accuracy − {reference} (points) | paired s.e. | better / worse problems |",
        "|---|---|---|---|---|---|",
    ]
    for (name, width), d in diffs.items():
        mean, se = _mean_se(d)
        lines.append(
            f"| {name} | {width} | {len(d)} | {100 * mean:+.1f} | {100 * se:.1f} | "
            f"{sum(x > 0 for x in d)} / {sum(x < 0 for x in d)} |"
        )
    return lines + [""]


def within_problem_auc(rows: list[dict], key: str) -> tuple[float | None, int]:
    """P(a right candidate outranks a wrong one of the *same* problem) by `key`, ties one half, and the
    number of (right, wrong) pairs. Best-of-N and weighted votes need this ranking; the held-out AUC of
    `thinklab value-eval` pools problems, so a value model that only recognises hard problems scores well
    there and still picks at random among one problem's candidates."""
    groups = [[(c[key], c["answer"] == r["gold"]) for c in r["candidates"]] for r in rows]
    auc, pairs, _ = within_group_auc(groups)
    return auc, pairs


def ranking_table(out: Path) -> list[str]:
    """How the value model ranks the finished candidates of best-of-N, against trace length as a ranker."""
    runs = strategy_runs(out).get("bon")
    if not runs:
        return []
    run, _ = _latest(runs)
    by_width: dict[int, list[dict]] = {}
    for r in read_jsonl(run / "samples.jsonl"):
        if r.get("candidates"):
            by_width.setdefault(int(r["budget"]), []).append(r)
    lines = [
        "| width | problems with right and wrong candidates | (right, wrong) pairs | within-problem AUC: value "
        "| within-problem AUC: length (longer first) |",
        "|---|---|---|---|---|",
    ]
    for width, rows in sorted(by_width.items()):
        mixed = [r for r in rows if len({c["answer"] == r["gold"] for c in r["candidates"]}) == 2]
        auc_v, n = within_problem_auc(mixed, "value")
        auc_len, _ = within_problem_auc(mixed, "tokens")
        lines.append(f"| {width} | {len(mixed)} | {n} | {_f3(auc_v)} | {_f3(auc_len)} |")
    return lines + ["", f"(best-of-N run: {run})", ""]


def forcing_table(out: Path) -> list[str]:
    by_k: dict[int, list[Path]] = {}
    for s in (out / "forcing").glob("*/summary.json"):
        cfg = json.loads(s.read_text())["config"]
        by_k.setdefault(int(cfg["extend"]), []).append(s.parent)
    if not by_k:
        return []
    lines = [
        '| "Wait" extensions K | accuracy % (± s.e.) | thinking tokens / problem | all tokens / problem '
        "| truncated % | answered % | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in sorted(by_k):
        run, _ = _latest(by_k[k])
        summary = json.loads((run / "summary.json").read_text())
        for _budget, m in summary["budgets"].items():
            lines.append(
                f"| {k} | {_pct(m['accuracy'])} ± {_pct(m['accuracy_stderr'])} | {m['mean_thinking_tokens']:.0f} | "
                f"{m['mean_tokens']:.0f} | {_pct(m['truncation_rate'])} | {_pct(m['format_pass'])} | "
                f"{summary.get('seconds', 0):.0f} |"
            )
    lines.append("")
    return lines


def greedy_table(out: Path) -> list[str]:
    lines = []
    for s in sorted((out / "greedy").glob("*/summary.json")):
        summary = json.loads(s.read_text())
        for budget, m in summary["budgets"].items():
            lines.append(
                f"Greedy on {summary['task']} ({m['problems']} problems, {budget}-token cap, no forced answer): "
                f"**{_pct(m['accuracy'])}%** ± {_pct(m['accuracy_stderr'])}, {m['mean_tokens']:.0f} tokens, "
                f"{_pct(m['truncation_rate'])}% truncated ({summary.get('seconds', 0):.0f} s)."
            )
    return lines + [""] if lines else []


def sections(out: Path) -> list[tuple[str, list[str]]]:
    """The report's sections for one output dir, (title, markdown lines); empty sections left out."""
    found = [
        ("Greedy reference", greedy_table(out)),
        ("Value model (held-out rollouts)", value_tables(out)),
        ("The AUC ceiling (the true success probability of each prefix as its value)", ceiling_table(out)),
        ("Strategies at equal budgets", strategy_table(out)),
        ("Paired differences against majority vote (same problems, same width)", paired_table(out)),
        ("Ranking one problem's finished candidates (best-of-N)", ranking_table(out)),
        ("s1 budget forcing (greedy)", forcing_table(out)),
    ]
    return [(title, lines) for title, lines in found if lines]


def _check_dirs(outs: list[Path]) -> None:
    if not outs:
        raise ThinklabError("give at least one output dir")
    missing = [str(o) for o in outs if not o.is_dir()]
    if missing:
        raise ThinklabError(f"no such output dir: {', '.join(missing)}")


def markdown_report(outs: list[Path], pool: bool = False) -> str:
    """The whole report as markdown: every section of each dir (headed by the dir when several), or with
    `pool` only the paired differences pooled over the dirs. A dir with nothing to report is an error."""
    _check_dirs(outs)
    if pool:
        lines = paired_table(outs)
        if not lines:
            raise ThinklabError(
                f"no strategy with a majority run beside it under {', '.join(map(str, outs))}"
            )
        return "### Paired differences against majority vote, pooled over the output dirs\n\n" + "\n".join(
            lines
        )
    parts = []
    for out in outs:
        found = sections(out)
        if not found:
            raise ThinklabError(f"{out}: nothing to report (no `thinklab search` or eval runs under it)")
        if len(outs) > 1:
            parts.append(f"## {out}\n")
        parts += [f"### {title}\n\n" + "\n".join(lines) for title, lines in found]
    return "\n".join(parts)


def plot_report(outs: list[Path], png: Path, pool: bool = False) -> Path | None:
    """Accuracy against generated tokens per problem of each strategy's latest run (one line per strategy,
    points labelled by width); with `pool`, the pooled paired differences from majority (± paired s.e.)
    per strategy and width. None when there is nothing to draw (no strategy runs)."""
    if pool:
        diffs = paired_differences(outs)
        if not diffs:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
        for name in dict.fromkeys(n for n, _ in diffs):
            widths = sorted(w for n, w in diffs if n == name)
            stats = [_mean_se(diffs[(name, w)]) for w in widths]
            ax.errorbar(
                widths, [100 * m for m, _ in stats], yerr=[100 * e for _, e in stats], marker="o", capsize=3,
                label=name,
            )  # fmt: skip
        ax.axhline(0, color="gray", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("width (traces in flight per problem)")
        ax.set_ylabel("accuracy − majority (points, paired)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(f"paired differences against majority, {len(outs)} output dir(s) pooled")
        from thinklab.eval.plot import save_figure

        return save_figure(fig, png)
    from thinklab.eval.plot import plot_runs

    dirs, labels = [], []
    for out in outs:
        for name, runs in strategy_runs(out).items():
            dirs.append(_latest(runs)[0])
            labels.append(name if len(outs) == 1 else f"{out.name}: {name}")
    if not dirs:
        return None
    return plot_runs(
        dirs, png, labels, title="strategies: accuracy vs generated tokens per problem (labels: width)"
    )
