"""Thought steps: how a thinking section is cut into the units A*-Thought keeps or drops.

A*-Thought splits on blank lines (`context.split("\\n\\n")`, paragraphs of an R1 trace). Other trace
styles break lines differently (one step per line, `Step k:` headers, ...), so the splitter is a
`StepSplitter`: a plain separator (default `"\\n\\n"`), or a regex, plus the string that joins kept
steps back together. Kept steps are always re-joined in their original order, as in the seed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from thinklab.data.traces import join_steps, split_steps
from thinklab.errors import ThinklabError


def unescape(text: str) -> str:
    """Turn the CLI spelling of a separator (`\\n\\n`, `\\t`) into the characters it names.

    Only backslash-n, backslash-t and double backslash are understood: a separator is data, never code.
    """
    return text.replace("\\\\", "\x00").replace("\\n", "\n").replace("\\t", "\t").replace("\x00", "\\")


@dataclass(frozen=True)
class StepSplitter:
    """Split thoughts into steps and join subsets back.

    `sep`: a plain separator (the seed's `"\\n\\n"`); `regex`: a pattern to split on instead (e.g.
    `\\n\\s*\\n` for blank lines that carry spaces, or `\\n` for one step per line); `joiner`: what
    kept steps are joined with (default: `sep`, or `"\\n\\n"` with a regex).
    """

    sep: str = "\n\n"
    regex: str | None = None
    joiner: str | None = None

    def __post_init__(self) -> None:
        if self.regex is None and not self.sep:
            raise ThinklabError("the step separator must not be empty")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ThinklabError(f"bad --step-regex {self.regex!r}: {exc}") from None

    @property
    def join_with(self) -> str:
        if self.joiner is not None:
            return self.joiner
        return "\n\n" if self.regex is not None else self.sep

    def split(self, thought: str) -> list[str]:
        """Non-empty, stripped steps (see `thinklab.data.split_steps`)."""
        return split_steps(thought, re.compile(self.regex) if self.regex is not None else self.sep)

    def join(self, steps: list[str], keep: Iterable[int] | None = None) -> str:
        """The steps at indices `keep` (all when None), in their original order."""
        if keep is None:
            return join_steps(list(steps), self.join_with)
        return join_steps([steps[i] for i in sorted(set(keep))], self.join_with)

    def describe(self) -> dict:
        return {"sep": self.sep, "regex": self.regex, "joiner": self.join_with}
