"""A GGUF model file of the user's, served in this process on 127.0.0.1 by xllamacpp (`QA_LLM_GGUF=PATH`).

xllamacpp is llama.cpp's own server as a prebuilt wheel (`pip install '.[llm]'`, no compiler). The
llm answerer talks to it over HTTP as to any OpenAI-compatible server, so the code path is the one
tested against a remote server; the port is a free one on loopback and the server takes only a random
key made here, so no other program on the machine can use it.

Threads: llama.cpp's generation collapses when its threads share cores with other work (measured on 2
cores: 25 tokens/s with 2 threads on an idle machine, ~1 with one core busy elsewhere, 22-24 with 1
thread), so the model gets the cores free when it starts, one always left to the rest of the service
(embedding questions, indexing): 1 thread on a 2-core machine. `QA_LLM_THREADS` overrides it.

    >>> from qa.answerers.llm_local import serve
    >>> model = serve("~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf")
    >>> model.url, model.threads
    ('http://127.0.0.1:40931', 1)
"""
from __future__ import annotations

import math
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

GGUF_MAGIC = b"GGUF"  # the first four bytes of every GGUF file
CONTEXT = 4096  # tokens: the prompt (3 passages, 4 turns of conversation: ~1,000) and the answer fit


@dataclass(frozen=True)
class LocalModel:
    path: Path
    threads: int
    url: str  # http://127.0.0.1:PORT
    api_key: str = field(repr=False)  # the only key the server takes
    server: object = field(repr=False, compare=False)  # the xllamacpp.Server: serving while referenced


_served: dict[tuple[Path, int], LocalModel] = {}
_lock = threading.Lock()


def free_threads(cores: int | None = None, load: float | None = None) -> int:
    """Threads for the model: the cores not busy now (the 1-minute load average, rounded), one always
    left to the rest of the service; at least 1."""
    cores = cores or len(os.sched_getaffinity(0))
    load = os.getloadavg()[0] if load is None else load
    return max(1, min(cores - 1, cores - math.floor(load + 0.5)))


def serve(path: str | Path, threads: int = 0) -> LocalModel:
    """The model file at `path` served on 127.0.0.1 (started on first use, then shared by every index
    of this process), with `threads` threads (0: `free_threads()`). ConfigError naming the path if it
    is not a GGUF file llama.cpp can load, or naming the install command if xllamacpp is missing."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"QA_LLM_GGUF names no file: {path}")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ConfigError(f"QA_LLM_GGUF is not a GGUF model file (it does not start with 'GGUF'): {path}")
    if threads < 0:
        raise ConfigError(f"llm_threads must be 0 (chosen from the free cores) or more. Currently, it is {threads}")
    try:
        import xllamacpp
    except ImportError:
        raise ConfigError("QA_LLM_GGUF needs xllamacpp, llama.cpp's server: pip install 'bilingual-qa[llm]' "
                          "(or pip install xllamacpp)") from None
    path = path.resolve()
    with _lock:
        key = (path, threads)
        if key not in _served:
            _served[key] = _start(xllamacpp, path, threads or free_threads())
        return _served[key]


def _start(xlc, path: Path, threads: int) -> LocalModel:
    p = xlc.CommonParams()
    p.model.path = str(path)
    p.n_ctx = CONTEXT
    p.n_parallel = 1  # one answer at a time: two would share the same threads
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.hostnames = ["127.0.0.1"]
    p.port = 0  # a free port
    p.offline = True  # never fetch anything
    p.ui = False
    p.verbosity = 0  # llama.cpp's log stays quiet; a failure is told below
    api_key = secrets.token_urlsafe(24)
    p.api_keys = [api_key]
    try:
        server = xlc.Server(p)
    except RuntimeError as e:
        raise ConfigError(f"llama.cpp could not load {path} ({e}): is it a model llama.cpp runs, "
                          "and is there memory enough for it?") from None
    return LocalModel(path, threads, server.listening_address.rstrip("/"), api_key, server)
