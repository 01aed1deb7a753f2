"""A collection of documents in a data folder: the catalog, the Chroma store, BM25 and the embedder,
kept consistent. It is everything the question side needs from the document side, in passages.

    >>> from index.collection import Collection
    >>> col = Collection("/tmp/my-qa", "e5-small")
    >>> col.add(["seeds"], chunk_chars=450, max_bytes=50_000_000).summary()
    >>> qvec, passages = col.search("Qui a présidé le groupe de travail ?", "fr", n=3)
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from . import bm25 as bm25mod
from . import ingest
from . import lang as langid
from .catalog import Catalog, DocRow
from .chunker import clean
from .embedders import CachedEmbedder, get_embedder
from .errors import ConfigError
from .report import Report
from .retrieval import DEFAULT, RetrievalSettings, passage, search
from .store import VectorStore, embedder_slug
from .types import Passage


class Collection:
    """The indexed documents of one data folder, for one embedder (each embedder has its own catalog
    and Chroma collection, so vectors never mix)."""

    def __init__(self, home: str | Path, embedder: str, chroma_url: str = "", cache: str | Path | None = None):
        """`cache`: the embedding cache's folder (default HOME/cache); sharing one between folders is safe."""
        home = Path(home).expanduser()
        home.mkdir(parents=True, exist_ok=True)
        cache = Path(cache).expanduser() if cache else home / "cache"
        self.home = home
        self.embedder = CachedEmbedder(get_embedder(embedder), cache / "embeddings.sqlite")
        self.catalog = Catalog(home / f"catalog-{embedder_slug(self.embedder.name)}.sqlite")
        self.store = VectorStore(home / "chroma", self.embedder.name, chroma_url)
        self._lock = threading.RLock()
        # Chroma loads its vector index in the background while BM25 is built (cold start, README).
        # Not a daemon: a process that exits while Chroma's native code runs in a daemon thread is
        # killed by a segmentation fault at shutdown (`qa list` did, every time); Python joins it first.
        threading.Thread(target=self.store.warm, name="chroma-warm").start()
        with self._lock:
            self._read_rows()
            self.bm25 = ingest.load_bm25(self.rows.values())  # from the rows just read, not a second read

    def _read_rows(self) -> None:
        """The catalog's chunk rows, and the documents with a translation indexed (retrieval.fuse)."""
        self.rows = {r.id: r for r in self.catalog.chunks()}
        self.translated = frozenset(r.path for r in self.rows.values() if r.twin)

    def warm(self) -> None:
        """Load now what questions would otherwise wait for: the language detector's models, the
        embedding model and Chroma's vector index."""
        langid.warm()
        self.embedder.inner.embed_batch(["warm up"], "query")
        self.store.warm()

    # -- documents ---------------------------------------------------------------------------
    def add(self, paths: list[Path], *, chunk_chars: int, max_bytes: int, progress=None, prune: bool = True) -> Report:
        with self._lock:
            report = ingest.add(paths, self.catalog, self.store, self.embedder, self.bm25, chunk_chars=chunk_chars,
                                max_bytes=max_bytes, progress=progress, prune=prune)
            self._read_rows()
        return report

    def remove(self, path: str) -> int:
        """Remove one document (its path as indexed); unknown paths raise ConfigError."""
        with self._lock:
            if self.catalog.document(path) is None:
                raise ConfigError(f"{path} is not in the index (see `qa list`)")
            n = ingest.remove(path, self.catalog, self.store, self.bm25)
            self._read_rows()
        return n

    def documents(self) -> list[DocRow]:
        return self.catalog.documents()

    def __len__(self) -> int:
        return len(self.rows)

    # -- search ------------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([clean(text)], "query")[0]

    def search(self, question: str, qlang: str, n: int,
               settings: RetrievalSettings = DEFAULT) -> tuple[np.ndarray, list[Passage]]:
        """The question's vector and its n best passages, fused, one language per passage; each
        passage's `similarity` is its cosine to the question (computed for those only BM25 found)."""
        qvec = self.embed_query(question)
        with self._lock:
            cands = search(question, qvec, qlang, self.store, self.bm25, self.rows, n=n, translated=self.translated,
                           settings=settings)
            return qvec, [passage(c.row, c.score, c.dense or self._cosine(c.row.id, qvec)) for c in cands]

    def _cosine(self, cid: str, qvec: np.ndarray) -> float:
        return float(self.embedder.embed([clean(self.rows[cid].text)], "passage")[0] @ qvec)

    def lexical_search(self, question: str, k: int) -> list[Passage]:
        """BM25 alone over the chunks (a baseline of `qa eval`)."""
        with self._lock:
            hits = self.bm25.search(bm25mod.query_terms(question), k)
            return [passage(self.rows[cid], s) for cid, s in hits if cid in self.rows][:k]

    def dense_search(self, question: str, k: int) -> list[Passage]:
        """Chroma's vectors alone over the chunks (a baseline of `qa eval`)."""
        qvec = self.embed_query(question)
        hits = self.store.query(qvec, k + 10)  # vectors of a re-indexed document may linger: a few more
        with self._lock:
            return [passage(self.rows[cid], s, s) for cid, s in hits if cid in self.rows][:k]

    def knows(self, term: str) -> bool:
        """Does any indexed passage contain this BM25 term?"""
        return self.bm25.knows(term)
