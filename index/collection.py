"""A collection of documents in a data folder: the catalog, the Chroma store, BM25 and the embedder,
kept consistent. It is everything the question side needs from the document side, in passages.

    >>> from index.collection import Collection
    >>> col = Collection("/tmp/my-qa", "e5-small")
    >>> col.add(["seeds"], chunk_chars=450, max_bytes=50_000_000).summary()
    >>> qvec, passages = col.search("Qui a présidé le groupe de travail ?", "fr", n=3)
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import bm25 as bm25mod
from . import ingest
from . import lang as langid
from .catalog import Catalog, DocRow, has_documents
from .chunker import clean
from .embedders import AUTO, E5_ENGINES, CachedEmbedder, default_name, get_embedder
from .errors import BusyError, ConfigError
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
        self.embedder = CachedEmbedder(get_embedder(folder_embedder(home, embedder)), cache / "embeddings.sqlite")
        self._cache_file = cache / "embeddings.sqlite"
        self._asked = False  # a question was embedded here: an ingest then leaves a core to questions
        self._writer_embedder: CachedEmbedder | None = None
        self.catalog = Catalog(home / f"catalog-{embedder_slug(self.embedder.name)}.sqlite")
        self.store = VectorStore(home / "chroma", self.embedder.name, chroma_url)
        self._lock = threading.RLock()  # held only to swap in a new state (rows, BM25): questions never wait long
        self._writing = threading.Lock()  # one writer at a time in this process; _writer(): across processes
        # Chroma loads its vector index in the background while BM25 is built (cold start, README).
        # Not a daemon: a process that exits while Chroma's native code runs in a daemon thread is
        # killed by a segmentation fault at shutdown (`qa list` did, every time); Python joins it first.
        threading.Thread(target=self.store.warm, name="chroma-warm").start()
        self._overlay = _Overlay([], None)
        self._reload()

    def _reload(self) -> None:
        """Read the catalog whole: its rows, and BM25 built from them (at open, and when another process
        changed the catalog)."""
        version = self.catalog.data_version()
        rows = {r.id: r for r in self.catalog.chunks()}
        bm25 = ingest.load_bm25(rows.values(), self.catalog.path.with_suffix(".bm25.npz"))  # the rows just read
        with self._lock:
            self.bm25 = bm25
            self._set_rows(rows, version)

    def _read_rows(self) -> None:
        """The catalog's chunk rows after our own write (BM25 was updated in place as it went)."""
        version = self.catalog.data_version()
        self._set_rows({r.id: r for r in self.catalog.chunks()}, version)

    def _set_rows(self, rows, version: int) -> None:
        titles = {d.path: d.title or "" for d in self.catalog.documents()}  # Passage.title
        with self._lock:
            self.titles = titles
            self.rows = rows
            self.by_place = {(r.path, r.lang, r.ordinal): r for r in rows.values()}  # neighbours()
            self.translated = frozenset(r.path for r in rows.values() if r.twin)  # retrieval.fuse
            self._version = version

    def refresh(self) -> bool:
        """Take in what another process (`qa index` beside a running server) committed; True if it did.
        While this process writes, its own state is the newest: nothing to take."""
        return not self._writing.locked() and self._take_others()

    def _take_others(self) -> bool:
        if self.catalog.data_version() == self._version:
            return False
        before = set(self.rows)
        self._reload()
        if not self.store.url:  # an embedded Chroma keeps the vector index it loaded: add theirs beside it
            new = [cid for cid in self.rows if cid not in before] + list(self._overlay.ids)
            new = [cid for cid in dict.fromkeys(new) if cid in self.rows]
            vectors = self.embedder.embed([self.rows[c].embedded for c in new], "passage")  # their cache
            self._overlay = _Overlay(new, vectors)
        return True

    @contextmanager
    def _writer(self):
        """One writer per data folder: in this process (a lock) and across processes (an flock on
        HOME/writer.lock). A second writer is told at once, not left waiting or allowed to interleave."""
        with self._writing:
            path = self.home / "writer.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                    raise BusyError(f"another process (pid {holder}) is indexing into {self.home}; wait for it "
                                    "to finish, then run this again") from None
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._take_others()  # what another process committed before us
                yield
            finally:
                os.close(fd)  # releases the flock

    def _ingest_embedder(self):
        """What an ingest embeds with. Once this process has answered a question (a server, a notebook),
        e5-small-int8 indexes on an onnxruntime session of its own with one core fewer than the machine
        has, so that questions asked meanwhile keep a core (measured by bench.beside: README, "Indexing never
        stalls answering"); the same vectors, so the same cache. A `qa index` run alone keeps every core."""
        if not self._asked or type(self.embedder.inner).__name__ != "E5Fast":
            return self.embedder
        if self._writer_embedder is None:
            self._writer_embedder = CachedEmbedder(_fewer_threads(self.embedder.inner.mode), self._cache_file)
        return self._writer_embedder

    def warm(self) -> None:
        """Load now what questions would otherwise wait for: the language detector's models, the
        embedding model and Chroma's vector index. It also says questions are answered here (a server):
        an ingest then leaves them a core (`_ingest_embedder`)."""
        self._asked = True
        langid.warm()
        self.embedder.inner.embed_batch(["warm up"], "query")
        self.store.warm()

    # -- documents ---------------------------------------------------------------------------
    def add(self, paths: list[Path], *, chunk_chars: int, max_bytes: int, progress=None, prune: bool = True,
            follow_links: bool = False) -> Report:
        """Index files and folders. Questions go on meanwhile, answered from what was committed before:
        new chunks become visible when the run ends (rows are swapped in under the short lock)."""
        with self._writer(), _gil_handover(GIL_BESIDE_QUESTIONS if self._asked else None):
            try:
                return ingest.add(paths, self.catalog, self.store, self._ingest_embedder(), self.bm25, chunk_chars=chunk_chars,
                                  max_bytes=max_bytes, progress=progress, prune=prune, follow_links=follow_links)
            finally:
                self._read_rows()  # also after a failure: what was committed is what is answered from

    def remove(self, path: str) -> int:
        """Remove one document (its path as indexed); unknown paths raise ConfigError."""
        with self._writer():
            if self.catalog.document(path) is None:
                raise ConfigError(f"{path} is not in the index (see `qa list`)")
            try:
                return ingest.remove(path, self.catalog, self.store, self.bm25)
            finally:
                self._read_rows()

    def documents(self) -> list[DocRow]:
        """The indexed documents, each with its title (computed now, once, for documents of a catalog
        written before titles were stored: their files are read again)."""
        docs = self.catalog.documents()
        missing = [d for d in docs if d.title is None]
        if missing:
            from .loader import read_current

            found = {}
            for d in missing:
                try:
                    found[d.path] = read_current(d.path).title
                except Exception:  # moved, changed, unreadable: named by its file name meanwhile
                    found[d.path] = ""
            self.catalog.set_titles(found)
            docs = [replace(d, title=found[d.path]) if d.path in found else d for d in docs]
        self.titles = {d.path: d.title or "" for d in docs}
        return docs

    def __len__(self) -> int:
        return len(self.rows)

    # -- search ------------------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        self._asked = True
        return self.embedder.embed([clean(text)], "query")[0]

    def search(self, question: str, qlang: str, n: int, settings: RetrievalSettings = DEFAULT,
               only: frozenset[str] | None = None) -> tuple[np.ndarray, list[Passage]]:
        """The question's vector and its n best passages, fused, one language per passage; each
        passage's `similarity` is its cosine to the question (computed for those only BM25 found).
        `only`: the paths of the documents to search in (None: all)."""
        qvec = self.embed_query(question)
        self.refresh()
        with self._lock:
            store, bm25, rows = self._overlay.over(self.store), self.bm25, self.rows
            if only is not None:  # the chosen documents' chunks, searched exactly, and BM25 kept to them
                rows = {cid: r for cid, r in rows.items() if r.path in only}
                store = _Exact(list(rows), self.embedder.embed([r.embedded for r in rows.values()], "passage"))
                bm25 = _Within(bm25, rows)
            cands = search(question, qvec, qlang, store, bm25, rows, n=n, translated=self.translated,
                           settings=settings)
            titles = self.titles
            return qvec, [replace(passage(c.row, c.score, c.dense or self._cosine(c.row.id, qvec)),
                                  title=titles.get(c.row.path, "")) for c in cands]

    def neighbours(self, p: Passage, qvec: np.ndarray, reach: int = 1) -> list[Passage]:
        """The chunks within `reach` of passage `p` in its file, in its language, before it then after
        it, each with its cosine to the question (their vectors are the ingest's, from the cache)."""
        row, near = self._near(p, reach)
        title = self.titles.get(row.path, "") if row else ""
        return [replace(passage(r, 0.0, self._cosine(r.id, qvec)), title=title) for r in near]

    def adjoining(self, p: Passage) -> list[tuple[str, int, int]]:
        """(id, start, end) of the chunks just before and just after passage `p` in its file that are in
        its language and under its headings: how far a passage may be widened for showing
        (qa.answerers.grain.widen) without crossing a language or a section."""
        row, near = self._near(p, 1)
        return [(r.id, r.start, r.end) for r in near if r.context == row.context]

    def _near(self, p: Passage, reach: int):
        """Passage `p`'s row and the rows of the chunks within `reach` of it in its file, in its language,
        before it then after it ((None, []) for a passage not in the index)."""
        with self._lock:
            row, by = self.rows.get(p.id), self.by_place
            if row is None:
                return None, []
            near = [by.get((row.path, row.lang, row.ordinal + d)) for d in range(-reach, reach + 1) if d]
        return row, [r for r in near if r is not None]

    def _cosine(self, cid: str, qvec: np.ndarray) -> float:
        return float(self.embedder.embed([self.rows[cid].embedded], "passage")[0] @ qvec)

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

    def idf(self, term: str) -> float:
        """How rare a BM25 term is among the indexed passages (BM25's idf)."""
        return self.bm25.idf(term)


