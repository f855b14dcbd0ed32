"""`arith-fresh:VARIANT:SEED`: fresh synthetic problems for value-model training data.

Why: a value model should learn the policy's outcomes on problems the policy never trained on (VGS
trains on prompts outside the policy's training data), while `arith:train` is the bucket the tiny
policy was trained on. Here the problems come from the held-out (test) hash bucket, drawn with another
seed and excluding, by canonical problem, every problem of the benchmark lists (`arith`, `arith:hard`,
`arith:beyond`, `arith:L1`..`arith:L10`; lists too small to draw are skipped). So they are unseen by the policy, from
the same distribution as the evaluation, and disjoint from every problem any evaluation uses.

`VARIANT` is an arith variant (`hard`, `easy`, `L8`, or empty for all levels); `SEED` any integer other
than the benchmark seed. Registered with the built-in tasks, so every command that takes `--task`
(`eval`, `rollouts`, `search`, ...) accepts it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from thinklab.tasks import arith
from thinklab.tasks.registry import Task, TaskError, get_task, register_prefix

BENCHMARK_VARIANTS = (
    "",
    "easy",
    "hard",
    "beyond",
    *(f"L{i}" for i in (*range(1, arith.MAX_LEVEL + 1), *arith.BEYOND_LEVELS)),
)


@cache
def benchmark_keys() -> frozenset[str]:
    """Canonical keys of every problem in the arith benchmark lists (test bucket)."""
    keys: set[str] = set()
    for v in BENCHMARK_VARIANTS:
        try:
            problems = get_task(f"arith:{v}" if v else "arith").problems()
        except TaskError:  # a list that cannot be drawn (too few distinct easy problems) holds nothing
            continue
        keys.update(p.metadata["key"] for p in problems)
    return frozenset(keys)


def fresh_task(arg: str) -> Task:
    variant, sep, seed_s = arg.rpartition(":")
    if not sep or not seed_s.lstrip("-").isdigit():
        raise TaskError(f"arith-fresh needs VARIANT:SEED, e.g. arith-fresh:hard:7 (got {arg!r})")
    seed = int(seed_s)
    if seed == arith.DEFAULT_TEST_SEED:
        raise TaskError(f"arith-fresh: seed {seed} is the benchmark's own seed; pick another")
    base = get_task(f"arith:{variant}" if variant else "arith")
    levels, split = base.metadata["levels"], base.metadata["split"]
    if split != "test":
        raise TaskError("arith-fresh draws from the held-out bucket; use a test variant (hard, L8, ...)")

    def load(_data_dir: Path | None, _split: str) -> list:
        rows = arith.generate(arith.DEFAULT_TEST_SIZE, "test", seed, levels, exclude=set(benchmark_keys()))
        return [replace(p.to_problem(i), id=f"arith-fresh{seed}-{i:06d}") for i, p in enumerate(rows)]

    return Task(
        name=f"arith-fresh:{arg}",
        load=load,
        template=base.template,
        extract=base.extract,
        grade=base.grade,
        description=f"fresh held-out-bucket arith problems (levels {levels}, seed {seed}), "
        "disjoint from every arith benchmark list",
        metadata={**base.metadata, "fresh_seed": seed},
    )


register_prefix("arith-fresh", fresh_task)
