"""The Ray backend: any inner backend (HF on CPU, vLLM on GPUs) as a pool of replicas on a Ray cluster.

`--backend ray --backend-args inner=hf,replicas=2` (or `inner=vllm,replicas=8,tensor_parallel_size=1`)
gives every command that loads a backend by name (eval, rollouts, search, compress, star) data-parallel
generation and scoring across a laptop, one node or many, with the same records, run dirs and resume
semantics: the commands still append each finished chunk to `samples.jsonl` themselves.

How a call runs: `generate(prompts, params)` cuts the prompts into contiguous shards (by default one per
replica), sends each shard to an idle replica as one inner `generate` call, and puts the results back in
prompt order. `score` is sharded the same way. Options (`RayConfig`) are read from the backend
arguments; every other argument goes to the inner backend unchanged (`batch_size=64`, `dtype=...`).

Why long-lived Ray actors rather than a Ray Data `map_batches` pipeline (SkyThought's choice): Ray
Data's actor pool lives for one dataset execution, and thinklab calls its backend many times per
command (each eval chunk, each budget-forcing round, each search step), so a pipeline per call would
load the model again on every call: seconds on the tiny model, minutes for a vLLM engine. Actors load
once and keep their engine; Ray's actor restarts and task retries give the fault behaviour Ray Data's
pool would give:

- a replica that dies (its process killed, its node lost) is restarted (`max_restarts`) and the shards
  it held are run again (`max_task_retries`); a shard's output depends only on its prompts and its
  seed, never on which replica ran it or how often, and results are assembled by shard index, so
  nothing is lost or duplicated;
- a driver that dies takes its (non-detached) replicas with it; rerunning the command resumes from
  the chunks already on disk.

Seeds and exactness: a shard is one inner call. With one shard per call (`replicas=1`, or a call no
larger than `shard_size`) the inner backend gets the caller's params unchanged, so outputs equal the
inner backend's exactly, sampled or greedy. With several shards, shard `k` gets the seed
`sha256(f"{seed}/shard/{k}")` (the HF backend seeds a generator per batch of rows, and the vLLM backend
seeds each request, from `params.seed`; giving every shard the same seed would replay the same random
stream across shards). So sampled outputs then depend on the shard layout (`shard_size`, or the
replica count when `shard_size` is not set) but never on which replica runs which shard, on restarts,
or on timing. Greedy outputs do not depend on the layout either: the HF backend's greedy decoding
is batch-invariant (tests/backends/test_backend_hf.py checks a padded batch against one prompt at a
time), and test_backend_ray.py checks Ray against plain HF.

Cluster: `address=auto` (or `RAY_ADDRESS`, or `ray://host:port`, or `host:port`) joins a running
cluster; without one a local cluster is started for this process and stopped with it. An address
that does not answer is a one-line `BackendError` after `connect_timeout` seconds (Ray itself would
retry for minutes).
"""

from __future__ import annotations

import atexit
import hashlib
import inspect
import logging
import math
import os
import socket
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from thinklab.backends.base import BackendError, Completion, SamplingParams

# Environment a replica needs to behave like the driver (offline hub, quiet tokenizers); sent with each
# actor so that nodes started by `ray start` on other machines see it too.
_FORWARDED_ENV = (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_HOME",
    "HF_TOKEN",
    "TRANSFORMERS_VERBOSITY",
    "TOKENIZERS_PARALLELISM",
    "THINKLAB_DATA_DIR",
)


