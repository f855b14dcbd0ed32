"""The option reference in `docs/cli.md`, generated from the config classes (so it cannot drift from
the code): `python -m thinklab.cli.reference > docs/cli.md` rewrites it; a test checks it is current."""

from __future__ import annotations

import dataclasses
import sys

from thinklab.cli.build import cli_default, option_name
from thinklab.config import strip_optional, type_hints

HEADER = """# Command-line reference

Every command's options are the fields of one config class (the class is named under each command).
Every command also takes `--config FILE.yaml`, a mapping of its options (keys as below, with `_`), and
`--set key=value` (repeatable; the value is read as YAML; dotted keys reach nested sections such as
`train.epochs`). Values are layered: defaults < `--config` < `--set` < options typed on the command line.
A recipe (`thinklab recipe recipes/<model>/<method>.yaml`, see `recipes/README.md`) is a list of such
commands with their options.

This file is generated: `python -m thinklab.cli.reference > docs/cli.md`.

## One name per concept

| concept | option | note |
|---|---|---|
| model to load | `--model` | hub id, local dir, or `tiny`; other model roles say theirs (`--value-model`, `--ref-model`, `--validator`, `--scorer`, `--long-model`) |
| output | `--out` | a run folder's parent (eval, search), a file (rollouts, pairs, compress) or a model dir (train) |
| task | `--task` | registry name, `jsonl:PATH`, or `NAME[start:stop]` where supported |
| token budgets swept | `--budgets` | comma list |
| generation length cap per sample | `--max-tokens` | |
| training sequence length | `--max-length` | |
| sampling | `--sampling` | `k=v` list: temperature, top_p, top_k, ... (STaR: its `generation` section) |
| system prompt | `--system-prompt` | |
| user message template | `--prompt-template` | a name (sky, autothink, vgs, plain) or text with `{problem}` |
| thinking markers | `--thinking-format` | r1, qwen3, qwen3-thinking, s1, tiny, or a YAML file |
| prompt mode | `--prompt-mode` | standard, no-think, ellipsis |
| budget mode | `--budget-mode` | cap, force-answer |
| answer extraction | `--extraction` | strict, harness |
| engine | `--backend`, `--backend-args` | hf, vllm, openai, ray; `k=v` list |
| input trace tags | `--trace-format` | r1, sky, s1 (compress) |
| output row format | `--out-format` | messages, sharegpt (compress); conversational, plain (pairs) |
| resume / restart | (default) / `--overwrite` | every command that writes resumes; STaR: `--resume` |
| best-of-N ranking | `--rank-by` | value, logprob (search) |

"""


def _type_name(kind: object) -> str:
    kind, optional = strip_optional(kind)
    name = getattr(kind, "__name__", str(kind))
    args = getattr(kind, "__args__", ())
    if name in ("tuple", "list") and args:
        name = f"list of {getattr(args[0], '__name__', args[0])}"
    return name + (" or null" if optional else "")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", "\\n")


def command_section(path: str, cls: type, doc: str) -> list[str]:
    hints = type_hints(cls)
    summary = (doc or "").strip().split("\n\n")[0].replace("\n", " ")
    lines = [
        f"## `thinklab {path}`",
        "",
        summary,
        "",
        f"Config class: `{cls.__module__}.{cls.__name__}`.",
        "",
    ]
    lines += ["| option | type | default | help |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if meta.get("argument"):
            name = f.name.upper()
        elif meta.get("flag"):
            name = meta["flag"]
        elif dataclasses.is_dataclass(strip_optional(hints[f.name])[0]) or not meta.get("cli", True):
            name = f"`{f.name}` (config / --set)"
        else:
            name = option_name(f.name)
        if meta.get("required"):
            default = "required"
        else:
            value = cli_default(f)
            if dataclasses.is_dataclass(value):
                default = "(section)"
            elif value in (None, ""):
                default = ""
            else:
                text = str(value)
                default = f"`{_cell(text)}`" if len(text) <= 40 else "(long text, see the class)"
        name = name if name.startswith("`") else f"`{name}`"
        lines.append(f"| {name} | {_type_name(hints[f.name])} | {default} | {_cell(meta.get('help', ''))} |")
    return [*lines, ""]


def render() -> str:
    from thinklab.cli.main import app
    from thinklab.cli.recipe import commands

    out = [HEADER]
    for path, callback in sorted(commands(app).items()):
        out += command_section(path, callback.config_class, callback.run.__doc__ or "")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
