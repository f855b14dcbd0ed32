"""The built-in math benchmarks and the `jsonl:PATH` task family.

Each benchmark is one declaration, `register(benchmark(name, description))`, reading
`{data_dir}/{name}/test.jsonl` (rows `{id, problem, answer, source, ...}`, extra fields kept in
`Problem.metadata`). The data folder is, in order: the `data_dir` argument (`--data-dir`), the
`THINKLAB_DATA_DIR` environment variable, or `~/.cache/thinklab/benchmarks`. Only in that last case,
and only when the Hub is reachable (`HF_HUB_OFFLINE` unset), is a missing benchmark downloaded once
with `datasets` and cached there; an explicit folder is never second-guessed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from thinklab.data.jsonl import read_jsonl, write_jsonl
from thinklab.data.problem import Problem
from thinklab.errors import DataError
from thinklab.tasks.registry import Task, TaskError, register, register_prefix

ENV_VAR = "THINKLAB_DATA_DIR"
# SkyThought's math template after str.format (its YAML writes `\\boxed{{}}`); the registry substitutes
# `{problem}` by plain replacement, so the braces here are literal.
MATH_TEMPLATE = "Return your final response within \\boxed{}. {problem}"


# --- grading hooks (thinklab.grading is imported lazily: tasks must load without it) ----------------


# The extraction policy a built-in math task uses unless `--extraction` says otherwise: `strict`, because
# the models thinklab evaluates are asked for a boxed answer after they think (docs/grading.md).
DEFAULT_EXTRACTION = "strict"


def extract_math(response: str, *, policy: str = DEFAULT_EXTRACTION, truncated: bool = False) -> str | None:
    """The final answer of a math response under an extraction policy (`thinklab.grading.find_answer`)."""
    from thinklab.grading import extract_answer

    return extract_answer(response, policy=policy, truncated=truncated)


def extract_last_number(
    response: str, *, policy: str = DEFAULT_EXTRACTION, truncated: bool = False
) -> str | None:
    """GSM8K's convention: the boxed answer if any, else the last number in the response (never in output
    cut off by the token budget)."""
    from thinklab.grading import extract_answer

    return extract_answer(response, last_number=True, policy=policy, truncated=truncated)


def grade_math(gold: str, pred: str) -> bool:
    from thinklab.grading import is_equivalent

    return is_equivalent(gold, pred)


# --- data folder -----------------------------------------------------------------------------------


def default_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "thinklab" / "benchmarks"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The benchmark folder and where it came from ("--data-dir", "THINKLAB_DATA_DIR" or "default")."""
    if data_dir:
        return Path(data_dir).expanduser(), "--data-dir"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), ENV_VAR
    return default_data_dir(), "default"


def benchmark_path(name: str, data_dir: str | os.PathLike[str] | None = None, split: str = "test") -> Path:
    """Where benchmark `name` is read from (the file may not exist)."""
    return resolve_data_dir(data_dir)[0] / name / f"{split}.jsonl"


def load_problem_file(path: Path, source: str = "") -> list[Problem]:
    """Problems from a JSONL file of `{id?, problem, answer, ...}`; a missing id becomes the line index.

    Ids must be unique: run directories and resume logic key samples by problem id.
    """
    rows = read_jsonl(path)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, lineno in zip(rows, rows.line_numbers, strict=True):
        for key in ("problem", "answer"):
            if row.get(key) is None or str(row[key]).strip() == "":
                raise DataError(f"{path}:{lineno}: row has no {key!r} (keys: {', '.join(sorted(row))})")
        if row.get("id") is None:
            row = {**row, "id": str(lineno - 1)}
        problem = Problem.from_dict(row, source=source)
        if problem.id in seen:
            raise DataError(
                f"{path}:{lineno}: duplicate id {problem.id!r} (first on line {seen[problem.id]})"
            )
        seen[problem.id] = lineno
        problems.append(problem)
    return problems


# --- optional Hub download (default folder only) -----------------------------------------------------


@dataclass(frozen=True)
class HubSource:
    """A Hub dataset and an explicit mapping of its rows to `{id, problem, answer, ...}` (None = drop)."""

    repo: str
    config: str | None
    split: str
    to_row: Callable[[int, dict[str, Any]], dict[str, Any] | None]


