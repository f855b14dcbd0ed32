"""Mathematical answer equivalence: Math-Verify plus the rules it misses, with hard time limits.

Pipeline for ``compare(gold, pred)`` (first decisive step wins):

1. **No answer**: empty input, or a response whose thinking block never closed. A ``pred`` that is a
   whole response is read with `find_answer` under the caller's extraction policy (the path `grade`
   takes), so it has no answer when that policy finds none; identical texts are equal; Unicode maths,
   ordinal suffixes and stray ``$ $`` are normalised (`_normalize_symbols`).
2. **Fast path** (pure Python, no sympy, safe on any thread): identical after cosmetic normalisation
   (``\\dfrac``/``\\left``/spaces/``$``); two plain numbers (thousands separators, ``%``, ``\\$``);
   clock times with seconds or a.m./p.m.; text answers (``\\text{(B)}`` = ``B``, case-insensitive words).
3. **Parse** each side with Math-Verify's extraction (LaTeX and number patterns). Short "bare" answers
   (``x^2+1``, ``10 square units``) are wrapped in ``$...$`` so the LaTeX parser reads the whole string;
   ambiguous notations add alternative readings (``1,22`` may be a decimal comma; ``2\\frac58`` a mixed
   number; ``10 weeks`` a number with a unit) and any reading may match, as Math-Verify does with its own
   candidate lists. Operator expressions that Math-Verify would hand to sympy's ``parse_expr`` (which
   ``eval``s) are parsed with latex2sympy instead: nothing from the input is ever evaluated as Python.
   The code ported from Math-Verify for this step lives in :mod:`thinklab.grading.mathverify_compat`.
4. **Guards**: a parsed expression whose value would have more than ~10^6 digits (``10^{10^{10}}``), a
   factorial of more than 20000, or more than 5000 nodes is refused (False, reason ``refused``) before
   sympy tries to compute it, because such computations run inside C code that no timeout can interrupt.
5. **Numbers**: two numeric scalars are compared by value. Exact on both sides: rational values
   (integers, fractions, powers of them) exactly, irrational ones (radicals, pi) to 1e-12 relative in
   110-bit arithmetic. A decimal on either side: relative tolerance 1e-4, the rule of
   Qwen2.5-Math's ``math_equal``, so ``40\\pi`` = ``125.664``. A percentage ``X%`` also matches ``X`` and
   ``X/100`` (never ``0.28`` = ``28`` without a percent sign: Math-Verify rejects that on purpose). This
   step is authoritative for scalars: it also fixes a Math-Verify false positive where tiny values are
   "chopped" to zero (``1/2004!`` = ``1/2006!``).
6. **Math-Verify** ``verify(gold, pred)``: symbolic equality, sets (order-insensitive), tuples (ordered),
   intervals, matrices, relations, ``x = 3`` vs ``3``. Gold comes first: the check is asymmetric on
   purpose (``a + 3z = 0`` must not match ``0``).
7. **Element-wise** lists, sets, tuples, vectors and equation systems with the numeric rule of step 5
   (``\\frac13, \\sqrt3, \\pi`` = ``1/3, 1.732, 3.1416``). All-numeric structures are tried before step 6:
   it is cheap, and spares sympy endpoints like ``2^{1/2^{1000}}``.
8. **Identity test**: expressions in the same variables that ``simplify`` could not reconcile are
   evaluated at three fixed positive points (`_identity_test`).

Units: Math-Verify's unit list (which holds single letters such as ``t`` and ``m``, so ``x+2t`` = ``x+2``)
is switched off; `_strip_units` removes only ``\\text{...}`` groups and known unit words after a value.

Time limits: see :mod:`thinklab.grading.timeouts`. On the main thread the whole comparison runs under a
``setitimer`` deadline; on any other thread it runs in a worker process that is killed if it overruns.
Either way a comparison that does not finish in ``timeout`` seconds returns False with reason ``timeout``.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import re
import threading
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from thinklab.grading.extract import (
    LATEX_CMD_RE,
    MAX_BARE_CHARS,
    OTHER_SCRIPT_RE,
    TEXT_WRAP_RE,
    TEXTY_RE,
    WORD_RE,
    check_policy,
    extract_answer,
    find_answer,
    is_bare,
    split_thinking,
    unwrap_text,
)
from thinklab.grading.mathverify_compat import math_verify_api, mv_extract
from thinklab.grading.timeouts import GradingTimeout, WorkerError, deadline, run_in_worker, signals_usable

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "REL_TOL",
    "answers_equivalent",
    "compare",
    "group_equivalent",
    "is_equivalent",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
REL_TOL = 1e-4  # decimals vs exact values (Qwen2.5-Math math_equal)
EXACT_REL_TOL = 1e-12  # two exact values, compared through 30-digit evaluation
MAX_INPUT_CHARS = 20_000  # longer responses: only the tail is searched (answers come last)
MAX_BRACE_DEPTH = 40
MAX_RESULT_DIGITS = 1_000_000
MAX_FACTORIAL_ARG = 20_000
MAX_NODES = 5_000

# --------------------------------------------------------------------------------------------------
# Cosmetic normalisation and the pure-Python fast path
# --------------------------------------------------------------------------------------------------

_COSMETIC_SUBS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"\\[dtc]frac", r"\\frac"),
        (r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])", ""),
        (r"\\(?:displaystyle|textstyle)", ""),
        (r"\\[!,;: ]|\\q?quad", ""),
        (r"\\\$|\$", ""),
        (r"\s+", ""),
        (r"\.$", ""),
    )
)


def _cosmetic(s: str) -> str:
    """Strip notation that never changes meaning, for a cheap exact comparison."""
    s = s.strip()
    for pattern, repl in _COSMETIC_SUBS:
        s = pattern.sub(repl, s)
    return s


_TEXT_WRAP_RE = TEXT_WRAP_RE
_TEXTY_RE = TEXTY_RE
_unwrap_text = unwrap_text


def _text_key(answer: str) -> str | None:
    """A comparison key for a word answer ("Evelyn", "odd", "(B)"); None when the answer is not words.

    Single letters keep their case (``e`` vs ``E`` can be different constants or variables); longer words
    are compared case-insensitively with spaces collapsed. A letter in parentheses is a multiple-choice
    label and is upper-cased.
    """
    s = _unwrap_text(answer.replace("$", "")).strip().rstrip(".").strip()
    m = re.fullmatch(r"\(\s*([A-Za-z])\s*\)", s)
    if m:
        s = m.group(1).upper()  # a multiple-choice label: "(b)" and "(B)" -> "B"
    if not _TEXTY_RE.fullmatch(s):
        return None
    return s if len(s) == 1 else " ".join(s.lower().split())


# Digits, with an optional E-notation exponent as programs print floats (1e3, 4.5e33, 1.2E-04). The
# exponent is at most three digits: a value is computed from it.
_PLAIN_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_E_NOTATION_RE = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+))[eE]([-+]?\d{1,3})")

_SMALL_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS_WORDS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
}
_SCALE_WORDS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def _word_number(text: str) -> int | None:
    """An integer written in English words ("three", "twenty-one", "one hundred and five"); else None.

    Models write small answers as words ("She has three left."); only whole phrases of number words are
    read, so "one of them" or "a third" are not numbers.
    """
    words = text.lower().replace("-", " ").split()
    if not words or len(words) > 12:
        return None
    total = current = 0
    seen = False
    for word in words:
        if word == "and" and seen:
            continue
        if word in _SMALL_NUMBER_WORDS:
            current += _SMALL_NUMBER_WORDS[word]
        elif word in _TENS_WORDS and word != "_":
            current += _TENS_WORDS[word]
        elif word == "hundred" and seen:
            current = max(current, 1) * 100
        elif word in _SCALE_WORDS and seen:
            total += max(current, 1) * _SCALE_WORDS[word]
            current = 0
        else:
            return None
        seen = True
    return total + current


_THOUSANDS_RE = re.compile(r"[-+]?[1-9]\d{0,2}(?:(?:,|\\,|\{,\}| )\d{3})+(?:\.\d+)?")


def _plain_number(s: str) -> tuple[Fraction, bool, bool] | None:
    """Parse a plain written number: (value, is_exact_integer_or_fraction, is_percent); None otherwise."""
    t = s.strip().rstrip(".").strip()
    t = re.sub(r"^\\?\$|\\?\$$", "", t).strip()
    t = t.replace("\\!", "")
    percent = False
    for suffix in ("\\%", "%"):
        if t.endswith(suffix):
            t, percent = t[: -len(suffix)].strip(), True
            break
    if _THOUSANDS_RE.fullmatch(t):
        t = re.sub(r"\\,|\{,\}|[, ]", "", t)
    if len(t) > 100 or not _PLAIN_NUMBER_RE.fullmatch(t):
        words = _word_number(t) if t.isascii() and t.replace("-", " ").replace(" ", "").isalpha() else None
        return None if words is None else (Fraction(words), True, percent)
    return Fraction(t), "." not in t, percent


_CLOCK_RE = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:\\text\{\s*)?(?:([AaPp])\.?\s*[Mm]\.?)?\s*\}?",
)


def _clock_seconds(s: str) -> tuple[int, bool] | None:
    """Seconds after midnight for a clock time, and whether it was explicit (seconds or a.m./p.m.)."""
    m = _CLOCK_RE.fullmatch(_cosmetic_keep_spaces(s))
    if not m:
        return None
    hours, minutes, seconds, half = int(m[1]), int(m[2]), int(m[3] or 0), (m[4] or "").lower()
    if minutes >= 60 or seconds >= 60 or hours > 24:
        return None
    if half:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if half == "p" else 0)
    return hours * 3600 + minutes * 60 + seconds, bool(half or m[3])


def _cosmetic_keep_spaces(s: str) -> str:
    return s.replace("$", "").strip().rstrip(".").strip()


def _numbers_close(a: Any, b: Any, exact: bool) -> bool:
    """Relative closeness of two numbers (float, complex or mpmath; mpmath keeps 2^{999999} finite)."""
    if a == b:
        return True
    mag_a, mag_b = abs(a), abs(b)
    if mag_a == math.inf or mag_b == math.inf:
        return False  # +oo and -oo are not "relatively close"
    tol = EXACT_REL_TOL if exact else REL_TOL
    return abs(a - b) <= tol * max(mag_a, mag_b)


def _percent_variants(value: Fraction, percent: bool) -> list[Fraction]:
    return [value / 100, value] if percent else [value]


def _fast_path(gold_answer: str, pred_answer: str) -> tuple[bool, str] | None:
    """Decide cheap cases without sympy; None when undecided. Inputs are *answers*, not responses."""
    if len(gold_answer) > MAX_BARE_CHARS or len(pred_answer) > MAX_BARE_CHARS:
        return None
    if _cosmetic(gold_answer) == _cosmetic(pred_answer):
        return True, "equivalent"
    g_num, p_num = _plain_number(gold_answer), _plain_number(pred_answer)
    if g_num is not None and p_num is not None:
        exact = g_num[1] and p_num[1]
        equal = any(
            _numbers_close(float(a), float(b), exact) if not exact else a == b
            for a in _percent_variants(g_num[0], g_num[2])
            for b in _percent_variants(p_num[0], p_num[2])
        )
        return equal, "equivalent" if equal else "not_equivalent"
    g_clock, p_clock = _clock_seconds(gold_answer), _clock_seconds(pred_answer)
    if g_clock is not None and p_clock is not None and (g_clock[1] or p_clock[1]):
        equal = g_clock[0] == p_clock[0]
        return equal, "equivalent" if equal else "not_equivalent"
    g_text = _text_key(gold_answer)
    if g_text is not None and g_text == _text_key(pred_answer):
        # Only a match is decisive: different words may still be equal products ("ab" and "ba").
        return True, "equivalent"
    return None


# --------------------------------------------------------------------------------------------------
# Deciding what the answer string is
# --------------------------------------------------------------------------------------------------

_LATEX_CMD_RE = LATEX_CMD_RE
_is_bare = is_bare


# Unicode math symbols models write in place of LaTeX, as the LaTeX thinklab parses.
_UNICODE_LATEX = {
    "π": r"\pi ",
    "×": r"\times ",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "÷": r"\div ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "−": "-",
    "∞": r"\infty ",
    "±": r"\pm ",
    "∓": r"\mp ",
    "°": r"^\circ ",
    "∈": r"\in ",
    "∪": r"\cup ",
    "∩": r"\cap ",
    "∅": r"\emptyset ",
    "⁄": "/",
    "²": "^2",
    "³": "^3",
    "½": r"\frac{1}{2}",
    "⅓": r"\frac{1}{3}",
    "⅔": r"\frac{2}{3}",
    "¼": r"\frac{1}{4}",
    "¾": r"\frac{3}{4}",
    "θ": r"\theta ",
    "α": r"\alpha ",
    "β": r"\beta ",
    "γ": r"\gamma ",
    "λ": r"\lambda ",
    "μ": r"\mu ",
    "σ": r"\sigma ",
    "φ": r"\phi ",
    "ω": r"\omega ",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE_LATEX)))
_SQRT_RE = re.compile(r"√\s*(\d+(?:\.\d+)?|[A-Za-z]|\\[A-Za-z]+|\([^()]*\)|\{[^{}]*\})")
# An ordinal suffix after a digit: 5th, 5^{th}, 5^{\text{th}}, 5\textsuperscript{th}.
_ORDINAL_RE = re.compile(
    r"(?<=\d)\s*(?:\^\s*\{?\s*)?(?:\\(?:text|mathrm|textrm|textsuperscript)\s*\{\s*)?(?:st|nd|rd|th)"
    r"(?:\s*\})?(?:\s*\})?(?![A-Za-z])"
)


_STRAY_DOLLARS_RE = re.compile(r"(?<!\\)\$\s*\$")


def _normalize_symbols(text: str) -> str:
    """Unicode math symbols as LaTeX (``2√3`` -> ``2\\sqrt{3}``, ``π/2`` -> ``\\pi /2``), ordinal suffixes
    dropped (``5^{\\text{th}}`` -> ``5``). Cheap: ASCII text without an ordinal is returned as is."""
    if text.count("$") == 2 and not text.lstrip().startswith("$") and (m := _STRAY_DOLLARS_RE.search(text)):
        # "x_0 \\cos(\\omega t)+$ $\\dot{x}_0 ..." (a Minerva gold as its harness cut it): a closing and
        # reopening math delimiter inside an answer mean nothing.
        text = text[: m.start()] + " " + text[m.end() :]
    if not text.isascii():
        text = _SQRT_RE.sub(lambda m: "\\sqrt{" + m[1].strip("(){}") + "}", text)
        text = _UNICODE_RE.sub(lambda m: _UNICODE_LATEX[m[0]], text.replace("√", "\\sqrt"))
    if ("th" in text or "st" in text or "nd" in text or "rd" in text) and len(text) <= MAX_BARE_CHARS:
        text = _ORDINAL_RE.sub("", text)
    return text


_MATH_SPANS_RE = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\\(.*?\\\)|(?<!\\)\$[^$]*\$", re.DOTALL)


# Text longer than this is a response whatever it looks like (the longest math-only answer in the peer
# suites is 158 characters).
MAX_ANSWER_CHARS = 400


def _is_response(text: str) -> bool:
    """Whether ``text`` is a model response (prose to extract an answer from) rather than an answer.

    An answer is a bare expression or math spans with at most two words around them (``$28$ %``,
    ``$\\boxed{1}$ and $\\boxed{2}$``); a response has three or more words outside math, or words in a
    non-Latin script. A response is graded through `find_answer` with the caller's policy, exactly as
    `grade` does, so ``is_equivalent(gold, response)`` and ``grade(gold, response)`` cannot disagree.
    """
    body = split_thinking(text).answer
    if body is None:
        return False
    if len(body) > MAX_ANSWER_CHARS:
        return True  # answers are short; deciding costs three regex passes over a long response
    if is_bare(body.strip()):
        return False
    outside = _MATH_SPANS_RE.sub(" ", body)
    if not outside.isascii() and OTHER_SCRIPT_RE.search(outside):
        return True
    visible = LATEX_CMD_RE.sub(" ", TEXT_WRAP_RE.sub(" ", outside))
    return len(WORD_RE.findall(visible)) >= 3


def _response_answer(pred: str, policy: str) -> str | None:
    """``pred`` itself when it is an answer; the answer `find_answer` reads from it when it is a response
    (None: the response has no answer under ``policy``). Unicode symbols are normalised either way."""
    if _is_response(pred):
        found = find_answer(pred, policy=policy)
        if found is None:
            return None
        pred = found.answer
    return _normalize_symbols(pred)


def _answer_string(text: str) -> str | None:
    """The answer part of a gold or predicted string: itself if bare, else what `extract_answer` finds."""
    body = split_thinking(text).answer
    if body is None:
        return None
    body = body.strip()
    if _is_bare(body):
        return body
    return extract_answer(body)


_MIXED_FRAC_RE = re.compile(
    r"([-+]?)(\d+)\s*\\[dtc]?frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d))"
)
_MIXED_SLASH_RE = re.compile(r"([-+]?)(\d+)\s+(\d+)\s*/\s*(\d+)")
_REPEATING_RE = re.compile(r"([-+]?)(\d*)\.(\d*)\\overline\s*\{(\d+)\}")
_DECIMAL_COMMA_RE = re.compile(r"([-+]?\d+),(\d+)")
_UNIT_SPACED_RE = re.compile(
    r"(?P<num>[-+]?\d+(?:\.\d+)?)\s+(?P<words>[A-Za-z]{2,}\.?(?:\s+[A-Za-z]{2,}\.?){0,2})(?:\^\{?[23]\}?)?"
)
_UNIT_ATTACHED_RE = re.compile(r"(?P<num>[-+]?\d+(?:\.\d+)?)(?P<words>[A-Za-z]{3,})")
# Words after a number that are maths, not units ("2 pi", "3 and 4").
_NOT_UNITS = frozenset(("pi", "and", "or", "to", "of", "times", "sqrt", "mod", "cis", "cos", "sin", "tan"))
_STYLED_LETTER_RE = re.compile(r"\\(?:text|math(?:rm|it|bf)|mbox|operatorname)\s*\{\s*([A-Za-z])\s*\}")
_CASES_RE = re.compile(r"\\begin\{cases\}(.*)\\end\{cases\}", re.DOTALL)
_DOUBLED_CMD_RE = re.compile(r"\\\\[A-Za-z]")
_SINGLE_CMD_RE = re.compile(r"(?<!\\)\\[A-Za-z]")
_NON_LATIN_BEFORE_NUMBER_RE = re.compile(r"(?<=[^\x00-\x7f])(?=[-+$\\\d])")
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![A-Za-z])")
_DEGREE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*\^\s*\{?\s*\\circ\s*\}?")


_UNIT_WORDS = (
    "mm|cm|km|in|inch|inche|ft|feet|foot|yd|yard|mi|mile|meter|metre|centimeter|centimetre|kilometer|"
    "kilometre|millimeter|millimetre|sq|square|cubic|cu|cc|ml|liter|litre|gal|gallon|mg|kg|gm|gram|lb|"
    "pound|oz|ounce|ton|tonne|sec|second|min|minute|hr|hour|day|week|month|year|yr|mph|kmh|kmph|deg|"
    "degree|rad|radian|dollar|cent|yuan|rs|rupee|euro|unit|point|people|person|student|child|children"
)
# A trailing \text{...} (units, "and", labels) after a number, closing brace or space; optional ^2 / ^{3}.
# Its content may not contain braces, so a \text inside \frac{..}{..} is never touched.
_TRAILING_TEXT_RE = re.compile(r"(?<=[\d})\s])\s*\\(?:text|mbox)\s*\{[^{}]*\}\s*(?:\^\s*\{?\s*\d\s*\}?)?\s*$")
_TRAILING_UNIT_RE = re.compile(
    rf"(?:(?<=[\d}})])|(?<=\\pi)|(?<=\\circ)|(?<=\\infty))\s*(?:(?:{_UNIT_WORDS})(?:e?s)?\.?\s*)+(?:\^\s*\{{?\s*[23]\s*\}}?)?\s*$",
    re.IGNORECASE,
)


def _strip_units(latex: str) -> str:
    """Drop units after a value: ``10\\text{ cm}^2``, ``10 cm``, ``125 miles``, ``5 square feet``.

    Only known unit words (and any ``\\text{...}``) right after a digit or closing brace are removed, never a
    single letter: ``2t`` and ``x+2t`` keep their variable (Math-Verify's list includes ``t``, ``h``, ``m``...).
    """
    for _ in range(3):
        stripped = _TRAILING_TEXT_RE.sub("", latex).strip()
        stripped = _TRAILING_UNIT_RE.sub("", stripped).strip()
        if not stripped or stripped == latex:
            break
        latex = stripped
    return latex


def _bare_readings(answer: str) -> list[str]:
    """LaTeX readings of a bare answer, most literal first (see module docstring, step 3)."""
    s = answer.strip().replace("\n", " ")
    s = re.sub(r"^\\\(|\\\)$", "", s).strip()
    if _DOUBLED_CMD_RE.search(s) and not _SINGLE_CMD_RE.search(s):
        s = s.replace("\\\\", "\\")  # a doubly escaped string (JSON written twice): every \\ was a \
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    if _THOUSANDS_RE.fullmatch(s):
        s = re.sub(r"\\,|\{,\}|[, ]", "", s)
    if (m := _E_NOTATION_RE.fullmatch(s)) is not None:
        s = f"{m[1]}\\times 10^{{{m[2]}}}"  # 1e3: the e is an exponent marker, not Euler's number
    cases = _CASES_RE.fullmatch(s)
    if cases:
        s = ", ".join(part.strip() for part in re.split(r"\\\\", cases[1]) if part.strip())
    if _TRIG_RE.search(s) and "\\circ" in s:
        s = _DEGREE_RE.sub(r"(\1\\pi/180)", s)  # degrees inside trig functions are angles
    readings = [s]
    letters = set(re.findall(r"[A-Za-z]", _LATEX_CMD_RE.sub(" ", s)))
    if "i" in letters and letters <= {"i", "e"}:
        # The only letters are i (and Euler's e): i is the imaginary unit (latex2sympy reads a bare i as a
        # variable and I as the unit).
        readings.append(re.sub(r"\\imath|(?<![A-Za-z\\])i(?![A-Za-z])", "I", s))
    m = _REPEATING_RE.fullmatch(s)
    if m:  # 0.1\overline{6} = 1/6: (digits with one period - digits without it) / (10^k (10^p - 1))
        sign, whole, fixed, period = m[1], m[2] or "0", m[3], m[4]
        num = int(whole + fixed + period) - int(whole + fixed)
        den = (10 ** len(period) - 1) * 10 ** len(fixed)
        readings.append(f"{sign}\\frac{{{num}}}{{{den}}}")
    m = _DECIMAL_COMMA_RE.fullmatch(s)
    if m:
        readings.append(f"{m[1]}.{m[2]}")
    m = _MIXED_SLASH_RE.fullmatch(s)
    if m:
        sign, whole, num, den = m[1], int(m[2]), int(m[3]), int(m[4])
        readings.append(f"{sign}\\frac{{{whole * den + num}}}{{{den}}}")
    elif (m := _MIXED_FRAC_RE.fullmatch(s)) is not None:
        num, den = int(m[3] or m[4]), int(m[5] or m[6])
        readings.append(f"{m[1]}\\frac{{{int(m[2]) * den + num}}}{{{den}}}")
    for unit_re in (_UNIT_SPACED_RE, _UNIT_ATTACHED_RE):
        m = unit_re.fullmatch(s)
        if m and not any(w.lower().rstrip(".") in _NOT_UNITS for w in m["words"].split()):
            readings.append(m["num"])
    return readings


def _brace_depth(s: str) -> int:
    depth = best = 0
    for ch in s:
        if ch == "{":
            depth += 1
            best = max(best, depth)
        elif ch == "}":
            depth -= 1
    return best


class _Refused(Exception):
    """An input too expensive to compare safely (see `_check_guards`)."""


def _parse_side(text: str) -> tuple[Any, ...]:
    """Parsed candidates for one side (sympy objects, then raw-string fallbacks).

    Answers (short strings) are cached: a gold answer repeats for every sample of its problem, and voting
    compares each prediction with many others. Whole responses are not, so the cache stays small.
    """
    if len(text) <= MAX_BARE_CHARS:
        return _parse_side_cached(text)
    return _parse_side_uncached(text)


@functools.lru_cache(maxsize=8192)
def _parse_side_cached(text: str) -> tuple[Any, ...]:
    return _parse_side_uncached(text)


def _parse_side_uncached(text: str) -> tuple[Any, ...]:
    mv = math_verify_api()
    body = split_thinking(text).answer
    if body is None:
        return ()
    body = body.strip()
    if len(body) > MAX_INPUT_CHARS:
        body = body[-MAX_INPUT_CHARS:]
    if _brace_depth(body) > MAX_BRACE_DEPTH:
        raise _Refused("braces nested too deep")
    # A styled single letter is just that letter: \mathrm{e} is Euler's e, \text{E} a choice. (Math-Verify's
    # default unit stripping deleted such a group even inside a fraction: 1 - \frac{1}{\mathrm{e}} -> 1.)
    body = _STYLED_LETTER_RE.sub(r"\1", body)
    items: list[Any] = []
    strings: list[str] = []
    if _is_bare(body):
        for reading in _bare_readings(body):
            for value in mv_extract(f"${reading}$", mv.latex_regexes, _strip_units):
                (strings if isinstance(value, str) else items).append(value)
        if not items:
            for value in mv_extract(body, mv.all_regexes, _strip_units):
                (strings if isinstance(value, str) else items).append(value)
    else:
        # Math-Verify's number patterns need a space or "=" before a number; CJK/Arabic text has none.
        body = _NON_LATIN_BEFORE_NUMBER_RE.sub(" ", body)
        for value in mv_extract(body, mv.all_regexes, _strip_units):
            (strings if isinstance(value, str) else items).append(value)
    return tuple(items) + tuple(strings[:1])


# --------------------------------------------------------------------------------------------------
# Guards against inputs that would hang sympy
# --------------------------------------------------------------------------------------------------

_LOG10_2 = math.log10(2)


def _check_guards(items: Iterable[Any]) -> None:
    """Raise `_Refused` for expressions whose evaluation could not be stopped by a timeout.

    Walks every numeric subexpression estimating two numbers: ``size``, the digits an exact
    representation needs, and ``logv``, log10 of its magnitude (negative for tiny values). A power whose
    exact result would need more than ``MAX_RESULT_DIGITS`` digits (``10^{10^{10}}``), or a factorial of
    more than ``MAX_FACTORIAL_ARG``, is refused; a tiny exponent (``2^{1/2^{1000}}``) is fine. These are
    estimates for a guard, not proofs: they only need to be right about orders of magnitude.
    """
    mv = math_verify_api()
    sp = mv.sympy
    budget = [MAX_NODES]

    def digits(n: int) -> float:
        return math.log10(abs(n)) if n else 0.0  # exact for Python ints of any size

    def est(e: Any) -> tuple[float, float] | None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused("expression too large")
        if isinstance(e, sp.MatrixBase):
            for x in e:
                est(x)
            return None
        if not isinstance(e, sp.Basic):
            return None
        if e.is_Integer:
            return digits(int(e)), digits(int(e))
        if e.is_Rational:
            p, q = digits(int(e.p)), digits(int(e.q))
            return p + q, p - q
        if e.is_Float:
            value = abs(float(e))
            logv = math.log10(value) if 0 < value < math.inf else 0.0
            return abs(logv), logv
        if isinstance(e, sp.NumberSymbol) or e is sp.I:
            return 0.5, 0.5
        if isinstance(e, sp.Pow):
            base, exp = est(e.base), est(e.exp)
            if e.base in (sp.S.Zero, sp.S.One, sp.S.NegativeOne):
                return None
            if base is None and exp is not None and exp[1] > 6:
                raise _Refused("symbolic power with a huge exponent")  # (x+1)^{10^7}: expansion never ends
            if base is None or exp is None:
                return None
            if exp[1] > 7:
                raise _Refused("power with a huge exponent")
            magnitude = 10 ** exp[1]
            size = magnitude * max(base[0], _LOG10_2)
            if size > MAX_RESULT_DIGITS:
                raise _Refused("power too large")
            sign = -1.0 if e.exp.is_extended_negative else 1.0
            return size, sign * magnitude * base[1]
        if isinstance(e, (sp.factorial, sp.factorial2, sp.subfactorial, sp.gamma)):
            arg = est(e.args[0])
            if arg is None:
                return None
            if arg[1] > math.log10(MAX_FACTORIAL_ARG):
                raise _Refused("factorial too large")
            n = 10 ** arg[1]
            size = n * math.log10(max(n, 2.0))
            return size, size
        children = [est(a) for a in e.args]
        if not children or any(c is None for c in children):
            return None
        known = [c for c in children if c is not None]
        if isinstance(e, sp.Mul):
            return sum(c[0] for c in known), sum(c[1] for c in known)
        if isinstance(e, sp.Add):
            return max(c[0] for c in known) + 1, max(c[1] for c in known) + 1
        return None

    for item in items:
        est(item)


# --------------------------------------------------------------------------------------------------
# Numeric comparison and structured fallback
# --------------------------------------------------------------------------------------------------


def _scalar_values(expr: Any) -> tuple[list[Any], list[Any] | None] | None:
    """Numeric value(s) of a scalar expression; None if it is not a numeric scalar.

    Returns ``(approximations, exact)``: mpmath values at 110 bits, and, when the expression is exact and
    rational (integers, fractions, powers of them), the exact sympy Rationals (else None). A percentage
    ``X%`` yields both ``X/100`` and ``X``.
    """
    mv = math_verify_api()
    sp = mv.sympy
    if expr in (sp.oo, -sp.oo):
        return [expr._to_mpmath(53)], None
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.MatrixBase) or not expr.is_number:
        return None
    pct = mv.grader.get_pct_val(expr)
    variants = [expr] if pct is None else [expr, pct]
    try:
        # mpmath numbers, not Python floats: 2^{999999} would overflow a float to inf and equal 3^{600000}.
        values = [v.evalf(30)._to_mpmath(110) for v in variants]
    except (TypeError, ValueError, AttributeError):
        return None
    if any(mv.mpmath.isnan(v) for v in values):
        return None
    if expr.atoms(sp.Float):
        return values, None
    # Exact: integers must compare exactly (2^{100} != 2^{100}+1, which 1e-12 relative would accept).
    # The guards bound the size of anything evaluated here.
    try:
        exact = [v if v.is_Rational else v.doit() for v in variants]
    except Exception:
        return values, [None] * len(values)
    return values, [v if v.is_Rational else None for v in exact]


def _values_match(
    g_values: list[Any], g_exact: list[Any] | None, p_values: list[Any], p_exact: list[Any] | None
) -> bool:
    """Whether any reading of one side equals any reading of the other (readings: a percent's two values).

    Both sides exact: rationals compare exactly, irrational values (radicals, pi) to 1e-12 relative.
    Otherwise (a decimal on either side): relative tolerance `REL_TOL`.
    """
    if g_exact is None or p_exact is None:
        return any(_numbers_close(a, b, False) for a in g_values for b in p_values)
    for a, ra in zip(g_values, g_exact, strict=True):
        for b, rb in zip(p_values, p_exact, strict=True):
            if ra is not None and rb is not None:
                if ra == rb:
                    return True
            elif _numbers_close(a, b, True):
                return True
    return False


def _unwrap_assignment(expr: Any) -> tuple[Any, Any]:
    """(lhs, rhs) of an assignment ``symbol = value``, else (None, expr)."""
    sp = math_verify_api().sympy
    if isinstance(expr, sp.Eq) and isinstance(expr.lhs, sp.Symbol):
        return expr.lhs, expr.rhs
    return None, expr


def _numeric_compare(gold_items: Sequence[Any], pred_items: Sequence[Any]) -> bool | None:
    """Step 5: True/False when both sides are numeric scalars, None when the rule does not apply."""
    gold_vals, pred_vals = [], []
    for items, out in ((gold_items, gold_vals), (pred_items, pred_vals)):
        for item in items:
            if isinstance(item, str):
                continue
            lhs, rhs = _unwrap_assignment(item)
            parsed = _scalar_values(rhs)
            if parsed is None:
                return None
            out.append((lhs, parsed))
    if not gold_vals or not pred_vals:
        return None
    for g_lhs, (g_values, g_exact) in gold_vals:
        for p_lhs, (p_values, p_exact) in pred_vals:
            if g_lhs is not None and p_lhs is not None and g_lhs != p_lhs:
                continue  # x = 1 and y = 1 are different statements
            if _values_match(g_values, g_exact, p_values, p_exact):
                return True
    return False


_IDENTITY_POINTS = 3
_IDENTITY_SEED = 20240917


def _identity_test(gold: Any, pred: Any) -> bool:
    """Whether two expressions in the same variables agree at a few fixed pseudo-random positive points.

    Polynomial identity testing, used only after Math-Verify's ``simplify`` said no: it catches equal
    expressions that ``simplify`` cannot normalise (``(r_0/(r+r_0))^{0.5}/(r+r_0)`` vs
    ``r_0^{1/2}/(r+r_0)^{3/2}``) and a decimal coefficient on one side. Points are positive to stay off
    branch cuts of roots and logarithms; exact expressions must agree to 1e-9, inexact ones to `REL_TOL`.
    """
    mv = math_verify_api()
    sp = mv.sympy
    if not (isinstance(gold, sp.Expr) and isinstance(pred, sp.Expr)):
        return False
    if isinstance(gold, sp.MatrixBase) or isinstance(pred, sp.MatrixBase):
        return False
    symbols = gold.free_symbols
    if not symbols or symbols != pred.free_symbols or len(symbols) > 6:
        return False
    exact = not gold.atoms(sp.Float) and not pred.atoms(sp.Float)
    tol = 1e-9 if exact else REL_TOL
    rng = random.Random(_IDENTITY_SEED)
    ordered = sorted(symbols, key=str)
    for _ in range(_IDENTITY_POINTS):
        point = {sym: sp.Float(rng.uniform(0.5, 2.5), 20) for sym in ordered}
        try:
            a = gold.subs(point).evalf(20)._to_mpmath(70)
            b = pred.subs(point).evalf(20)._to_mpmath(70)
        except (TypeError, ValueError, AttributeError, ZeroDivisionError):
            return False
        if not (mv.mpmath.isfinite(a) and mv.mpmath.isfinite(b)):
            return False
        if abs(a - b) > tol * max(abs(a), abs(b), 1e-12):
            return False
    return True


def _container(x: Any) -> tuple[Any, list[Any]] | None:
    """(kind, elements) for the structures compared element by element; None for anything else.

    Kinds: ``"set"`` (unordered), ``"tuple"`` (ordered; a row or column vector is a tuple too, so
    a column matrix of 1/2 and 1 equals ``[0.5, 1]``), ``("interval", left_open, right_open)``,
    ``("matrix", shape)`` and ``"system"`` (equations, unordered).
    """
    mv = math_verify_api()
    sp = mv.sympy
    if isinstance(x, sp.FiniteSet):
        return "set", list(x.args)
    if isinstance(x, sp.Tuple):
        return "tuple", list(x.args)
    if isinstance(x, sp.MatrixBase):
        return ("tuple", list(x)) if 1 in x.shape else (("matrix", x.shape), list(x))
    if isinstance(x, sp.Interval):
        return ("interval", bool(x.left_open), bool(x.right_open)), [x.start, x.end]
    args = getattr(x, "_unsorted_args", None)
    if isinstance(x, sp.And) and args and all(isinstance(a, sp.Eq) for a in args):
        return "system", list(args)
    return None


def _match_elements(gold: list[Any], pred: list[Any], ordered: bool, numeric_only: bool) -> bool:
    if len(gold) != len(pred):
        return False
    if ordered:
        return all(_element_equal(g, p, numeric_only) for g, p in zip(gold, pred, strict=True))
    remaining = list(pred)
    for g in gold:
        hit = next((i for i, p in enumerate(remaining) if _element_equal(g, p, numeric_only)), None)
        if hit is None:
            return False
        remaining.pop(hit)
    return True


def _structures_equal(gold: Any, pred: Any, numeric_only: bool) -> bool:
    g, p = _container(gold), _container(pred)
    if g is None or p is None:
        return False
    (g_kind, g_elems), (p_kind, p_elems) = g, p
    if g_kind == "set" and p_kind in ("set", "system"):
        return _match_elements(g_elems, p_elems, ordered=False, numeric_only=numeric_only)
    if g_kind == "system" and p_kind in ("set", "system"):
        return _match_elements(g_elems, p_elems, ordered=False, numeric_only=numeric_only)
    if g_kind == "set" and p_kind == "tuple" or g_kind == "tuple" and p_kind in ("tuple", "set"):
        # A tuple's order matters; a set written by the other side is read in its written order, as
        # Math-Verify does ({1,3} matches (1,3) but not (3,1)).
        return _match_elements(g_elems, p_elems, ordered=True, numeric_only=numeric_only)
    if g_kind == p_kind:
        return _match_elements(g_elems, p_elems, ordered=True, numeric_only=numeric_only)
    if "tuple" in (g_kind, p_kind) and "interval" in (g_kind[0], p_kind[0]):
        # "[0.5, 1]" is read as an interval but may be a list or vector: compare the two endpoints in order.
        return _match_elements(g_elems, p_elems, ordered=True, numeric_only=numeric_only)
    return False


def _element_equal(gold: Any, pred: Any, numeric_only: bool = False) -> bool:
    """Equality of two elements of a structure: numbers by value, else (unless ``numeric_only``) symbolic."""
    if _container(gold) is not None or _container(pred) is not None:
        return _structures_equal(gold, pred, numeric_only)
    mv = math_verify_api()
    sp = mv.sympy
    if isinstance(gold, sp.Eq) and isinstance(pred, sp.Eq):
        return _element_equal(gold.lhs, pred.lhs, numeric_only) and _element_equal(
            gold.rhs, pred.rhs, numeric_only
        )
    numeric = _numeric_compare([gold], [pred])
    if numeric is not None or numeric_only:
        return bool(numeric)
    try:
        if mv.grader.sympy_expr_eq(gold, pred, 6, 15):
            return True
    except Exception:
        pass
    return _identity_test(gold, pred)


def _structured_equal(gold_items: Sequence[Any], pred_items: Sequence[Any], numeric_only: bool) -> bool:
    """Steps 4b/7: lists, sets, tuples, intervals, vectors and systems compared element by element."""
    for gold in gold_items:
        for pred in pred_items:
            if isinstance(gold, str) or isinstance(pred, str):
                continue
            if _structures_equal(gold, pred, numeric_only):
                return True
    return False


# --------------------------------------------------------------------------------------------------
# The comparison, bounded in time
# --------------------------------------------------------------------------------------------------


def _compare_unbounded(
    gold: str, pred: str, guard: bool = True, fast: bool = True, policy: str = "strict"
) -> tuple[bool, str]:
    """Steps 2-7 with no time limit of their own (callers provide it); ``fast=False`` skips step 2."""
    answer = _response_answer(pred, policy)
    if answer is None:
        return False, "no_answer"
    gold, pred = _normalize_symbols(gold), answer
    gold_answer, pred_answer = _answer_string(gold), _answer_string(pred)
    if fast and gold_answer is not None and pred_answer is not None:
        fast = _fast_path(gold_answer, pred_answer)
        if fast is not None:
            return fast
    try:
        gold_items, pred_items = _parse_side(gold), _parse_side(pred)
        if guard:
            _check_guards(x for x in gold_items + pred_items if not isinstance(x, str))
    except _Refused as exc:
        logger.debug("grading refused: %s", exc)
        return False, "refused"
    if not gold_items or not pred_items:
        return False, "not_equivalent"
    numeric = _numeric_compare(gold_items, pred_items)
    if numeric is not None:
        return numeric, "equivalent" if numeric else "not_equivalent"
    if _structured_equal(gold_items, pred_items, numeric_only=True):
        return True, "equivalent"  # all-numeric structures: cheap, and spares sympy huge-but-tiny endpoints
    mv = math_verify_api()
    if mv.verify(
        list(gold_items),
        list(pred_items),
        float_rounding=6,
        timeout_seconds=None,
        allow_set_relation_comp=True,  # "-2 <= x <= 7" is the set [-2, 7], whichever side writes it
    ):
        return True, "equivalent"
    if _structured_equal(gold_items, pred_items, numeric_only=False):
        return True, "equivalent"
    gold_main = next((x for x in gold_items if not isinstance(x, str)), None)
    pred_main = next((x for x in pred_items if not isinstance(x, str)), None)
    if gold_main is not None and pred_main is not None and _identity_test(gold_main, pred_main):
        return True, "equivalent"
    return False, "not_equivalent"


def _equivalent_local(
    gold: str, pred: str, timeout: float, guard: bool = True, fast: bool = True, policy: str = "strict"
) -> tuple[bool, str]:
    """Compare in this thread under a ``setitimer`` deadline (callers check `signals_usable` first)."""
    # Import sympy/Math-Verify before the clock starts: a cold import on a busy machine is not a hang.
    math_verify_api()
    try:
        with deadline(timeout):
            return _compare_unbounded(gold, pred, guard, fast, policy)
    except GradingTimeout:
        return False, "timeout"


_warned_no_worker = threading.Event()


def compare(
    gold: str | None, pred: str | None, *, timeout: float = DEFAULT_TIMEOUT_S, policy: str = "strict"
) -> tuple[bool, str]:
    """Compare two answers (or responses) and say why: ``(equal, reason)``.

    ``reason`` is one of ``"equivalent"``, ``"not_equivalent"``, ``"no_answer"`` (empty input, or a
    response with no answer under ``policy``), ``"unclosed_thinking"``, ``"timeout"`` or ``"refused"``
    (an input that would hang sympy). A ``pred`` that is a whole response is read with `find_answer` and
    ``policy`` (``"strict"`` or ``"harness"``), the same path as `grade`; ``gold`` is a reference and is
    read whole.
    """
    check_policy(policy)
    if not isinstance(gold, str) or not isinstance(pred, str) or not gold.strip() or not pred.strip():
        return False, "no_answer"
    if split_thinking(pred).answer is None or split_thinking(gold).answer is None:
        return False, "unclosed_thinking"
    if (
        len(pred) <= 2 * len(gold) + 20
        and len(gold) <= 2 * len(pred) + 20
        and _cosmetic(gold) == _cosmetic(pred)
    ):
        return (
            True,
            "equivalent",
        )  # the same text (a worded gold such as OlympiadBench's "f(x)=ax+b, where ...")
    answer = _response_answer(pred, policy)
    if answer is None:
        return False, "no_answer"
    gold, pred = _normalize_symbols(gold), answer
    gold_answer, pred_answer = _answer_string(gold), _answer_string(pred)
    if gold_answer is not None and pred_answer is not None:
        fast = _fast_path(gold_answer, pred_answer)  # pure Python and bounded: fine on any thread
        if fast is not None:
            return fast
    if signals_usable():
        return _equivalent_local(gold, pred, timeout, fast=False, policy=policy)
    try:
        payload = {"op": "equiv", "gold": gold, "pred": pred, "timeout": timeout, "policy": policy}
        reply = run_in_worker(payload, timeout)
    except (WorkerError, OSError) as exc:
        if not _warned_no_worker.is_set():
            _warned_no_worker.set()
            logger.warning("no grading worker process (%s); comparing without a time limit", exc)
        return _compare_unbounded(gold, pred, policy=policy)
    if reply is None:
        return False, "timeout"
    return bool(reply["equal"]), str(reply["reason"])


def is_equivalent(
    gold: str | None, pred: str | None, *, timeout: float = DEFAULT_TIMEOUT_S, policy: str = "strict"
) -> bool:
    """Whether ``pred`` is mathematically equivalent to ``gold``. False on timeout; raises only for an
    unknown ``policy``.

    Either side may be a bare answer (``\\frac12``) or a whole response (thinking is stripped, the answer
    is found with `find_answer` under ``policy``, as `grade` does). Safe on any thread and in worker
    processes; see the module docstring.
    """
    return compare(gold, pred, timeout=timeout, policy=policy)[0]


def answers_equivalent(a: str, b: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
    """Symmetric equivalence for two *predictions* (voting): either direction of `is_equivalent` counts.

    `is_equivalent` is asymmetric on purpose (the gold's form decides how an equation is read); between two
    predictions there is no gold, so both readings are accepted.
    """
    return is_equivalent(a, b, timeout=timeout) or is_equivalent(b, a, timeout=timeout)


def group_equivalent(answers: Sequence[str | None], *, timeout: float = DEFAULT_TIMEOUT_S) -> list[list[int]]:
    """Group answer indices into equivalence classes (for majority / weighted voting).

    Each answer joins the first group whose representative (its first member) it is equivalent to, so the
    cost is O(n * groups) comparisons. ``None`` answers (nothing extracted) each get no group. Groups are
    ordered by first appearance.
    """
    groups: list[list[int]] = []
    for i, answer in enumerate(answers):
        if answer is None or not str(answer).strip():
            continue
        for group in groups:
            representative = answers[group[0]]
            assert representative is not None
            if answer == representative or answers_equivalent(representative, answer, timeout=timeout):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
