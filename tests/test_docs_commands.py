"""Every `thinklab ...` command line in the user docs names a real command and only its options.

The lines come from the fenced code blocks of README.md, docs/*.md (not docs/cli.md, which is generated
from the app) and recipes/README.md; `\\`-continued lines are joined, and `accelerate launch ... -m
thinklab CMD ...` / `python -m thinklab CMD ...` count too. Each line is split with shlex, its command
path is walked in the real app, and every `--option` (before `=`) must be one of that command's options.
All bad lines are reported at once. Fast: no model is loaded.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import typer

from thinklab.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "recipes" / "README.md"]
DOCS = [p for p in DOCS if p.name != "cli.md"]

FENCE = re.compile(r"^\s*(```|~~~)")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1", "(", ")"}
WRAPPERS = {"time", "nohup", "env", "exec"}


@dataclass
class DocCommand:
    where: str  # file:line
    text: str  # the (joined) line as written
    argv: list[str]  # the tokens after `thinklab`


def fenced_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every line inside fenced code blocks, `\\`-continuations joined."""
    out: list[tuple[int, str]] = []
    inside = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
            if pending:
                out.append(pending)
                pending = None
            continue
        if not inside:
            continue
        text = line.strip()
        if text.startswith("$ "):  # a console prompt
            text = text[2:]
        pending = (pending[0], pending[1] + " " + text) if pending else (number, text)
        if pending[1].endswith("\\"):
            pending = (pending[0], pending[1][:-1].rstrip())
            continue
        out.append(pending)
        pending = None
    if pending:
        out.append(pending)
    return out


def _segments(tokens: list[str]) -> list[list[str]]:
    """Split a token list at shell operators (`|`, `&&`, `;`, redirections)."""
    parts: list[list[str]] = [[]]
    for tok in tokens:
        if tok in SEPARATORS or set(tok) <= set("|&;<>()"):
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def _thinklab_argv(tokens: list[str]) -> list[str] | None:
    """The arguments after `thinklab` when this segment runs thinklab, else None."""
    for i, tok in enumerate(tokens):  # `[accelerate launch ...|python] -m thinklab ARGS`
        if tok == "-m" and i + 1 < len(tokens) and tokens[i + 1] == "thinklab":
            return tokens[i + 2 :]
    i = 0
    while i < len(tokens) and (ENV_ASSIGNMENT.match(tokens[i]) or tokens[i] in WRAPPERS):
        i += 1
    if i + 1 < len(tokens) and tokens[i] == "uv" and tokens[i + 1] == "run":
        i += 2
    if i < len(tokens) and (tokens[i] == "thinklab" or tokens[i].endswith("/thinklab")):
        return tokens[i + 1 :]
    return None


def doc_commands(paths: list[Path] = DOCS) -> tuple[list[DocCommand], list[str]]:
    """Every thinklab command line of the docs, and the lines that do not parse as shell."""
    commands: list[DocCommand] = []
    unparsable: list[str] = []
    for path in paths:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for number, text in fenced_lines(path):
            if "thinklab" not in text:
                continue
            where = f"{rel}:{number}"
            try:
                lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                lexer.commenters = "#"
                tokens = list(lexer)
            except ValueError as exc:
                unparsable.append(f"{where}: {text!r}: does not parse as a shell line ({exc})")
                continue
            for segment in _segments(tokens):
                argv = _thinklab_argv(segment)
                if argv is not None:
                    commands.append(DocCommand(where, text, argv))
    return commands, unparsable


def _option_names(command) -> set[str]:
    names = {"--help"}
    for param in getattr(command, "params", []):
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def check(command: DocCommand, root) -> list[str]:
    """The problems of one command line: an unknown command path, options its command does not have."""
    node, path = root, []
    rest = list(command.argv)
    while rest and getattr(node, "commands", None) is not None:
        head = rest[0]
        if head.startswith("-"):
            break
        if "$" in head:  # the command itself is a shell variable: nothing to check
            return []
        if head not in node.commands:
            where = " ".join(["thinklab", *path]) if path else "thinklab"
            return [f"{command.where}: {command.text!r}: `{where}` has no command {head!r}"]
        node = node.commands[head]
        path.append(head)
        rest.pop(0)
    known = _option_names(node)
    bad = []
    for tok in rest:
        if tok == "--":
            break
        if not tok.startswith("--"):
            continue
        name = tok.split("=", 1)[0]
        if name not in known:
            bad.append(f"{command.where}: {command.text!r}: `thinklab {' '.join(path)}` has no option {name}")
    return bad


def test_the_docs_have_command_lines():
    commands, _ = doc_commands()
    files = {c.where.split(":")[0] for c in commands}
    assert len(commands) >= 50, len(commands)
    assert {"README.md", "recipes/README.md"} <= files
    assert any(c.argv[:1] == ["train"] and "accelerate" in c.text for c in commands)


def test_every_doc_command_line_is_valid():
    root = typer.main.get_command(app)
    commands, problems = doc_commands()
    for command in commands:
        problems.extend(check(command, root))
    assert not problems, f"{len(problems)} bad doc command lines (of {len(commands)}):\n" + "\n".join(
        problems
    )


def test_the_check_catches_a_bad_line(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text(
        "```bash\n"
        "thinklab eval --model tiny --no-such-option 3   # a comment --not-an-option\n"
        "OMP_NUM_THREADS=2 thinklab evall --model tiny\n"
        "accelerate launch --num_processes 8 -m thinklab train sft \\\n"
        "  --data x.jsonl --out-dir runs/x\n"
        "thinklab report compress a.jsonl --runs=r1,r2 --names a,b | tee log\n"
        "```\n"
    )
    root = typer.main.get_command(app)
    commands, unparsable = doc_commands([doc])
    assert not unparsable
    assert [c.where.rsplit(":", 1)[1] for c in commands] == ["2", "3", "4", "6"]
    problems = [p for c in commands for p in check(c, root)]
    assert len(problems) == 3, problems
    assert "has no option --no-such-option" in problems[0] and ":2:" in problems[0]
    assert "has no command 'evall'" in problems[1]
    assert "`thinklab train sft` has no option --out-dir" in problems[2] and ":4:" in problems[2]
