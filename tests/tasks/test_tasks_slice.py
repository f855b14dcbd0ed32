"""`get_task("NAME[start:stop]")`: a slice of any task's problems, named by its spec."""

import pytest

from thinklab.eval.rundir import slug
from thinklab.tasks.registry import TaskError, get_task


def test_slice_takes_the_problems_in_order():
    full = get_task("arith:train").problems()
    part = get_task("arith:train[400:640]")
    problems = part.problems()
    assert [p.id for p in problems] == [p.id for p in full[400:640]]
    assert part.name == "arith:train[400:640]" and "400..639" in part.description
    assert part.problems(limit=5) == problems[:5]  # --limit applies to the slice
    assert [p.id for p in get_task("arith[:3]").problems()] == [
        p.id for p in get_task("arith").problems()[:3]
    ]
    assert len(get_task("arith[790:]").problems()) == len(get_task("arith").problems()) - 790
    # the grading and the template are the base task's
    base = get_task("arith:train")
    assert (part.template, part.extract, part.grade) == (base.template, base.extract, base.grade)
    assert slug(part.name) == "arith-train-400-640"  # run dirs are named by the slice


def test_bad_slices_are_task_errors():
    with pytest.raises(TaskError, match="empty"):
        get_task("arith[10:5]")
    with pytest.raises(TaskError, match="unknown task 'nope'"):
        get_task("nope[0:3]")
    with pytest.raises(TaskError, match="unknown task"):
        get_task("arith[a:b]")
