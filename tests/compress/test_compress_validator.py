"""The validator on the real tiny model: prompt format, g/h by hand from log-probs, batching, checks."""

from __future__ import annotations

import pytest

from thinklab.backends import SamplingParams, load_backend
from thinklab.compress.validator import Layout, Sample, Validator, ValidatorConfig, answer_ok
from thinklab.errors import ThinklabError
from thinklab.tasks import arith

GREEDY = SamplingParams(temperature=0.0, max_tokens=16)


@pytest.fixture(scope="module")
def backend():
    return load_backend("hf", "tiny")


@pytest.fixture(scope="module")
def problems():
    return arith.generate(8, "test", 7, levels=(2, 3))


def _sample(p: arith.ArithProblem) -> Sample:
    return Sample(p.text(), f"\\boxed{{{p.answer}}}", str(p.answer))


def test_layouts_come_from_the_trace_formats():
    assert Layout.for_format("r1") == Layout("<think>\n", "\n</think>\n\n", "")
    sky = Layout.for_format("sky")
    assert sky.opening == "<|begin_of_thought|>\n\n"
    assert sky.between == "\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
    assert sky.after == "\n\n<|end_of_solution|>"
    with pytest.raises(ThinklabError):
        Layout.for_format("plain")


def test_cost_text_is_the_tiny_models_training_format(backend, problems):
    p = problems[0]
    v = Validator(backend, ValidatorConfig())
    thought = arith.render_thought(p, "verbose")
    text = v.prompt(_sample(p)) + thought + v.layout.between + f"\\boxed{{{p.answer}}}"
    # chat template + <think>\n prefill + render_completion: exactly what the tiny model was trained on
    expected = f"<|user|>\n{p.text()}\n<|assistant|>\n<think>\n" + arith.render_completion(p, "verbose")
    assert text == expected
    raw = Validator(backend, ValidatorConfig(chat=False))
    assert raw.prompt(_sample(p)) == p.text() + "<think>\n"  # the seed's raw layout


def test_costs_by_hand_from_logprobs(backend, problems):
    p = problems[1]
    v = Validator(backend, ValidatorConfig(beta=0.1))
    sample = _sample(p)
    path = arith.render_thought(p, "verbose")
    ((g, h),) = v.costs([(sample, path)])
    lp = backend.score([v.prompt(sample)], [path + "\n</think>\n\n" + sample.solution])[0]
    n_sol = backend.count_tokens(sample.solution)
    assert n_sol == len(backend.tokenizer(sample.solution)["input_ids"])
    path_lp, sol_lp = lp[: len(lp) - n_sol], lp[len(lp) - n_sol :]
    assert g == pytest.approx(-0.1 * sum(path_lp) / len(path_lp), rel=1e-5)
    assert h == pytest.approx(-sum(sol_lp) / len(sol_lp), rel=1e-5)
    assert g > 0 and h > 0
    assert v.stats.score_calls == 1 and v.stats.sequences_scored == 1


def test_costs_are_the_same_batched_or_alone(backend, problems):
    v = Validator(backend)
    items = []
    for p in problems[:4]:
        steps = arith.render_thought(p, "verbose").split("\n\n")
        items += [(_sample(p), "\n\n".join(steps)), (_sample(p), "\n\n".join(steps[1:]))]
    together = v.costs(items)
    assert v.stats.score_calls == 1
    for item, cost in zip(items, together, strict=True):
        assert v.costs([item])[0] == pytest.approx(cost, rel=1e-4)
    assert v.stats.score_calls == 1 + len(items)


def test_h_prefers_a_path_that_states_the_answer(backend, problems):
    p = problems[2]
    v = Validator(backend)
    steps = arith.render_thought(p, "verbose").split("\n\n")
    (_, h_with), (_, h_without) = v.costs([(_sample(p), "\n\n".join(steps)), (_sample(p), steps[0])])
    assert h_with < h_without


def test_check_grades_the_validators_answer(backend, problems):
    """Given the full trace, a model that solves arith writes the answer after `</think>`; given only the
    restatement of the problem (no computation), a 3.5M model cannot: the check reads the generated answer."""
    v = Validator(backend, ValidatorConfig(sampling=GREEDY))
    full = [(_sample(p), arith.render_thought(p, "verbose")) for p in problems]
    restated = [(_sample(p), arith.render_thought(p, "verbose").split("\n\n")[0]) for p in problems]
    verdicts = v.check(full + restated)
    assert v.stats.generate_calls == 1 and v.stats.generations == 2 * len(problems)
    assert sum(verdicts[: len(problems)]) >= len(problems) - 1
    assert sum(verdicts[len(problems) :]) <= 2
    assert v.check([(Sample("q", "no answer here", None), "some path")]) == [False]


def test_length_groups(backend):
    v = Validator(backend, ValidatorConfig(pad_ratio=0.8))
    assert v._groups([100, 95, 50, 48, 10]) == [[0, 1], [2, 3], [4]]
    assert Validator(v.backend)._groups([100, 95, 50]) == [[0, 1, 2]]


def test_answer_ok_uses_the_grader_not_the_seed_regex():
    assert answer_ok("\\frac{1}{2}", "so \\boxed{\\frac{1}{2}}")  # the seed's regex reads "\frac{1"
    assert answer_ok("\\frac{1}{2}", "\\boxed{0.5}")  # equivalent, not string-equal
    assert not answer_ok("3", "\\boxed{4}")
    assert not answer_ok(None, "\\boxed{4}")


def test_inputs_longer_than_the_window_are_clipped(backend, problems):
    v = Validator(backend, ValidatorConfig(max_context=96, sampling=GREEDY))
    p = problems[3]
    long_path = "\n\n".join([arith.render_thought(p, "verbose")] * 6)
    prompt, path, tail = v._fit(v.prompt(_sample(p)), long_path, _sample(p).solution)
    total = sum(backend.count_tokens(x) for x in (prompt, path, v.layout.between, tail))
    assert total <= 95 and long_path.endswith(path[-20:])
    ((g, h),) = v.costs([(_sample(p), long_path)])
    assert g > 0 and h > 0 and v.stats.clipped > 0
    assert len(v.check([(_sample(p), long_path)])) == 1


def test_a_backend_without_tokenizer_is_refused():
    class Remote:  # a chat-only server: no local tokenizer, no prompt log-probs
        tokenizer = None

    with pytest.raises(ThinklabError, match="tokenizer"):
        Validator(Remote())