# During an ingest in a process that answers questions, the GIL is handed over every 0.5 ms (Python's
# default: 5 ms), so a question's Python waits less behind the ingest's (tokenizing, BM25, the catalog).
# None: Python's own. Measured with the one-core-fewer session by bench.beside (README, "Indexing never
# stalls answering").
GIL_BESIDE_QUESTIONS: float | None = 0.0005
_handovers = {"active": 0, "before": None}
_handover_lock = threading.Lock()


@contextmanager
def _gil_handover(seconds: float | None):
    """sys.setswitchinterval(seconds) while any ingest runs here (process-wide; restored by the last one out)."""
    if seconds is None:
        yield
        return
    with _handover_lock:
        if _handovers["active"] == 0:
            _handovers["before"] = sys.getswitchinterval()
            sys.setswitchinterval(seconds)
        _handovers["active"] += 1
    try:
        yield
    finally:
        with _handover_lock:
            _handovers["active"] -= 1
            if _handovers["active"] == 0:
                sys.setswitchinterval(_handovers["before"])


@lru_cache(maxsize=2)
def _fewer_threads(mode: str):
    """e5-small-int8 (E5Fast) on one core fewer than the machine has, at least one (one session per process)."""
    from .e5fast import E5Fast

    return E5Fast(mode, threads=max(1, len(os.sched_getaffinity(0)) - 1))


