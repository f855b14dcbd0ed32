"""The Math-Verify-derived code of thinklab's grader, kept apart from thinklab's own rules.

Mirrors **math-verify 0.9.0** (MIT, (c) 2024 The HuggingFace Team), `MIRRORED_VERSION`:

- `extract_latex` is a port of ``math_verify.parser.extract_latex``, with a ``clean`` step (thinklab's
  unit stripping, ``equivalence._strip_units``) between normalisation and parsing;
- `extract_match` mirrors ``math_verify.parser.extract_match``;
- `mv_extract` mirrors ``math_verify.parser.extract_target_from_pred`` (``parse`` with any_match and
  the first-match string fallback);
- `parse_operator_expr` replaces the ``parse_expr`` branch of ``math_verify.parser.extract_expr``;
- `math_verify_api` imports Math-Verify lazily, configures its extraction (units off, boxed answers
  first) and exposes the private functions these copies and `equivalence` call:
  ``parser.normalize_latex``, ``parser.convert_to_pct``, ``parser.parse_latex_cached``,
  ``parser.extract_expr``, ``parser.get_extraction_regexes``, ``parser.FiniteSet``,
  ``grader.get_pct_val``, ``grader.sympy_expr_eq``, and ``verify``.

Why copies rather than ``math_verify.parse``: ``parse`` hands operator expressions (``(1/2) * 3``) to
sympy's ``parse_expr``, which ``eval``s its input, and its unit stripping drops a trailing single letter
(``x+2t`` -> ``x+2``). The copies keep Math-Verify's extraction order and results otherwise.

These are private functions of Math-Verify and may change in any release, so importing this module
checks the installed ``math-verify`` version and warns once (a warning, not an error) when it is not
the mirrored one: grading still runs, but its results should be checked against tests/grading.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata
from itertools import groupby
from types import SimpleNamespace
from typing import Any

__all__ = [
    "MIRRORED_VERSION",
    "check_version",
    "extract_latex",
    "extract_match",
    "math_verify_api",
    "mv_extract",
    "parse_operator_expr",
]

MIRRORED_VERSION = "0.9.0"
_warned = False


def check_version(installed: str | None = None) -> bool:
    """Warn once if the installed math-verify is not `MIRRORED_VERSION`; True when it is (or is absent,
    which the import of Math-Verify itself reports)."""
    global _warned
    if installed is None:
        try:
            installed = metadata.version("math-verify")
        except metadata.PackageNotFoundError:
            return True
    if installed == MIRRORED_VERSION:
        return True
    if not _warned:
        _warned = True
        warnings.warn(
            f"math-verify {installed} is installed, but thinklab.grading.mathverify_compat mirrors "
            f"math-verify {MIRRORED_VERSION}'s private functions; grading may differ (pin "
            f"math-verify=={MIRRORED_VERSION}, or check the copies against the new release)",
            RuntimeWarning,
            stacklevel=2,
        )
    return False


check_version()


@functools.cache
def math_verify_api() -> Any:
    """Math-Verify, configured for thinklab, and the internals this module and `equivalence` use.

    Imported lazily: it pulls in sympy (~1 s), which the fast path and the CLI's --help avoid."""
    import math_verify
    import math_verify.grader
    import math_verify.parser
    import mpmath
    import sympy

    class _DropTimeoutWarning(logging.Filter):
        # We pass timeout_seconds=None on purpose (our own deadline applies); Math-Verify warns about it.
        def filter(self, record: logging.LogRecord) -> bool:
            return not str(record.msg).startswith("Timeout is disabled")

    for name in ("math_verify.grader", "math_verify.parser"):
        logging.getLogger(name).addFilter(_DropTimeoutWarning())

    # Math-Verify's own unit stripping removes a trailing single letter after a digit ("x+2t" -> "x+2",
    # "2t" -> "2"), a false positive for answers ending in a variable; `equivalence._strip_units`
    # replaces it (the ``clean`` step of `extract_latex`).
    latex_cfg = math_verify.LatexExtractionConfig(
        boxed_match_priority=0,
        normalization_config=math_verify.LatexNormalizationConfig(
            basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all", equations=False
        ),
    )
    expr_cfg = math_verify.ExprExtractionConfig()

    return SimpleNamespace(
        sympy=sympy,
        mpmath=mpmath,
        parser=math_verify.parser,
        normalize_latex=math_verify.parser.normalize_latex,
        convert_to_pct=math_verify.parser.convert_to_pct,
        finite_set=math_verify.parser.FiniteSet,
        grader=math_verify.grader,
        verify=math_verify.verify,
        latex_cfg=latex_cfg,
        expr_cfg=expr_cfg,
        latex_regexes=math_verify.parser.get_extraction_regexes([latex_cfg]),
        all_regexes=math_verify.parser.get_extraction_regexes([latex_cfg, expr_cfg]),
    )