def _number(value: Any) -> str:
    """27.0 -> "27" (AMC answers are stored as floats), anything else as its string."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()


def _gsm8k_row(i: int, r: dict[str, Any]) -> dict[str, Any]:
    answer = r["answer"].split("####")[-1].strip().replace(",", "")
    return {"id": f"gsm8k-test-{i:04d}", "problem": r["question"], "answer": answer, "solution": r["answer"]}


HUB: dict[str, HubSource] = {
    "math500": HubSource(
        "HuggingFaceH4/MATH-500",
        None,
        "test",
        lambda i, r: {
            "id": r["unique_id"],
            "problem": r["problem"],
            "answer": r["answer"],
            "solution": r["solution"],
            "subject": r["subject"],
            "level": r["level"],
        },
    ),
    "gsm8k": HubSource("openai/gsm8k", "main", "test", _gsm8k_row),
    "aime24": HubSource(
        "Maxwell-Jia/AIME_2024",
        None,
        "train",
        lambda i, r: {"id": str(r["ID"]), "problem": r["Problem"], "answer": _number(r["Answer"])},
    ),
    "aime25": HubSource(
        "yentinglin/aime_2025",
        None,
        "train",
        lambda i, r: {"id": str(r.get("id", i)), "problem": r["problem"], "answer": _number(r["answer"])},
    ),
    "amc23": HubSource(
        "AI-MO/aimo-validation-amc",
        None,
        "train",
        lambda i, r: (
            {"id": str(r["id"]), "problem": r["problem"], "answer": _number(r["answer"]), "url": r["url"]}
            if "2023" in str(r.get("url", ""))
            else None
        ),
    ),
}


def _hub_allowed() -> bool:
    offline = {os.environ.get(v, "").lower() for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    return not offline & {"1", "true", "yes", "on"}


def _download(name: str, path: Path) -> None:
    """Fetch benchmark `name` from the Hub into `path` (thinklab's own JSONL layout)."""
    import datasets

    src = HUB[name]
    dataset = datasets.load_dataset(src.repo, src.config, split=src.split)
    rows = [row for i, r in enumerate(dataset) if (row := src.to_row(i, dict(r))) is not None]
    write_jsonl(path, [{**row, "source": name} for row in rows])


# --- the tasks -------------------------------------------------------------------------------------


def load_benchmark(name: str, data_dir: Path | None, split: str = "test") -> list[Problem]:
    """Read `{data_dir}/{name}/{split}.jsonl`; the error for a missing file says where to put it."""
    root, origin = resolve_data_dir(data_dir)
    path = root / name / f"{split}.jsonl"
    tried = ""
    if not path.is_file() and origin == "default" and split == "test" and name in HUB and _hub_allowed():
        try:
            _download(name, path)
        except Exception as exc:  # no network, no `datasets`, a changed dataset: all mean "not here"
            tried = f" (downloading {HUB[name].repo} from the Hugging Face Hub failed: {exc})"
    if not path.is_file():
        where = {
            "--data-dir": "the folder given by --data-dir",
            ENV_VAR: f"the folder given by {ENV_VAR}",
            "default": f"the default folder; neither --data-dir nor {ENV_VAR} is set",
        }[origin]
        raise TaskError(
            f"no data for task {name!r}: {path} does not exist ({where}){tried}. "
            f"Put the file at <data-dir>/{name}/{split}.jsonl (one JSON object per line with id, problem, "
            f"answer) and point thinklab at <data-dir> with --data-dir DIR or {ENV_VAR}=DIR."
        )
    return load_problem_file(path, source=name)


def benchmark(
    name: str,
    description: str,
    *,
    extract: Callable[[str], str | None] = extract_math,
    template: str = MATH_TEMPLATE,
    splits: tuple[str, ...] = ("test",),
) -> Task:
    """A task reading `{data_dir}/{name}/{split}.jsonl`, prompted and graded as a math benchmark."""
    return Task(
        name=name,
        load=partial(load_benchmark, name),
        template=template,
        extract=extract,
        grade=grade_math,
        description=description,
        splits=splits,
        metadata={"data_file": f"{name}/test.jsonl", "extraction": DEFAULT_EXTRACTION},
    )


register(benchmark("math500", "MATH-500: 500 competition problems (Lightman et al. 2023 split)"))
register(benchmark("gsm8k", "GSM8K test: 1319 grade-school word problems", extract=extract_last_number))
register(benchmark("aime24", "AIME 2024: 30 problems, integer answers 0-999"))
register(benchmark("aime25", "AIME 2025: 30 problems, integer answers 0-999"))
register(benchmark("amc23", "AMC 2023: 40 problems rewritten by AI-MO to one numeric answer"))
# Reported by AutoThink and ThinkPO; read from the data folder only (no Hub download: the public copies
# differ in fields and splits, and the layout here is Qwen2.5-Math's evaluation data).
register(
    benchmark(
        "minerva",
        "Minerva Math: 272 MIT OpenCourseWare science problems (answer: last \\boxed{} of the solution)",
    )
)
register(
    benchmark(
        "olympiadbench",
        "OlympiadBench: 675 English text-only competition math problems (tuples, intervals, several answers)",
    )
)


def jsonl_task(arg: str) -> Task:
    """`jsonl:PATH`: any JSONL file of `{id?, problem, answer}`, as a math task (the split is ignored)."""
    if not arg:
        raise TaskError("the jsonl task needs a path, e.g. jsonl:data/problems.jsonl")
    path = Path(arg).expanduser()
    if not path.is_file():
        raise TaskError(
            f"jsonl task: no file at {path} (rows: one JSON object per line with problem, answer)"
        )
    return Task(
        name=f"jsonl:{arg}",
        load=lambda data_dir, split: load_problem_file(path, source=path.stem),
        template=MATH_TEMPLATE,
        extract=extract_math,
        grade=grade_math,
        description=f"problems from {path}",
        metadata={"path": str(path), "extraction": DEFAULT_EXTRACTION},
    )


register_prefix("jsonl", jsonl_task)
