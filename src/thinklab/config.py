"""Config dataclasses and their YAML / `--set` / command-line values: where every option is defined once.

Each command's options are the fields of one dataclass, the way TRL builds its CLIs from its config
classes. A field's help text lives in its metadata (`option(default, "help")`), so the command line
(`thinklab.cli.build`), the `--config` files and recipes, and `docs/cli.md` all read one definition.

Values reach a config in layers: the dataclass default, then a YAML mapping (`--config FILE`), then
`--set key=value` (dotted keys reach nested sections), then options given on the command line.
`from_mapping` is the one place they are checked: an unknown key or a value of the wrong type is a
one-line `ThinklabError` naming the key (and the closest valid one).

Why not `HfArgumentParser`: it builds argparse parsers, while thinklab's CLI is Typer (Rich help, one
error path); and it has no YAML-with-overrides layering or nested sections, which STaR needs.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thinklab.errors import ThinklabError

_REQUIRED = object()


def option(
    default: Any = _REQUIRED,
    help: str = "",  # noqa: A002 - the word the CLI and TRL's metadata use
    *,
    factory: Callable[[], Any] | None = None,
    argument: bool = False,
    flag: str | None = None,
    cli: bool = True,
) -> Any:
    """A config field with its help text.

    `default` omitted: the value is required (from the command line, `--config` or `--set`); the
    dataclass then holds None until `from_mapping` checks it. `argument`: a positional argument on the
    command line. `flag`: Typer's declaration of a boolean's two names (`--chat/--raw`). `cli=False`:
    only settable through `--config` / `--set` (nested sections, mappings)."""
    metadata = {"help": help, "argument": argument, "flag": flag, "cli": cli}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    if default is _REQUIRED:
        return dataclasses.field(default=None, metadata={**metadata, "required": True})
    return dataclasses.field(default=default, metadata=metadata)


def type_hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a config class (modules use `from __future__ import annotations`)."""
    return typing.get_type_hints(cls)


def strip_optional(kind: Any) -> tuple[Any, bool]:
    """`int | None` -> (int, True); `int` -> (int, False)."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else kind), True
    return kind, False


def _coerce(value: Any, kind: Any, where: str, key: str) -> Any:
    """`value` (from YAML, `--set` or a command-line string) as a value of the field type `kind`; errors
    name `where` (the config file or the command) and the dotted `key`."""
    kind, optional = strip_optional(kind)
    if value is None:
        return None
    if dataclasses.is_dataclass(kind):
        return from_mapping(kind, value, where, check_required=False, prefix=key + ".")
    origin = typing.get_origin(kind)
    if origin in (tuple, list):
        item = (typing.get_args(kind) or (str,))[0]
        if isinstance(value, str):
            # Comma lists from the command line; an empty item is an error, not skipped: it is most often a
            # value lost in editing, and a sweep that silently runs one budget fewer looks complete.
            parts = value.split(",")
            if value.strip() and any(not p.strip() for p in parts):
                raise ThinklabError(f"{where}: {key}: malformed list {value!r}: empty item")
            value = [p.strip() for p in parts if p.strip()]
        elif not isinstance(value, list | tuple):
            value = [value]
        items = [_coerce(v, item, where, key) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise ThinklabError(f"{where}: {key}: expected a mapping, got {value!r}")
        return value
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "on", "1"):
                return True
            if text in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            # YAML 1.1 reads `2e-4` as a string (it wants `2.0e-4`), so strings are converted too.
            return float(value)
        if kind is str:
            if isinstance(value, dict | list):
                raise ValueError
            return str(value)
    except (TypeError, ValueError):
        name = getattr(kind, "__name__", str(kind))
        raise ThinklabError(
            f"{where}: {key}: expected {'a ' if name != 'int' else 'an '}{name}, got {value!r}"
        ) from None
    return value


def from_mapping(
    cls: type, values: Any, where: str = "config", *, check_required: bool = True, prefix: str = ""
) -> Any:
    """An instance of config class `cls` from a mapping; unknown keys and wrong types are one-line errors
    starting with `where` (the config file or the command) and the key (`prefix` for nested sections)."""
    if isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ThinklabError(
            f"{where}: {prefix.rstrip('.') or 'config'}: expected a mapping of options, got {type(values).__name__}"
        )
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ThinklabError(f"{where}: unknown option {prefix}{key}{hint}; valid: {', '.join(known)}")
    hints = type_hints(cls)
    kwargs = {key: _coerce(value, hints[key], where, prefix + key) for key, value in values.items()}
    if check_required:
        missing = [n for n, f in known.items() if f.metadata.get("required") and kwargs.get(n) is None]
        if missing:
            flags = ", ".join(
                n.upper() if known[n].metadata.get("argument") else "--" + n.replace("_", "-")
                for n in missing
            )
            raise ThinklabError(f"{where}: missing required option(s) {flags}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ThinklabError(f"{where}: {exc}") from None


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file; a missing file, bad YAML or a non-mapping is a one-line error."""
    import yaml

    p = Path(path)
    try:
        values = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise ThinklabError(f"{p}: no such config file") from None
    except IsADirectoryError:
        raise ThinklabError(f"{p}: is a directory, not a config file") from None
    except yaml.YAMLError as exc:
        raise ThinklabError(f"{p}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ThinklabError(f"{p}: expected a mapping of options, got {type(values).__name__}")
    return values


def apply_sets(values: dict[str, Any], sets: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Apply `key.sub=value` overrides in place (values read as YAML: `3`, `true`, `null`, `1e-4`, `[1, 2]`)."""
    import yaml

    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ThinklabError(f"malformed --set {item!r}: expected key=value, e.g. train.epochs=2")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ThinklabError(f"malformed --set {item!r}: the value is not valid YAML") from None
        target = values
        *parents, last = key.strip().split(".")
        for name in parents:
            node = target.get(name)
            if node is None:
                node = target[name] = {}
            if not isinstance(node, dict):
                raise ThinklabError(f"--set {item!r}: {name} is not a section")
            target = node
        target[last] = value
    return values


def to_mapping(cfg: Any) -> dict[str, Any]:
    """A config as plain YAML-able values (tuples as lists), e.g. to save next to a run."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))