def parse_operator_expr(expr: str) -> Any:
    """Parse a plain operator expression (``(1/2) * 3``) with latex2sympy rather than ``parse_expr``."""
    mv = math_verify_api()
    latex = expr.replace("×", r"\times ").replace("÷", r"\div ").replace("**", "^").replace("\n", " ")
    latex = latex.strip().rstrip(".").strip()  # the pattern may swallow a sentence's full stop
    try:
        return mv.parser.parse_latex_cached(latex)
    except Exception:
        return None


def extract_latex(match: re.Match[str], config: Any, clean: Callable[[str], str]) -> tuple[Any, str]:
    """``math_verify.parser.extract_latex`` with a ``clean`` step (thinklab's unit stripping) between
    normalisation and parsing.

    Ported from Math-Verify 0.9.0: each matched LaTeX group (an answer can be several, "1, 2 and 3") is
    normalised and parsed; several parsed groups form a set.
    """
    mv = math_verify_api()
    groups = match.groupdict()
    names = [name for name, value in groups.items() if value and name.startswith("first_latex")][:1]
    for i in range(1, 6):
        names += [n for n, v in groups.items() if v and n.startswith(f"next{i}_latex")][:1]
    exprs: list[Any] = []
    strings: list[str] = []
    for name in names:
        prefix, group = name.split("_", 1)
        normalization = config.normalization_config
        if group == "latexBoxed":
            normalization = dataclasses.replace(normalization, boxed="last")
        latex = clean(mv.normalize_latex(groups[name], config=normalization))
        strings.append(latex)
        try:
            parsed = mv.parser.parse_latex_cached(latex)
            if groups.get(f"{prefix}_percent"):
                parsed = mv.convert_to_pct(parsed)
            exprs.append(parsed)
        except Exception:
            exprs.append(None)
    if not exprs:
        return None, ""
    if len(exprs) > 1 and all(e is not None for e in exprs):
        elements: list[Any] = []
        for e in exprs:
            elements.extend(e.args if isinstance(e, mv.finite_set) else [e])
        return mv.finite_set(*elements), " and ".join(strings)
    return exprs[0], strings[0]


def extract_match(match: re.Match[str], target: Any, clean: Callable[[str], str]) -> tuple[Any, str]:
    """``math_verify.parser.extract_match``: a LaTeX match via `extract_latex`, a number via Math-Verify's
    ``extract_expr`` (sympy.Number, no ``parse_expr``), an operator expression via `parse_operator_expr`."""
    mv = math_verify_api()
    if isinstance(target, type(mv.latex_cfg)):
        return extract_latex(match, target, clean)
    groups = match.groupdict()
    if any(v for k, v in groups.items() if k.startswith(("integer", "decimal"))):
        try:
            return mv.parser.extract_expr(match)  # a number: built with sympy.Number, no parse_expr
        except Exception:
            return None, ""
    expr = groups.get("expr") or ""
    return (parse_operator_expr(expr) if expr else None), expr


def mv_extract(text: str, regexes: Sequence[Any], clean: Callable[[str], str]) -> list[Any]:
    """Math-Verify's ``parse`` (any_match, first_match fallback), with the eval-free expression parser.

    Mirrors ``math_verify.parser.extract_target_from_pred``: patterns are tried by priority; within a
    priority the rightmost match that parses wins; the first matched raw string is appended as a fallback
    so two unparseable answers can still be compared as strings. ``clean`` runs on every LaTeX group after
    Math-Verify's normalisation.
    """
    patterns = sorted(
        ((pattern, target, priority) for group, target in regexes for pattern, priority in group),
        key=lambda item: item[2],
    )
    extracted: list[Any] = []
    fallbacks: list[str] = []
    for _, same_priority in groupby(patterns, key=lambda item: item[2]):
        matches = sorted(
            (
                (m, m.start(), m.end(), target)
                for pattern, target, _ in same_priority
                for m in pattern.finditer(text)
            ),
            key=lambda item: (item[2], -item[1]),
            reverse=True,
        )
        for match, _, _, target in matches:
            value, fallback = extract_match(match, target, clean)
            if fallback:
                fallbacks.append(fallback)
            if value is not None:
                extracted.append(value)
                break
        if extracted:
            break
    if fallbacks:
        extracted.append(fallbacks[0])
    return extracted
