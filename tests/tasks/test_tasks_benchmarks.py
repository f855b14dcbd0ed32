"""Built-in benchmark tasks on the real shared test sets, the data-dir rules, and `jsonl:PATH`."""

from __future__ import annotations

from pathlib import Path

import pytest

from thinklab.data.jsonl import write_jsonl
from thinklab.errors import DataError
from thinklab.tasks.benchmarks import HUB, MATH_TEMPLATE, extract_last_number, extract_math
from thinklab.tasks.registry import TaskError, get_task, task_names

COUNTS = {
    "math500": 500,
    "gsm8k": 1319,
    "aime24": 30,
    "aime25": 30,
    "amc23": 40,
    "minerva": 272,
    "olympiadbench": 675,
}


@pytest.mark.parametrize(("name", "count"), COUNTS.items())
def test_benchmark_counts_and_fields(benchmarks_dir: Path, name: str, count: int) -> None:
    problems = get_task(name).problems(benchmarks_dir)
    assert len(problems) == count
    assert len({p.id for p in problems}) == count
    assert all(p.problem and p.answer and p.source for p in problems)


def test_extra_fields_go_to_metadata(benchmarks_dir: Path) -> None:
    first = get_task("math500").problems(benchmarks_dir, limit=1)[0]
    assert first.source == "MATH-500"
    assert {"solution", "level", "subject"} <= set(first.metadata)
    assert get_task("gsm8k").problems(benchmarks_dir, limit=2)[1].metadata["answer_raw"]


def test_all_benchmarks_are_registered_with_their_extractors() -> None:
    assert set(COUNTS) <= set(task_names())
    assert get_task("gsm8k").extract is extract_last_number
    assert all(get_task(n).extract is extract_math for n in COUNTS if n != "gsm8k")


def test_new_benchmarks_keep_their_fields_and_default_policy(benchmarks_dir: Path) -> None:
    minerva = get_task("minerva").problems(benchmarks_dir, limit=1)[0]
    assert minerva.source == "MinervaMath" and "solution" in minerva.metadata
    olympiad = get_task("olympiadbench").problems(benchmarks_dir)
    assert {"answer_type", "is_multiple_answer", "final_answer"} <= set(olympiad[0].metadata)
    assert sum(p.metadata["is_multiple_answer"] for p in olympiad) == 94
    assert all(get_task(n).metadata["extraction"] == "strict" for n in COUNTS)


def test_prompt_is_skythoughts_math_template(benchmarks_dir: Path) -> None:
    task = get_task("aime25")
    problem = task.problems(benchmarks_dir, limit=1)[0]
    assert task.template == MATH_TEMPLATE
    assert task.render(problem) == "Return your final response within \\boxed{}. " + problem.problem


def test_data_dir_from_environment(benchmarks_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKLAB_DATA_DIR", str(benchmarks_dir))
    assert len(get_task("aime24").problems()) == 30


def test_missing_folder_says_where_to_put_the_files(tmp_path: Path) -> None:
    with pytest.raises(TaskError) as info:
        get_task("math500").problems(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "math500" / "test.jsonl") in message
    assert "<data-dir>/math500/test.jsonl" in message
    assert "--data-dir" in message and "THINKLAB_DATA_DIR" in message


def test_missing_folder_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(TaskError, match="given by THINKLAB_DATA_DIR"):
        get_task("amc23").problems()


def test_jsonl_task_reads_any_problem_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    write_jsonl(
        path, [{"problem": "1+1?", "answer": 2}, {"id": "x", "problem": "2+2?", "answer": "4", "tag": "t"}]
    )
    task = get_task(f"jsonl:{path}")
    problems = task.problems()
    assert [(p.id, p.answer) for p in problems] == [("0", "2"), ("x", "4")]
    assert problems[1].metadata == {"tag": "t"} and problems[0].source == "mine"
    assert task.render(problems[0]).endswith("\\boxed{}. 1+1?")


def test_jsonl_task_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="no file"):
        get_task(f"jsonl:{tmp_path / 'missing.jsonl'}")
    path = tmp_path / "bad.jsonl"
    path.write_text('{"problem": "p", "answer": "1"}\n{"problem": "q"}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2: row has no 'answer'"):
        get_task(f"jsonl:{path}").problems()
    path.write_text(
        '{"id": "a", "problem": "p", "answer": "1"}\n{"id": "a", "problem": "q", "answer": "2"}\n'
    )
    with pytest.raises(DataError, match=r":2: duplicate id 'a' \(first on line 1\)"):
        get_task(f"jsonl:{path}").problems()


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(TaskError, match="math500.*jsonl:"):
        get_task("math5000")


def test_extractors_use_the_grader() -> None:
    # thinklab.grading is imported lazily by the tasks, but it is part of thinklab: failing to import it
    # is a failure here, not a skip.
    from thinklab.grading import extract_answer

    assert extract_math("so $\\boxed{\\frac{1}{2}}$") == "\\frac{1}{2}"
    assert extract_last_number("She pays 3 + 4 = 7 dollars.") == "7"
    # the grader's extraction itself: without a boxed answer only gsm8k's last-number fallback finds one
    assert extract_math("She pays 3 + 4 = 7 dollars.") is None is extract_answer("She pays 3 + 4 = 7 dollars.")
    assert extract_answer("She pays 3 + 4 = 7 dollars.", last_number=True) == "7"


def test_default_folder_offline_never_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(TaskError, match="neither --data-dir nor THINKLAB_DATA_DIR is set") as info:
        get_task("gsm8k").problems()
    assert str(tmp_path / "thinklab" / "benchmarks" / "gsm8k" / "test.jsonl") in str(info.value)
    assert not (tmp_path / "thinklab").exists()


def test_hub_field_mappings_on_rows_shaped_like_the_hub_datasets() -> None:
    """The download path is never run in tests; its explicit row mappings are checked here."""
    gsm = HUB["gsm8k"].to_row(7, {"question": "Q?", "answer": "3 + 4 = <<3+4=7>>7\n#### 1,007"})
    assert gsm == {"id": "gsm8k-test-0007", "problem": "Q?", "answer": "1007", "solution": gsm["solution"]}
    amc = HUB["amc23"]
    row = {"id": 3, "problem": "P", "answer": 27.0, "url": "https://aops/2023_AMC_12A_Problems/Problem_1"}
    assert amc.to_row(0, row) == {"id": "3", "problem": "P", "answer": "27", "url": row["url"]}
    assert amc.to_row(0, {**row, "url": "https://aops/2022_AMC_12A"}) is None
    aime = HUB["aime24"].to_row(0, {"ID": "2024-I-1", "Problem": "P", "Answer": 204, "Solution": "S"})
    assert aime == {"id": "2024-I-1", "problem": "P", "answer": "204"}