def folder_embedder(home: Path, embedder: str) -> str:
    """The embedder to open a data folder with. A name is kept as it is; "auto" (the default setting) is
    the e5 engine that indexed documents here, e5-small-int8 first, else the default (e5-small-int8,
    or e5-small where onnxruntime cannot load). A folder indexed before e5-small-int8 was the default
    keeps e5-small; ``QA_EMBEDDER=e5-small-int8 qa index ...`` builds the int8 index beside it, which
    "auto" opens from then on."""
    if embedder != AUTO:
        return embedder
    for name in E5_ENGINES:  # each embedder's catalog is its own file (Collection.__init__)
        path = Path(home) / f"catalog-{embedder_slug(name)}.sqlite"
        if has_documents(path):
            return name
    return default_name()


class _Exact:
    """Exact search over some chunks' vectors (a question limited to a few documents)."""

    def __init__(self, ids: list[str], vectors):
        self.ids, self.vectors = ids, vectors

    def query(self, qvec, n):
        if not self.ids:
            return []
        sims = self.vectors @ qvec
        return [(self.ids[i], float(sims[i])) for i in np.argsort(-sims)[:n]]


class _Within:
    """BM25 kept to some chunks: their best n hits (the whole ranking is read, then filtered)."""

    def __init__(self, bm25, ids):
        self.bm25, self.ids = bm25, ids

    def search(self, terms, n=50):
        return [h for h in self.bm25.search(terms, len(self.bm25.ids)) if h[0] in self.ids][:n]

    def __getattr__(self, name):  # everything else is the whole index's
        return getattr(self.bm25, name)


class _Overlay:
    """Vectors of chunks another process indexed while this one was open, searched exactly beside an
    embedded Chroma (whose in-memory index does not see another process's writes until it is opened
    again, at the next start)."""

    def __init__(self, ids: list[str], vectors, store=None):
        self.ids, self.vectors, self.store = ids, vectors, store

    def over(self, store):
        """`store` itself when there is nothing to add, else a store-like object that searches both."""
        return _Overlay(self.ids, self.vectors, store) if self.ids else store

    def query(self, qvec, n):
        sims = self.vectors @ qvec
        merged = dict(self.store.query(qvec, n))
        merged.update((self.ids[i], float(sims[i])) for i in np.argsort(-sims)[:n])
        return sorted(merged.items(), key=lambda h: -h[1])[:n]
