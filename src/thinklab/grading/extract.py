"""Answer extraction from model responses.

Extraction is deliberately separate from equivalence: a grader first decides *which* span of a response
is the answer (this module), then whether that span equals the gold answer (`equivalence`). Keeping the
two apart lets every method (A*-Thought validation, AutoThink rewards, voting, STaR) share one extractor
and lets a wrong grade be traced to the step that caused it.

Two extraction *policies* (`POLICIES`), because published numbers come from harnesses that read answers
differently and a user must be able to put thinklab's number next to a paper's:

``strict`` (the default; what a thinking model is asked to do), first hit wins:

1. Thinking is stripped. Only text after the closing tag counts; a response whose thinking opened but
   never closed has *no* answer, because a truncated trace must not be credited with a number it
   happened to mention while still thinking (lm-eval #3382; AutoThink scores such outputs 0).
2. ``boxed``: the last brace-balanced ``\\boxed{...}`` / ``\\fbox{...}`` (or ``\\boxed 5``); boxes joined only
   by connectors ("\\boxed{1} and \\boxed{2}") form one answer.
3. ``final_line``: the last ``Final: ...`` / ``Final Answer: ...`` / ``Answer: ...`` line (QT-R1, Minerva,
   many chat models).
4. ``answer_is``: the last "the answer is ..." / "final answer is ..." phrase (Minerva / Qwen-math
   style); an adverb after "is" ("is therefore 12") is skipped.
5. ``bare``: the whole answer text is itself a short answer (``42``, ``x^2+1``): a model that writes only
   its answer has answered (a sentence of words has not).
6. ``display_math``: the response ends with a complete math block (``\\[...\\]``, ``$$...$$``, or a last line
   that is one ``$...$``): a derivation's final displayed result.
7. ``last_number``: only for tasks whose convention it is (GSM8K, ``last_number=True``) and never for
   output cut off by the token budget (``truncated=True``): the last number that is a quantity
   (ordinals such as ``3rd``, labels such as ``option 3`` and exponents are skipped).

``harness`` adds the two steps of the published harnesses that ``strict`` leaves out:

0. ``minerva`` (before any box): Minerva's closing sentence "final answer is $X$. I hope", which
   Qwen2.5-Math's ``extract_answer`` and Math-Verify read first.
8. ``last_value`` (after step 6, only for complete output): the later of the last number (Qwen2.5-Math
   ``extract_answer``, SkyThought, lm-eval's GSM8K flexible-extract) and the last closed math span
   (Math-Verify's ``parse``, which lighteval and open-r1 run on the whole response). docs/grading.md
   says which harness does what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from thinklab.errors import ThinklabError

__all__ = [
    "POLICIES",
    "THINK_TAGS",
    "Extraction",
    "PolicyError",
    "ThinkSplit",
    "check_policy",
    "extract_answer",
    "extract_boxed",
    "extract_last_number",
    "find_answer",
    "split_thinking",
    "strip_thinking",
    "thinking_closed",
]

# Extraction policies, in the order `--extraction` lists them. See the module docstring.
POLICIES: tuple[str, ...] = ("strict", "harness")


class PolicyError(ThinklabError, ValueError):
    """An extraction policy name that does not exist; the message lists the ones that do."""


def check_policy(policy: str) -> str:
    """``policy`` itself if it is a known extraction policy; else `PolicyError` (one line, lists the names)."""
    if policy not in POLICIES:
        raise PolicyError(f"unknown extraction policy {policy!r}; choose one of {', '.join(POLICIES)}")
    return policy


# (open, close) pairs for the reasoning formats thinklab reads: R1/QwQ, Sky-T1/Bespoke-Stratos, s1.
THINK_TAGS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
    ("<|im_start|>think", "<|im_start|>answer"),
)


@dataclass(frozen=True)
class ThinkSplit:
    """A response split at its thinking block.

    ``answer`` is the text that may be graded (None when the thinking never closed); ``thinking`` is the
    reasoning text (empty when there was no thinking block); ``status`` is one of ``"none"`` (no tags),
    ``"closed"`` or ``"unclosed"``.
    """

    answer: str | None
    thinking: str
    status: str


def _tag_pairs(close: str | None) -> tuple[tuple[str, str], ...]:
    """`THINK_TAGS` with the pair that closes with ``close`` tried first (an unknown marker is tried alone
    first, with no opening tag: the prompt prefilled it)."""
    if close is None:
        return THINK_TAGS
    first = [pair for pair in THINK_TAGS if pair[1] == close] or [("", close)]
    return (*first, *(pair for pair in THINK_TAGS if pair[1] != close))


def split_thinking(response: str, close: str | None = None) -> ThinkSplit:
    """Split ``response`` into thinking and answer text.

    The answer starts after the *last* closing tag: budget forcing (s1 "Wait") and some chat templates
    produce more than one closing tag, and the final answer always follows the last one. A closing tag
    without an opening tag counts as closed, because prompts often prefill ``<think>`` so the model's
    text starts inside the thinking block. A thinking block reopened after the last closing tag and never
    closed again makes the response unclosed. ``close`` names a model family's closing marker to try
    first (all of `THINK_TAGS` are tried after it).
    """
    for open_tag, close_tag in _tag_pairs(close):
        if not open_tag:
            close_at = response.rfind(close_tag)
            if close_at >= 0:
                return ThinkSplit(response[close_at + len(close_tag) :], response[:close_at], "closed")
            continue
        close_at = response.rfind(close_tag)
        if close_at >= 0 and response.rfind(open_tag) < close_at:
            open_at = response.find(open_tag)
            start = open_at + len(open_tag) if 0 <= open_at < close_at else 0
            return ThinkSplit(response[close_at + len(close_tag) :], response[start:close_at], "closed")
        open_at = response.find(open_tag)
        if open_at >= 0:
            return ThinkSplit(None, response[open_at + len(open_tag) :], "unclosed")
    return ThinkSplit(response, "", "none")


def strip_thinking(response: str, close: str | None = None) -> str | None:
    """The gradable part of ``response``: text after the thinking block, or None if it never closed."""
    return split_thinking(response, close).answer


def thinking_closed(response: str, close: str = "</think>") -> bool:
    """Whether ``response`` may be graded: its thinking closed with ``close`` (or another known marker),
    or it had no thinking block. False means it was cut off while thinking: nothing in it is an answer,
    under every policy. ``close`` is a parameter so a model family's own marker (s1's
    ``<|im_start|>answer``) can be passed in."""
    return split_thinking(response, close).status != "unclosed"


_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


_BRACE_RE = re.compile(r"\\[{}]|[{}]")


def _matching_braces(text: str, start: int = 0) -> dict[int, int]:
    """Index of each ``{`` from ``start`` on mapped to the index of its matching ``}``, in one pass.

    Escaped braces (``\\{``, ``\\}``: set notation) are not group delimiters. One pass keeps extraction
    linear even for adversarial text (thousands of unclosed ``\\boxed{``), which matters because extraction
    runs before any time limit applies. Only brace tokens are visited (a regex scan), and callers start at
    the first box: braces before it cannot pair with a box's.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_RE.finditer(text, start):
        token = m.group()
        if token == "{":
            stack.append(m.start())
        elif token == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


def _box_content(text: str, start: int, braces: dict[int, int]) -> str | None:
    """Content of the box whose command ends at ``start`` (brace group, or a bare token as in ``\\boxed 5``)."""
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        end = braces.get(i)
        return None if end is None else text[i + 1 : end].strip()
    if start == i:  # "\boxedx" is not a box; "\boxed x" is
        return None
    m = re.match(r"[^\s$]+", text[i : i + 200])
    return m.group(0).rstrip(".,;") if m else None


def extract_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` or ``\\fbox{...}`` in ``text`` (nested braces kept).

    Boxes whose braces never close (a truncated response) are skipped, so an earlier complete box still
    counts; the regex ``\\boxed\\{(.*?)\\}`` used by several reference implementations breaks on nested
    braces (``\\boxed{\\frac{1}{2}}``), which is why this matches braces.
    """
    boxes = list(_BOX_RE.finditer(text))
    if not boxes:
        return None
    braces = _matching_braces(text, boxes[0].start())
    for m in reversed(boxes):
        content = _box_content(text, m.end(), braces)
        if content:
            return content
    return None


_FINAL_LINE_RE = re.compile(r"(?mi)^[ \t*#>]*(?:final(?:[ \t]*answer)?|answer)[ \t*]*[:=][ \t*]*(.+?)[ \t]*$")
# Words a model puts between "the answer is" and the value ("is therefore 12", "is, thus, $5$").
_ADVERBS = (
    "therefore|thus|hence|so|then|now|simply|just|indeed|clearly|actually|exactly|precisely|definitely|"
    "obviously|finally|ultimately|still|also|again|correctly|given by|equal to|approximately|about|roughly"
)
_ANSWER_IS_RE = re.compile(
    r"(?i)(?:final answer|the answer)(?:\s+to\s+[^\n]{0,60}?)?\s+is\s*:?"
    rf"(?:\s*,?\s*(?:{_ADVERBS})\b\s*,?)*\s*:?\s*([^\n]+)"
)
_HOPE_RE = re.compile(r"(?i)\.?\s*I hope it is correct\.?\s*$")

# A number that is a quantity: not glued to a word or decimal point before it, and not an ordinal
# ("3rd", "5^{\text{th}}") after it. Thousands groups are exactly three digits ("3,4" is a list).
_ORDINAL_AFTER = r"(?:st|nd|rd|th)(?![A-Za-z])|\s*\^?\s*\{?\s*\\(?:text|mathrm)\s*\{\s*(?:st|nd|rd|th)\s*\}"
_NUMBER_RE = re.compile(
    rf"(?<![A-Za-z0-9_.^])-?(?:(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?|\.\d+)(?![\d]|{_ORDINAL_AFTER})"
)
# The harness fallback also reads a plain fraction as one value ("P(A) = 2/3" is 2/3, not 3), and so
# is a \frac{..}{..} written outside math delimiters.
_VALUE_RE = re.compile(
    r"\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|"
    rf"(?<![A-Za-z0-9_.^])-?(?:(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+(?!\.?\d))?"
    rf"(?![\d]|{_ORDINAL_AFTER})"
)
# A number that names something rather than counting it ("option 3", "step 2", "#4").
_LABEL_BEFORE_RE = re.compile(r"(?i)(?:\b(?:option|choice|step|part|case|question|problem|no\.)\s*|(?<!#)#)$")

# Closed math spans, for the harness fallback (Math-Verify reads the last one), in the last
# `_TAIL_CHARS` characters of the answer text.
_TAIL_CHARS = 5_000
_MATH_SPAN_RE = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$([^$]+?)(?<!\\)\$", re.DOTALL
)
# The response's last block is display math: \[ ... \] or $$ ... $$ at the very end (a final period allowed).
_DISPLAY_END_RE = re.compile(r"(?:\$\$(?P<a>[^$]+)\$\$|\\\[(?P<b>(?:(?!\\\[).)+?)\\\])[\s.]*$", re.DOTALL)
_INLINE_LINE_RE = re.compile(r"^\s*(?:\$(?P<a>[^$]+)\$|\\\((?P<b>.+?)\\\))[\s.]*$")

# Bare-answer detection (shared with `equivalence`): LaTeX and words outside it.
MATH_ENV_RE = re.compile(r"(?<!\\)\$|\\\(|\\\[|\\boxed|\\fbox")
LATEX_CMD_RE = re.compile(r"\\[A-Za-z]+")
ENV_NAME_RE = re.compile(r"\\(?:begin|end)\s*\{[A-Za-z*]+\}")  # \begin{pmatrix}: not words
WORD_RE = re.compile(r"[A-Za-z]{2,}")
TEXTY_RE = re.compile(r"[A-Za-z][A-Za-z '\-]*")
TEXT_WRAP_RE = re.compile(
    r"\\(?:text(?:bf|it|rm|normal|sf|tt)?|math(?:rm|bf|it|sf|tt)|mbox|operatorname)\s*\{([^{}]*)\}"
)
_PROSE_WORD_RE = re.compile(r"[A-Za-z]{2,}|\b[Ia]\b")  # words of a sentence, "I" and "a" included
# A letter of a script other than Latin and Greek (CJK, Arabic, Devanagari...): text in another language.
OTHER_SCRIPT_RE = re.compile(r"[^\W\d_\x00-\u024f\u0370-\u03ff]")
MAX_BARE_CHARS = 2_000  # a "bare" answer longer than this is not parsed as one LaTeX expression


def unwrap_text(s: str) -> str:
    """``\\text{...}`` and similar wrappers replaced by their content (three levels deep)."""
    for _ in range(3):
        new = TEXT_WRAP_RE.sub(r"\1", s)
        if new == s:
            break
        s = new
    return s


def is_bare(text: str) -> bool:
    """Whether ``text`` is itself an answer (``x^2+1``, ``10 square units``) rather than prose to search.

    Prose is recognised by three or more words outside LaTeX commands and ``\\text{}``, a non-Latin
    letter (the multilingual lighteval cases), or a leading "Label:" prefix.
    """
    if len(text) > MAX_BARE_CHARS or MATH_ENV_RE.search(text):
        return False
    if re.match(r"\s*[A-Za-z][A-Za-z ]*:\s", text):
        return False
    if not text.isascii() and OTHER_SCRIPT_RE.search(text):
        return False  # another script (Greek letters are maths: π, θ)
    visible = LATEX_CMD_RE.sub(" ", TEXT_WRAP_RE.sub(" ", ENV_NAME_RE.sub(" ", text)))
    return len(WORD_RE.findall(visible)) < 3 or TEXTY_RE.fullmatch(unwrap_text(text).strip()) is not None


def _number_matches(text: str, pattern: re.Pattern[str] = _NUMBER_RE) -> list[re.Match[str]]:
    """Quantity numbers of ``text`` in order (labels such as "option 3" dropped)."""
    return [
        m
        for m in pattern.finditer(text)
        if not _LABEL_BEFORE_RE.search(text[max(0, m.start() - 12) : m.start()])
    ]


def extract_last_number(text: str) -> str | None:
    """The last number in ``text`` that is a quantity, thousands separators removed (``"1,234.5"`` ->
    ``"1234.5"``).

    GSM8K answers are integers written with commas; the separator pattern requires groups of exactly three
    digits so that ``"3,4"`` (a list) yields ``"4"``, not ``"34"``. Ordinals ("the 3rd option") and
    labels ("option 3", "step 2") are not quantities: "so 15 people chose the 3rd option" gives 15.
    """
    matches = _number_matches(text)
    if not matches:
        return None
    return matches[-1].group(0).replace(",", "")


def _clean_span(span: str) -> str:
    """Trim a phrase-extracted answer: Minerva's "I hope it is correct", math delimiters, final period."""
    span = _HOPE_RE.sub("", span).strip()
    # A phrase runs to the end of its sentence; a period followed by a space ends it (decimals have none).
    span = re.split(r"\.\s", span, maxsplit=1)[0]
    for _ in range(3):
        before = span
        span = span.strip().rstrip(".").strip()
        if span.startswith("$") and span.endswith("$"):
            span = span.strip("$").strip()
        elif (span.startswith("\\(") and span.endswith("\\)")) or (
            span.startswith("\\[") and span.endswith("\\]")
        ):
            span = span[2:-2].strip()
        elif span.endswith("$") and span.count("$") == 1:
            span = span[:-1]
        elif span.startswith("$") and span.count("$") == 1:
            span = span[1:]
        if span == before:
            break
    return span.strip()


_MINERVA_RE = re.compile(r"final answer is \$(.+?)\$\. I hope", re.DOTALL)
# What may stand between two boxes that together form one answer ("\boxed{1} and \boxed{2}").
_BOX_GLUE_RE = re.compile(
    r"(?:\s|[,;&$]|\\[,;:! ]|\\q?quad|\\\\|\\[()\[\]]|\\text\s*\{\s*(?:and|,)?\s*\}|\band\b)*"
)


def boxed_answers(text: str) -> str | None:
    """The last box, joined with the boxes right before it when only connectors separate them.

    "\\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}" is the answer "-2, 1" (Math-Verify joins such boxes
    too); boxes separated by words are separate statements and only the last counts. ``$`` inside a box is
    a stray delimiter and is dropped.
    """
    boxes = list(_BOX_RE.finditer(text))
    if not boxes:
        return None
    braces = _matching_braces(text, boxes[0].start())
    parts: list[str] = []
    next_start: int | None = None
    for m in reversed(boxes):
        content = _box_content(text, m.end(), braces)
        if not content:
            if parts:
                break
            continue
        end = _box_end(text, m.end(), braces)
        if parts and (end is None or not _BOX_GLUE_RE.fullmatch(text[end:next_start])):
            break
        parts.append(content)
        next_start = m.start()
    if not parts:
        return None
    answer = ", ".join(dict.fromkeys(reversed(parts)))
    return re.sub(r"(?<!\\)\$", "", answer).strip() if "$" in answer else answer


def _box_end(text: str, start: int, braces: dict[int, int]) -> int | None:
    """Index just after the box whose command ends at ``start`` (None for a bare-token box)."""
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    if i < len(text) and text[i] == "{" and i in braces:
        return braces[i] + 1
    return None


def _statement_value(span: str) -> str:
    """The value of an answer statement; a sentence ("The largest $n$ is 34") gives its last value."""
    value = _clean_span(span)
    if value and not is_bare(value) and len(WORD_RE.findall(_MATH_SPAN_RE.sub(" ", value))) >= 3:
        return _last_value(value) or value
    return value


def _last_value(text: str) -> str | None:
    """The harness fallback: the last closed math span or the last number, whichever ends later.

    Qwen2.5-Math's ``extract_answer`` and SkyThought take the last number; Math-Verify's ``parse``
    (lighteval, open-r1) takes the last LaTeX span. A number inside that span is the span's, so
    "therefore $x \\geq 5$ is the solution" gives ``x \\geq 5``, and "$a = 3$, so 12 in total" gives 12.
    """
    text = text[-_TAIL_CHARS:]  # both are near the end; a bound keeps the span search linear in practice
    spans = list(_MATH_SPAN_RE.finditer(text))
    numbers = _number_matches(text, _VALUE_RE)
    span = spans[-1] if spans else None
    number = numbers[-1] if numbers else None
    if span is not None and (number is None or number.start() < span.end()):
        content = next(g for g in span.groups() if g is not None).strip()
        if content:
            return content
    return re.sub(r"[,\s]", "", number.group(0)) if number is not None else None


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and the step (`find_answer`'s docstring) that found it."""

    answer: str
    step: str


def find_answer(
    response: str,
    *,
    policy: str = "strict",
    last_number: bool = False,
    truncated: bool = False,
    close: str | None = None,
) -> Extraction | None:
    """The final answer of ``response`` and the step that found it, or None when it has none.

    Steps: ``bare``, ``boxed``, ``final_line``, ``answer_is``, ``display_math``, ``last_number``,
    ``last_value`` (module docstring). ``policy`` is ``"strict"`` or ``"harness"``; ``last_number`` is a
    task's convention (GSM8K); ``truncated`` says the output was cut off by the token budget, which
    disables the number and fallback steps (a half-written sentence's last number is not an answer);
    ``close`` is the model family's end-of-thinking marker (`split_thinking`).
    """
    check_policy(policy)
    if not response:
        return None
    text = strip_thinking(response, close)
    if text is None or not text.strip():
        return None
    body = text.strip()
    if policy == "harness":
        # Qwen2.5-Math's extract_answer and Math-Verify both read Minerva's closing sentence before any box.
        minerva = _MINERVA_RE.findall(text)
        if minerva and minerva[-1].strip():
            return Extraction(_statement_value(minerva[-1]), "minerva")
    boxed = boxed_answers(text)
    if boxed:
        return Extraction(boxed, "boxed")
    finals = _FINAL_LINE_RE.findall(text)
    if finals:
        # Minerva writes "Final Answer: The final answer is $x$. I hope it is correct."
        inner = _ANSWER_IS_RE.findall(finals[-1])
        value = _statement_value(inner[-1] if inner else finals[-1])
        if value:
            return Extraction(value, "final_line")
    phrases = _ANSWER_IS_RE.findall(text)
    if phrases:
        value = _statement_value(phrases[-1])
        if value:
            return Extraction(value, "answer_is")
    if is_bare(body) and len(_PROSE_WORD_RE.findall(LATEX_CMD_RE.sub(" ", body))) < 3:
        return Extraction(body, "bare")  # a sentence of plain words ("I have 4 apples") is not an answer
    display = _DISPLAY_END_RE.search(body) or _INLINE_LINE_RE.match(body.splitlines()[-1])
    if display:
        value = (display["a"] or display["b"] or "").strip()
        if value:
            return Extraction(value, "display_math")
    if truncated:
        return None
    if policy == "harness":
        value = _last_value(text)
        return Extraction(value, "last_value") if value else None
    if last_number:
        value = extract_last_number(text)
        return Extraction(value, "last_number") if value else None
    return None


def extract_answer(
    response: str,
    *,
    last_number: bool = False,
    policy: str = "strict",
    truncated: bool = False,
    close: str | None = None,
) -> str | None:
    """Extract the final answer from a model response, or None when it has none (`find_answer`).

    ``last_number=True`` enables the GSM8K fallback (last number in the text); it is off by default because
    on MATH-style problems the last number is often an intermediate value, and crediting it inflates
    accuracy. ``policy="harness"`` adds the published harnesses' fallback for complete output.
    """
    found = find_answer(response, policy=policy, last_number=last_number, truncated=truncated, close=close)
    return found.answer if found is not None else None
