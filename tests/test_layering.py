"""The layering contract (README, "Architecture"), checked on the source with `ast` (nothing is imported,
so this takes well under a second):

(a) core packages never import a method package;
(b) method packages never import each other;
(c) `backends` never imports `tiny` (it resolves `tiny` through `thinklab.models`);
(d) nothing outside `cli` imports `cli`.

Every `import x` and `from x import y` counts, at module level or inside a function, relative imports
included, and so does `importlib.import_module("thinklab....")` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "thinklab"

# The layers, by the first name under `thinklab` (a subpackage, or a module directly under thinklab/).
# Core: plain infrastructure with one-way data flow; any core module may import any other core module.
# "" is the package's own __init__ (its version string).
CORE = frozenset(
    {"", "errors", "config", "models", "data", "grading", "tasks", "prompting", "backends", "eval", "train"}
)
# Methods: each depends only on the core; methods hand each other files, never imports.
METHODS = frozenset({"compress", "autothink", "star", "search", "thinkpo", "tiny"})
# The command line, on top: it may import anything; `python -m thinklab` (__main__) is part of it.
CLI = frozenset({"cli", "__main__"})


def _layer_name(module: str) -> str:
    """`thinklab.search.runner` -> `search`; `thinklab` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path, root: Path) -> str:
    parts = ("thinklab", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = SRC) -> list[tuple[int, str]]:
    """(line, imported module) for every thinklab import in one source file."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from thinklab import tiny` imports the subpackage `thinklab.tiny`
            if target == "thinklab":
                found += [(node.lineno, f"thinklab.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if name in ("import_module", "__import__") and literal:
                found.append((node.lineno, arg.value))
    return [(line, m) for line, m in found if m == "thinklab" or m.startswith("thinklab.")]


def violations(root: Path = SRC) -> list[str]:
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(path, root)
        src = _layer_name(importer)
        where = f"{path.relative_to(root.parent)}"
        if src not in CORE | METHODS | CLI:
            out.append(f"{where}: `{src}` is in no layer; add it to CORE, METHODS or CLI in this test")
            continue
        for line, target in imports_of(path, root):
            dst = _layer_name(target)
            if dst == src:
                continue
            rule = None
            if dst in CLI and src not in CLI:
                rule = "(d) nothing outside cli imports cli"
            elif src == "backends" and dst == "tiny":
                rule = "(c) backends never import tiny (use thinklab.models)"
            elif src in CORE and dst in METHODS:
                rule = "(a) the core never imports a method package"
            elif src in METHODS and dst in METHODS:
                rule = "(b) methods never import each other"
            if rule:
                out.append(f"{where}:{line}: {importer} imports {target}: {rule}")
    return out


def test_the_layers_cover_every_package():
    names = {p.stem for p in SRC.glob("*.py")} | {p.parent.name for p in SRC.glob("*/__init__.py")}
    names = (names - {"__init__"}) | {""}
    assert not (CORE & METHODS or CORE & CLI or METHODS & CLI)
    assert names <= CORE | METHODS | CLI, f"unclassified: {sorted(names - CORE - METHODS - CLI)}"


def test_the_layering_contract_holds():
    found = violations()
    assert not found, "layering violations:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("where", "line", "rule"),
    [
        ("eval/bad.py", "from thinklab.search.runner import SearchConfig", "(a)"),
        ("models.py", "def f():\n    import thinklab.compress.search\n", "(a)"),
        ("star/bad.py", "from thinklab.tiny.model import trained_style", "(b)"),
        ("search/bad.py", "from ..compress import AStarConfig", "(b)"),
        ("backends/bad.py", "from thinklab.tiny import model", "(c)"),
        ("autothink/bad.py", "from thinklab.cli.main import main", "(d)"),
        ("tasks/bad.py", "import importlib\nimportlib.import_module('thinklab.cli.build')", "(d)"),
    ],
)
def test_a_bad_import_is_caught(tmp_path, where, line, rule):
    """The checker itself: each kind of violation, written into a scratch copy of the layout, is found."""
    root = tmp_path / "thinklab"
    for package in (CORE | METHODS | CLI) - {"", "__main__", "errors", "config", "models"}:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / where).write_text(line + "\n")
    found = violations(root)
    assert len(found) == 1 and rule in found[0], found