@dataclass(frozen=True)
class RayConfig:
    """The Ray backend's own options (every other backend argument goes to the inner backend).

    `num_gpus` defaults to the inner vLLM engine's `tensor_parallel_size` (one GPU per shard of the
    model) and to 0 otherwise. `threads` (torch threads of an HF replica) defaults to `num_cpus`, so
    replicas on one machine do not oversubscribe its cores."""

    inner: str = "hf"
    replicas: int = 1
    address: str | None = None  # None: $RAY_ADDRESS, else a local cluster
    num_cpus: float = 1.0  # per replica
    num_gpus: float | None = None  # per replica
    shard_size: int | None = None  # prompts per shard; None: ceil(prompts / replicas)
    max_restarts: int = 3  # per replica; -1: forever
    max_task_retries: int = 3  # per shard; -1: forever
    ready_timeout: float = 900.0  # seconds for all replicas to be placed and loaded
    connect_timeout: float = 10.0  # seconds for a given address to answer
    log_to_driver: bool = False  # replicas' stdout/stderr on this terminal

    @classmethod
    def split(cls, kwargs: dict[str, Any]) -> tuple[RayConfig, dict[str, Any]]:
        """(Ray options, inner backend arguments) from one `--backend-args` dict."""
        names = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in kwargs.items() if k in names})
        inner = {k: v for k, v in kwargs.items() if k not in names}
        if cfg.inner == "ray":
            raise BackendError("the ray backend cannot wrap itself: choose inner=hf, vllm or openai")
        if cfg.replicas < 1 or (cfg.shard_size is not None and cfg.shard_size < 1) or cfg.num_cpus < 0:
            raise BackendError(f"invalid ray backend settings: {cfg}")
        return cfg, inner

    def gpus_per_replica(self, inner_args: dict[str, Any]) -> float:
        if self.num_gpus is not None:
            return float(self.num_gpus)
        return float(inner_args.get("tensor_parallel_size", 1)) if self.inner == "vllm" else 0.0


def shard_seed(seed: int | None, shard: int) -> int | None:
    """The seed of shard `shard` of a call seeded with `seed` (None stays None: unseeded sampling)."""
    if seed is None:
        return None
    return int.from_bytes(hashlib.sha256(f"{seed}/shard/{shard}".encode()).digest()[:4], "big")


