"""The vector side: a Chroma collection, embedded on disk or on a Chroma server.

Chroma clients, collections, result dicts and exceptions stay in this module; callers get
(chunk id, cosine similarity) pairs, and any failure to reach or use Chroma becomes a StoreError
naming the folder or URL.

With a server (``url``), a broken connection is not fatal to the object: the failed call drops the
collection handle, and the call after it looks the collection up again, so an Index keeps answering
once the server is back. Every call here is idempotent (upserts and deletes by id, reads), so a call
that fails on a connection error is retried once at once: that covers a server restarted between two
calls, whose pooled keep-alive connections are dead.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlparse

import numpy as np

from . import offline  # noqa: F401  (before any model or Chroma import)
from .errors import StoreError

T = TypeVar("T")
BATCH = 1000  # ids per request: well under Chroma's max batch size, small enough for one HTTP body
CONNECT_TIMEOUT = 5.0  # seconds; the chromadb HTTP client has no timeout at all by default
QUERY_BATCH = 256  # query vectors per request
# HNSW's search breadth for new collections: retrieval asks for 50 neighbours, and at Chroma's default
# (100) a few questions' neighbours changed between two builds of the same vectors (6 of 1,268 SQuAD test
# questions moved); at 256 two fresh builds gave the same 1,268 answers, R@1 0.893 -> 0.894, accuracy 0.869 both.
# Collections made before keep their own (Chroma opens an existing collection with its settings).
SEARCH_EF = 256
REQUEST_TIMEOUT = 60.0  # seconds to read or write one request: a hung server must not hang the Index


def embedder_slug(embedder: str) -> str:
    """A file- and Chroma-safe name for an embedder: "e5-small" stays "e5-small"; a model path or a
    long name keeps its end (the model's own name) plus a hash of the whole, so two never collide."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embedder).strip("-._")
    if slug != embedder or len(slug) > 40:
        digest = hashlib.sha256(embedder.encode()).hexdigest()[:10]
        slug = f"{slug[-30:].strip('-._')}-{digest}".lstrip("-")
    return slug or "model"


def collection_name(embedder: str) -> str:
    """One collection per embedder, so vectors of different models never mix."""
    return f"chunks-{embedder_slug(embedder)}"


class VectorStore:
    """Chunk vectors in the collection of one embedder: in ``folder``, or on the server at ``url``.

        >>> store = VectorStore(Path("/tmp/qa/chroma"), "e5-small")   # or url="http://127.0.0.1:8000"
        >>> store.query(question_vector, 3)                           # doctest: +SKIP
        [('3f0c...', 0.87), ('9a1b...', 0.85), ('77de...', 0.84)]
    """

    def __init__(self, folder: Path, embedder: str, url: str = ""):
        self.folder, self.url = Path(folder), url.rstrip("/")
        self.where = self.url or str(self.folder)
        self._name = collection_name(embedder)
        self._client = None
        self._col = None
        # Open now, so a wrong URL or a server that is down fails where the Index is made.
        self._run("open", lambda col: None)

    # -- the one place that talks to chromadb's client ------------------------------------------
    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False)
        if not self.url:
            self.folder.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.folder), settings=settings)
        u = urlparse(self.url)
        https = u.scheme == "https"
        client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or (443 if https else 8000),
                                     ssl=https, settings=settings)
        _set_timeouts(client)
        return client

    def _collection(self):
        # The client is kept once made: chromadb cannot release a client whose construction failed,
        # and the one we hold reconnects by itself. The collection handle is looked up again after a
        # failure, as the server may have been restarted (possibly on other data) in between.
        if self._client is None:
            self._client = self._connect()
        if self._col is None:
            self._col = self._client.get_or_create_collection(
                self._name, metadata={"hnsw:space": "cosine", "hnsw:search_ef": SEARCH_EF}, embedding_function=None)
        return self._col

    def _run(self, action: str, call: Callable[[object], T]) -> T:
        """`call(collection)`, with every failure turned into a StoreError naming the store."""
        retry = bool(self.url)
        while True:
            try:
                return call(self._collection())
            except Exception as e:  # chromadb raises many types (httpx errors, ValueError, its own)
                if self.url:
                    self._col = None
                if retry and self._client is not None and _connection_lost(e):
                    retry = False
                    continue
                raise self._error(action, e) from e

    def _error(self, action: str, e: Exception) -> StoreError:
        if not self.url:
            return StoreError(f"cannot {action} the Chroma store in {self.where}: {type(e).__name__}: {e}")
        if _unreachable(e):
            port = urlparse(self.url).port or ""
            return StoreError(f"cannot {action} the Chroma server at {self.url}: it does not answer "
                              f"({_reason(e)}). Is it running? Start one with "
                              f"`chroma run --path DIR --port {port or 'N'}`, or leave QA_CHROMA_URL empty "
                              "to use the store in the data folder.")
        return StoreError(f"cannot {action} the Chroma server at {self.url}: {type(e).__name__}: {e}")

    # -- the store's operations --------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        def call(col):
            for i in range(0, len(ids), BATCH):
                col.upsert(ids=ids[i : i + BATCH], embeddings=vectors[i : i + BATCH].tolist(),
                           metadatas=metadatas[i : i + BATCH])

        self._run("write to", call)

    def delete(self, ids: list[str]) -> None:
        def call(col):
            for i in range(0, len(ids), BATCH):
                col.delete(ids=ids[i : i + BATCH])

        self._run("delete from", call)

    def existing(self, ids: list[str]) -> set[str]:
        def call(col):
            out: set[str] = set()
            for i in range(0, len(ids), BATCH):
                out.update(col.get(ids=ids[i : i + BATCH], include=[])["ids"])
            return out

        return self._run("read", call)

    def query(self, vector: np.ndarray, n: int, not_lang: str | None = None) -> list[tuple[str, float]]:
        """The n nearest chunks (fewer if the collection, or the filter, holds fewer; [] when empty);
        `not_lang`: only chunks in another language than this one."""
        return self.query_many([vector], n, not_lang)[0]

    def query_many(self, vectors, n: int, not_lang: str | None = None) -> list[list[tuple[str, float]]]:
        """`query` for many vectors, QUERY_BATCH per request. There is no count() first to cap n:
        chromadb 1.5 returns what it has when n exceeds it, and counting cost 10 ms a query at 100k
        chunks (bench/results/patches-use-v3-100k.json); tests/test_chroma_server.py checks both stores."""
        if n < 1 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        where = {"lang": {"$ne": not_lang}} if not_lang else None  # Chroma's filter dialect stays here

        def call(col):
            out = []
            for i in range(0, len(vectors), QUERY_BATCH):
                part = [np.asarray(v, dtype=np.float32).tolist() for v in vectors[i : i + QUERY_BATCH]]
                r = col.query(query_embeddings=part, n_results=n, where=where, include=["distances"])
                out += [[(cid, 1.0 - float(d)) for cid, d in zip(ids, ds)] for ids, ds in zip(r["ids"], r["distances"])]
            return out

        return self._run("query", call)

    def warm(self) -> None:
        """Load the collection's vector index now (the first query otherwise pays for it: 0.5 s at 100k
        chunks): one query with a stored vector. Chroma works outside the GIL, so a thread can do this
        while the catalog is read. Failures are left for the real queries to report."""
        try:
            got = self._run("read", lambda col: col.get(limit=1, include=["embeddings"]))
            if len(got["embeddings"]):
                self.query(np.asarray(got["embeddings"][0]), 1)
        except Exception:
            pass

    def count(self) -> int:
        return self._run("read", lambda col: col.count())

    def heartbeat(self) -> None:
        self._run("reach", lambda col: self._client.heartbeat())


def _set_timeouts(client) -> None:
    # chromadb 1.5 builds its httpx.Client with timeout=None and has no setting for it; set one on the
    # session if it is where 1.5 keeps it (if a later chromadb moves it, we only lose the timeout).
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)


def _connection_lost(e: Exception) -> bool:
    """The request may not have reached a live server: worth one retry on a fresh handle."""
    import httpx

    return isinstance(e, (httpx.TransportError, ConnectionError)) and not isinstance(e, httpx.TimeoutException)


def _unreachable(e: Exception) -> bool:
    import httpx

    # chromadb turns a refused connection while making the client into a ValueError
    return isinstance(e, (httpx.TransportError, ConnectionError)) or (
        isinstance(e, ValueError) and str(e).startswith("Could not connect"))


def _reason(e: Exception) -> str:
    """'connection refused', 'timed out'...: the why of an unreachable server, without errno noise."""
    text = str(e).strip()
    if text.startswith("Could not connect to a Chroma server"):
        return "Connection refused"
    return re.sub(r"^\[Errno -?\d+\] ", "", text).rstrip(".") or type(e).__name__
