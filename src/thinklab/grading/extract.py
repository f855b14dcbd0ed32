"""Answer extraction from model responses.

Extraction is deliberately separate from equivalence: a grader first decides *which* span of a response
is the answer (this module), then whether that span equals the gold answer (`equivalence`). Keeping the
two apart lets every method (A*-Thought validation, AutoThink rewards, voting, STaR) share one extractor
and lets a wrong grade be traced to the step that caused it.

Order of rules (first hit wins):

1. Thinking is stripped. Only text after the closing tag counts; a response whose thinking opened but
   never closed has *no* answer, because a truncated trace must not be credited with a number it
   happened to mention while still thinking (lm-eval #3382; AutoThink scores such outputs 0).
2. The last brace-balanced ``\\boxed{...}`` / ``\\fbox{...}`` (or ``\\boxed 5``).
3. The last ``Final: ...`` / ``Final Answer: ...`` line (QT-R1 format).
4. The last "the answer is ..." / "final answer is ..." phrase (Minerva / Qwen-math style).
5. Only with ``last_number=True``: the last number in the text (GSM8K style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "THINK_TAGS",
    "ThinkSplit",
    "extract_answer",
    "extract_boxed",
    "extract_last_number",
    "split_thinking",
    "strip_thinking",
]

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


def split_thinking(response: str) -> ThinkSplit:
    """Split ``response`` into thinking and answer text.

    The answer starts after the *last* closing tag: budget forcing (s1 "Wait") and some chat templates
    produce more than one closing tag, and the final answer always follows the last one. A closing tag
    without an opening tag counts as closed, because prompts often prefill ``<think>`` so the model's
    text starts inside the thinking block. A thinking block reopened after the last closing tag and never
    closed again makes the response unclosed.
    """
    for open_tag, close_tag in THINK_TAGS:
        close_at = response.rfind(close_tag)
        if close_at >= 0 and response.rfind(open_tag) < close_at:
            open_at = response.find(open_tag)
            start = open_at + len(open_tag) if 0 <= open_at < close_at else 0
            return ThinkSplit(response[close_at + len(close_tag) :], response[start:close_at], "closed")
        open_at = response.find(open_tag)
        if open_at >= 0:
            return ThinkSplit(None, response[open_at + len(open_tag) :], "unclosed")
    return ThinkSplit(response, "", "none")


def strip_thinking(response: str) -> str | None:
    """The gradable part of ``response``: text after the thinking block, or None if it never closed."""
    return split_thinking(response).answer


_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def _matching_braces(text: str) -> dict[int, int]:
    """Index of each ``{`` mapped to the index of its matching ``}``, in one pass.

    Escaped braces (``\\{``, ``\\}``: set notation) are not group delimiters. One pass keeps extraction
    linear even for adversarial text (thousands of unclosed ``\\boxed{``), which matters because extraction
    runs before any time limit applies.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
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
    braces = _matching_braces(text)
    for m in reversed(boxes):
        content = _box_content(text, m.end(), braces)
        if content:
            return content
    return None


_FINAL_LINE_RE = re.compile(r"(?mi)^[ \t*#>]*final(?:[ \t]*answer)?[ \t*]*[:=][ \t*]*(.+?)[ \t]*$")
_ANSWER_IS_RE = re.compile(r"(?i)(?:final answer|the answer)(?:\s+to\s+[^\n]{0,60}?)?\s+is\s*:?\s*([^\n]+)")
_HOPE_RE = re.compile(r"(?i)\.?\s*I hope it is correct\.?\s*$")

_NUMBER_RE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)|(?<![\w.])-?\.\d+")


def extract_last_number(text: str) -> str | None:
    """The last number in ``text`` with thousands separators removed (``"1,234.5"`` -> ``"1234.5"``).

    GSM8K answers are integers written with commas; the separator pattern requires groups of exactly three
    digits so that ``"3,4"`` (a list) yields ``"4"``, not ``"34"``.
    """
    matches = _NUMBER_RE.findall(text)
    if not matches:
        return None
    return matches[-1].replace(",", "")


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


def extract_answer(response: str, *, last_number: bool = False) -> str | None:
    """Extract the final answer from a model response, or None when it has none.

    ``last_number=True`` enables the GSM8K fallback (last number in the text); it is off by default because
    on MATH-style problems the last number is often an intermediate value, and crediting it inflates
    accuracy.
    """
    if not response:
        return None
    text = strip_thinking(response)
    if text is None or not text.strip():
        return None
    boxed = extract_boxed(text)
    if boxed:
        return boxed
    finals = _FINAL_LINE_RE.findall(text)
    if finals:
        # Minerva writes "Final Answer: The final answer is $x$. I hope it is correct."
        inner = _ANSWER_IS_RE.findall(finals[-1])
        value = _clean_span(inner[-1] if inner else finals[-1])
        if value:
            return value
    phrases = _ANSWER_IS_RE.findall(text)
    if phrases:
        value = _clean_span(phrases[-1])
        if value:
            return value
    if last_number:
        return extract_last_number(text)
    return None