class _Replica:
    """One model replica inside a Ray actor: an ordinary thinklab backend, loaded once.

    A load failure is kept as a message instead of raised, so the driver can report it in one line
    (an exception in an actor's constructor reaches the driver as a multi-page `RayActorError`)."""

    def __init__(self, inner: str, model: str, kwargs: dict[str, Any]) -> None:
        from thinklab.backends import load_backend

        self.error: str | None = None
        self.backend: Any = None
        try:
            self.backend = load_backend(inner, model, **kwargs)
        except Exception as exc:  # reported by ready(); any load failure ends the run the same way
            self.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    def ready(self) -> str | None:
        return self.error

    def pid(self) -> int:
        return os.getpid()

    def generate(self, prompts: list[Any], params: SamplingParams) -> list[list[Completion]]:
        return self.backend.generate(prompts, params)

    def score(
        self, prompts: list[Any], continuations: list[str], kwargs: dict[str, Any]
    ) -> list[list[float]]:
        return self.backend.score(prompts, continuations, **kwargs)

    def attribute(self, name: str) -> tuple[str, Any]:
        """("value", v), ("method", None) or ("missing", None): methods are called remotely, never
        pickled (a bound method would carry the whole model)."""
        if not hasattr(self.backend, name):
            return "missing", None
        value = getattr(self.backend, name)
        # Bound methods only: a tokenizer is callable too, and is wanted as a value.
        return ("method", None) if inspect.ismethod(value) or inspect.isbuiltin(value) else ("value", value)

    def call(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        return getattr(self.backend, name)(*args, **kwargs)


class RayBackend:
    """Data-parallel generation and scoring over `replicas` copies of an inner backend on Ray.

    Attributes of the inner backend that this class does not define (`thinking`, `tokenizer`,
    `num_parameters`, ...) are fetched once from the first replica and cached;
    methods (`prompt_tokens`, ...) run on it. `on_shard(done, total)`, when set, is called as each
    shard of a call finishes (progress bars, and the fault tests kill a replica from it)."""

    name = "ray"

    def __init__(self, model: str, **kwargs: Any) -> None:
        self.config, self.inner_args = RayConfig.split(kwargs)
        self.model_id = model
        self.on_shard: Callable[[int, int], None] | None = None
        self._owns_cluster = False
        self._cache: dict[str, tuple[str, Any]] = {}
        ray = _import_ray()
        self._connect(ray)
        # Stop the replicas before Ray's own exit hook stops the cluster (hooks run last in, first out):
        # replicas orphaned by a stopped raylet linger for a minute. Weakly, so that dropping the
        # backend (STaR frees it before training) still frees its replicas at once.
        atexit.register(_close_if_alive, weakref.ref(self))
        try:
            self.actors = self._start_replicas(ray, model)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ cluster
    def _connect(self, ray: Any) -> None:
        cfg = self.config
        address = cfg.address or os.environ.get("RAY_ADDRESS") or None
        if address and address != "auto":
            _check_reachable(address, cfg.connect_timeout)
        if ray.is_initialized():  # a caller (a script, a test) already joined or started one
            return
        options: dict[str, Any] = dict(
            log_to_driver=cfg.log_to_driver,
            logging_level=logging.ERROR,
            include_dashboard=False,
        )
        try:
            if address:
                ray.init(address=address, **options)
            else:
                # A local cluster sized to what the replicas ask for (at least this machine's cores), so
                # `replicas=2` on a 2-core laptop starts instead of waiting forever for resources.
                need = math.ceil(cfg.replicas * cfg.num_cpus)
                ray.init(num_cpus=max(os.cpu_count() or 1, need), **options)
                self._owns_cluster = True
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = address or "a local cluster"
            raise BackendError(f"cannot start or reach Ray at {where}: {_first_line(exc)}") from None

    def _start_replicas(self, ray: Any, model: str) -> list[Any]:
        cfg = self.config
        inner_args = dict(self.inner_args)
        if cfg.inner == "hf":
            inner_args.setdefault("threads", max(1, int(cfg.num_cpus)))
        env = {k: os.environ[k] for k in _FORWARDED_ENV if k in os.environ}
        threads = inner_args.get("threads") or max(1, int(cfg.num_cpus))
        env.setdefault("OMP_NUM_THREADS", str(threads))
        actor_cls = ray.remote(_Replica).options(
            num_cpus=cfg.num_cpus,
            num_gpus=cfg.gpus_per_replica(inner_args),
            max_restarts=cfg.max_restarts,
            max_task_retries=cfg.max_task_retries,
            runtime_env={"env_vars": env},
        )
        actors = [actor_cls.remote(cfg.inner, model, inner_args) for _ in range(cfg.replicas)]
        pending = [a.ready.remote() for a in actors]
        ready, _ = ray.wait(pending, num_returns=len(pending), timeout=cfg.ready_timeout)
        if len(ready) < len(pending):
            raise BackendError(
                f"{len(pending) - len(ready)} of {cfg.replicas} ray replicas were not ready after "
                f"{cfg.ready_timeout:.0f}s (each asks for {cfg.num_cpus} CPU, "
                f"{cfg.gpus_per_replica(inner_args)} GPU; cluster has {ray.cluster_resources()})"
            )
        for ref in pending:
            try:
                error = ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise BackendError(f"a ray replica failed to start: {_first_line(exc)}") from None
            if error:
                raise BackendError(f"a ray replica could not load {model!r}: {error}")
        return actors

    def close(self) -> None:
        """Stop the replicas, and the local cluster if this backend started it."""
        ray = _import_ray()
        if ray.is_initialized():  # else the cluster, and the replicas with it, is already gone
            for actor in getattr(self, "actors", []):
                ray.kill(actor, no_restart=True)
        self.actors = []
        if self._owns_cluster and ray.is_initialized():
            ray.shutdown()
        self._owns_cluster = False

    def pids(self) -> list[int]:
        """Process ids of the replicas (for operators and the fault tests)."""
        ray = _import_ray()
        return ray.get([a.pid.remote() for a in self.actors])

    # ------------------------------------------------------------------ interface
    def generate(self, prompts: list[Any], params: SamplingParams) -> list[list[Completion]]:
        spans = self._spans(len(prompts))
        if len(spans) == 1:
            calls = [("generate", (list(prompts), params))]
        else:
            calls = [
                ("generate", (list(prompts[a:b]), params.with_(seed=shard_seed(params.seed, k))))
                for k, (a, b) in enumerate(spans)
            ]
        return [row for part in self._run(calls) for row in part]

    def score(self, prompts: list[Any], continuations: list[str], **kwargs: Any) -> list[list[float]]:
        if len(prompts) != len(continuations):
            raise ValueError("score needs one continuation per prompt")
        calls = [
            ("score", (list(prompts[a:b]), list(continuations[a:b]), kwargs))
            for a, b in self._spans(len(prompts))
        ]
        return [row for part in self._run(calls) for row in part]

    def count_tokens(self, text: str) -> int:
        # Called per completion by budget forcing and search: counted here with the replicas'
        # tokenizer (fetched once) instead of a round trip each, as the HF and vLLM backends count.
        tokenizer = self.tokenizer
        if tokenizer is None:
            return int(self._remote_call("count_tokens", (text,), {}))
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    # ------------------------------------------------------------------ dispatch
    def _spans(self, total: int) -> list[tuple[int, int]]:
        if total == 0:
            return []
        size = self.config.shard_size or math.ceil(total / self.config.replicas)
        return [(a, min(a + size, total)) for a in range(0, total, size)]

    def _run(self, calls: Sequence[tuple[str, tuple]]) -> list[Any]:
        """Run the calls on idle replicas (one in flight per replica, so a slow replica gets fewer
        shards) and return their results in call order.

        `on_shard` is called after the next shards are handed out, so while it runs every replica
        that has work left is busy: a replica killed from it dies with a shard in flight."""
        ray = _import_ray()
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))[::-1]
        idle = list(self.actors)
        running: dict[Any, tuple[int, Any]] = {}
        done = 0
        while todo or running:
            while todo and idle:
                k, actor = todo.pop(), idle.pop(0)
                method, args = calls[k]
                running[getattr(actor, method).remote(*args)] = (k, actor)
            if done and self.on_shard is not None:
                self.on_shard(done, len(calls))
            (ref,), _ = ray.wait(list(running), num_returns=1)
            k, actor = running.pop(ref)
            try:
                results[k] = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the inner backend raised: re-raise its error
                cause = getattr(exc, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None
                raise BackendError(f"ray replica failed: {_first_line(exc)}") from None
            except ray.exceptions.RayError as exc:  # a replica died past its restarts, a lost node
                raise BackendError(f"ray replica failed: {_first_line(exc)}") from None
            idle.append(actor)
            done += 1
        if calls and self.on_shard is not None:
            self.on_shard(done, len(calls))
        return results

    # ------------------------------------------------------------------ inner attributes
    def _remote_call(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        ray = _import_ray()
        return ray.get(self.actors[0].call.remote(name, args, kwargs))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class does not define. Private names are never forwarded (copy
        # and pickle probe them, and they are the inner engine's business).
        if name.startswith("_") or name in ("actors", "config", "inner_args"):
            raise AttributeError(name)
        if name not in self._cache:
            ray = _import_ray()
            self._cache[name] = ray.get(self.actors[0].attribute.remote(name))
        kind, value = self._cache[name]
        if kind == "missing":
            raise AttributeError(f"the {self.config.inner} backend behind ray has no attribute {name!r}")
        if kind == "method":
            return lambda *args, **kwargs: self._remote_call(name, args, kwargs)
        return value


def _close_if_alive(ref: weakref.ref) -> None:
    backend = ref()
    if backend is not None:
        backend.close()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BackendError("the ray backend needs `pip install 'thinklab[ray]'`") from None
    return ray


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_reachable(address: str, timeout: float) -> None:
    """A TCP connect to the cluster's address, so a wrong or dead address fails in seconds."""
    host_port = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise BackendError(f"malformed Ray address {address!r}: expected auto, host:port or ray://host:port")
    started = time.time()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return
    except OSError as exc:
        raise BackendError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc} after "
            f"{time.time() - started:.1f}s); start one with `ray start --head` or fix --backend-args address="
        ) from None
