"""Settings: one frozen object, every field with a default, overridable from the environment.

    >>> from qa.config import Settings
    >>> Settings.from_env().embedder    # index.collection.folder_embedder says which model "auto" is
    'auto'

Environment variables are the field names upper-cased with a ``QA_`` prefix
(``QA_HOME``, ``QA_EMBEDDER``, ``QA_CHROMA_URL``...).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from index.errors import ConfigError


SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "bilingual-qa"


def _setting(default, help):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    home: Path = _setting(None, "data folder: Chroma store, catalog, embedding cache (default ~/.local/share/bilingual-qa)")
    embedder: str = _setting("auto", "auto (a new data folder: e5-small-int8, or e5-small where onnxruntime cannot "
                                     "load; an indexed one: the engine that built it) | e5-small-int8 | e5-small | "
                                     "use-v3 | minilm | a sentence-transformers model name or path")
    chroma_url: str = _setting("", "http://host:port of a Chroma server; empty = the embedded store in the data folder")
    chunk_chars: int = _setting(450, "target size of a chunk, in characters")
    k: int = _setting(5, "passages retrieve() returns by default")
    answerer: str = _setting("extractive", "who writes the answer: extractive (verbatim quotes, no language model), "
                                           "or llm (a model on QA_LLM_URL; every quote checked)")
    abstain_below: float = _setting(-1.0, "evidence score under which ask() says the documents do not say (-1 = calibrated default)")
    max_file_mb: float = _setting(50.0, "files larger than this are skipped and reported")
    max_question_chars: int = _setting(2000, "longer questions are refused with a clear message")
    llm_url: str = _setting("", "OpenAI-compatible server for QA_ANSWERER=llm: http://host:port (its /v1/chat/completions)")
    llm_model: str = _setting("", "model name sent to QA_LLM_URL (empty: the server's own; hosted APIs need one)")
    llm_api_key: str = field(default="", repr=False, metadata={"help": "API key for QA_LLM_URL, sent as a Bearer token; never shown"})
    llm_timeout: float = _setting(60.0, "seconds to wait for the model's answer before answering without it")
    llm_gguf: str = _setting("", "a local GGUF model file for QA_ANSWERER=llm, served in this process on 127.0.0.1 (pip install '.[llm]'); instead of QA_LLM_URL")
    llm_threads: int = _setting(0, "threads for QA_LLM_GGUF's model (0: the cores free at start, one left to the rest; 1 on 2 cores)")
    host: str = _setting("127.0.0.1", "address the web UI binds to")
    port: int = _setting(7860, "port of the web UI")

    def __post_init__(self):
        if self.home is None:
            object.__setattr__(self, "home", _default_home())
        object.__setattr__(self, "home", Path(self.home).expanduser())
        if self.chunk_chars < 100:
            raise ConfigError(f"chunk_chars must be at least 100. Currently, chunk_chars is {self.chunk_chars}")
        if self.k < 1:
            raise ConfigError(f"k must be greater than 0. Currently, k is {self.k}")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"QA_CHROMA_URL must start with http:// or https://. Currently, it is {self.chroma_url!r}")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise ConfigError(f"QA_LLM_URL must start with http:// or https://. Currently, it is {self.llm_url!r}")
        if self.llm_threads < 0:
            raise ConfigError(f"llm_threads must be 0 (chosen from the free cores) or more. Currently, llm_threads is {self.llm_threads}")
        if self.llm_timeout <= 0:
            raise ConfigError(f"llm_timeout must be more than 0. Currently, llm_timeout is {self.llm_timeout}")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = {}
        for f in fields(cls):
            raw = os.environ.get("QA_" + f.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = raw if f.type in ("str", "Path") else (float(raw) if f.type == "float" else int(raw))
            except ValueError:
                raise ConfigError(f"QA_{f.name.upper()} must be a number. Currently, it is {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def help_table() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting: `qa --help` and the README use it."""
    return [("QA_" + f.name.upper(), str(f.default), f.metadata["help"]) for f in fields(Settings)]
