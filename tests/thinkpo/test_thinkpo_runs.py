"""`thinklab report thinkpo LABEL=FOLDER`: an eval `--out` folder stands for every run dir in it."""

import json

from thinklab.thinkpo.compare import parse_runs


def _run(parent, name, task):
    d = parent / name
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"task": task, "budgets": {}}))
    return d


def test_a_folder_of_run_dirs_stands_for_each_run(tmp_path):
    folder = tmp_path / "before"
    a = _run(folder, "a", "arith")
    b = _run(folder, "b", "arith:hard")
    (folder / "notes").mkdir()  # not a run dir: ignored
    assert parse_runs([f"before={folder}", f"after={a}"]) == [
        ("before", str(a)),
        ("before", str(b)),
        ("after", str(a)),
    ]
    missing = tmp_path / "missing"  # left as given: the table names it in its error
    assert parse_runs([f"x={missing}"]) == [("x", str(missing))]
