"""Generation engines behind one interface (`base.Backend`): HF, vLLM (optional) and OpenAI-compatible HTTP."""

from __future__ import annotations

from typing import Any

from thinklab.backends.base import Backend, BackendError, Completion, SamplingParams

BACKENDS = ("hf", "vllm", "openai", "ray")


def parse_kv(spec: str | None) -> dict[str, Any]:
    """`k=v,k=v` → dict with ints, floats and booleans converted (the anchors' `--backend-args`)."""
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise BackendError(f"malformed backend argument {part!r}: expected key=value")
        value: Any = raw.strip()
        if value.lower() in ("true", "false"):
            value = value.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(value)
                    break
                except ValueError:
                    continue
        out[key.strip()] = value
    return out


def load_backend(name: str, model: str, **kwargs: Any) -> Backend:
    """Construct a backend by name; engine imports happen here, so unused engines are never imported."""
    try:
        return _construct(name, model, **kwargs)
    except TypeError as exc:  # an unknown --backend-args key
        raise BackendError(f"bad argument for the {name} backend: {exc}") from None


def load_backend_from_args(
    name: str,
    model: str,
    backend_args: str | None,
    trust_remote_code: bool = False,
    thinking_format: str | None = None,
) -> Backend:
    """`load_backend` from the CLI's `--backend-args k=v,...` string; `--trust-remote-code` and
    `--thinking-format` are passed on only when given, so engines without those options never see them
    (`--backend-args thinking_format=s1` works too, on every command)."""
    extra = parse_kv(backend_args)
    if trust_remote_code:
        extra["trust_remote_code"] = True
    if thinking_format:
        extra["thinking_format"] = thinking_format
    return load_backend(name, model, **extra)


def _construct(name: str, model: str, **kwargs: Any) -> Backend:
    if name == "hf":
        from thinklab.backends.hf import HFBackend

        return HFBackend(model, **kwargs)
    if name == "vllm":
        from thinklab.backends.vllm import VLLMBackend

        return VLLMBackend(model, **kwargs)
    if name == "openai":
        from thinklab.backends.openai import OpenAIBackend

        return OpenAIBackend(model, **kwargs)
    if name == "ray":  # replicas of any of the above on a Ray cluster (thinklab[ray])
        from thinklab.backends.ray import RayBackend

        return RayBackend(model, **kwargs)
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendError",
    "Completion",
    "SamplingParams",
    "load_backend",
    "load_backend_from_args",
    "parse_kv",
]
