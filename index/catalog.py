"""The catalog: which documents are indexed, and every chunk's text, offsets, language and BM25 terms.

A local SQLite file in the data folder. It is the source of truth for what is indexed: a chunk is
visible to retrieval only once its document's row is committed here, so an indexing run killed half
way leaves every previously indexed document answering, and the next run completes the rest.
It stays local even with a Chroma server: BM25 needs every chunk's terms in memory, and reading
them from a server at each start would be slow.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .chunker import Chunk, embedded
from .readers import READERS

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, encoding TEXT, langs TEXT, n_chunks INTEGER,
    size INTEGER, indexed_at REAL, title TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER, start INTEGER, end INTEGER,
    line_first INTEGER, line_last INTEGER, lang TEXT, text TEXT, terms TEXT, twin TEXT, location TEXT,
    context TEXT);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
-- vector ids that may be in Chroma without a chunk row here: written before their document's commit,
-- or left by a replace/remove before their delete reached Chroma. The next run deletes the leftovers.
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
# Columns added after the first release: (table, column, type). Added to an existing catalog on open.
MIGRATIONS = [("chunks", "location", "TEXT"), ("documents", "title", "TEXT"), ("chunks", "context", "TEXT")]  # NULL title: Collection.documents fills it
HEADED_SUFFIXES = tuple(s for r in READERS if r.kind != "text" for s in r.suffixes)  # a stated title, headings: Chunk.context
CHUNK_COLUMNS = "id, path, ordinal, start, end, line_first, line_last, lang, text, terms, twin, location, context"
DOC_COLUMNS = "path, sha256, encoding, langs, n_chunks, size, indexed_at, title"


@dataclass(frozen=True)
class DocRow:
    path: str
    sha256: str
    encoding: str
    langs: str
    n_chunks: int
    size: int
    indexed_at: float
    title: str | None = None  # index.readers.document_title; None in catalogs written before titles


@dataclass(frozen=True)
class ChunkRow:
    id: str
    path: str
    ordinal: int
    start: int
    end: int
    lines: tuple[int, int]
    lang: str
    text: str
    terms: str
    twin: str | None
    where: str = ""  # "p. 3", "Article 3 › Paragraph 2", "lines 4–9": how a reader finds it in the file
    context: str = ""  # Chunk.context: embedded and indexed with the text (chunker.embedded); "" before it existed

    @property
    def embedded(self) -> str:
        """The text its vector was made from (chunker.embedded)."""
        return embedded(self.text, self.context)


class Catalog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit survives the process being killed, not a power cut; fsync per document cost
        # 1.3 ms each while indexing. Pending ids are the exception, see pend().
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        with self._db:
            self._db.executescript(SCHEMA)
            for table, column, kind in MIGRATIONS:
                have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    if column == "location":  # the next `qa index` re-reads every file to fill it in
                        self._db.execute("UPDATE documents SET sha256 = ''")  # (vectors come from the cache)
                    if column == "context":  # files that can have headings are chunked again under them
                        self._db.execute("UPDATE documents SET sha256 = '' WHERE " + " OR ".join(
                            f"lower(path) LIKE '%{s}'" for s in HEADED_SUFFIXES))

    def data_version(self) -> int:
        """Changes when another connection (another process: `qa index` beside a server) commits."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def documents(self) -> list[DocRow]:
        with self._lock:
            return [DocRow(*r) for r in self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents ORDER BY path")]

    def document(self, path: str) -> DocRow | None:
        with self._lock:
            r = self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents WHERE path = ?", (path,)).fetchone()
        return DocRow(*r) if r else None

    def document_with_hash(self, sha256: str) -> DocRow | None:
        """The first indexed document (by path) whose file had these exact bytes."""
        with self._lock:
            r = self._db.execute(f"SELECT {DOC_COLUMNS} FROM documents WHERE sha256 = ? ORDER BY path LIMIT 1",
                                 (sha256,)).fetchone()
        return DocRow(*r) if r else None

    def chunks(self, path: str | None = None, since: float | None = None) -> list[ChunkRow]:
        """Every chunk; or one document's, in order; or those of documents indexed at or after `since`."""
        q = f"SELECT {CHUNK_COLUMNS} FROM chunks"
        with self._lock:
            if path:
                rows = self._db.execute(q + " WHERE path = ? ORDER BY ordinal", (path,))
            elif since is not None:
                rows = self._db.execute(q + " WHERE path IN (SELECT path FROM documents WHERE indexed_at >= ?)",
                                        (since,))
            else:
                rows = self._db.execute(q)
            return [ChunkRow(r[0], r[1], r[2], r[3], r[4], (r[5], r[6]), r[7], r[8], r[9], r[10], r[11] or "",
                             r[12] or "") for r in rows]

    def replace_document(self, doc: DocRow, chunks: list[Chunk], terms: list[list[str]],
                         wheres: list[str] | None = None) -> list[str]:
        """Swap a document's chunks in one transaction; returns the ids that are gone, which stay
        pending until ``settled`` (their vectors are still in Chroma)."""
        wheres = wheres or [""] * len(chunks)
        with self._lock, self._db:
            old = {r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ?", (doc.path,))}
            new = {c.id for c in chunks}
            self._db.execute("DELETE FROM chunks WHERE path = ?", (doc.path,))
            self._db.executemany(
                f"INSERT OR REPLACE INTO chunks ({CHUNK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,NULL,?,?)",
                [(c.id, c.source, c.ordinal, c.start, c.end, c.lines[0], c.lines[1], c.lang, c.text, " ".join(t), w,
                  c.context)
                 for c, t, w in zip(chunks, terms, wheres)])
            self._db.execute(f"INSERT OR REPLACE INTO documents ({DOC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                             (doc.path, doc.sha256, doc.encoding, doc.langs, doc.n_chunks, doc.size, time.time(),
                              doc.title))
            gone = sorted(old - new)
            self._clear_twins(gone)
            self._set_pending(gone, new)
            return gone

    def remove_document(self, path: str) -> list[str]:
        """Drop a document and its chunks; returns their ids, pending until ``settled``."""
        with self._lock, self._db:
            ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ?", (path,))]
            self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
            self._db.execute("DELETE FROM documents WHERE path = ?", (path,))
            self._clear_twins(ids)
            self._set_pending(ids, set())
            return ids

    # -- vectors that may be in Chroma without a row here ------------------------------------------
    def pend(self, ids: list[str]) -> None:
        """Record ids before their vectors are written (committed at once: the write may be killed).

        This commit is synced to disk (and with it every commit before it), so even a power cut never
        leaves vectors in Chroma that no pending id or chunk row accounts for."""
        with self._lock:
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                with self._db:
                    self._set_pending(ids, set())
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def settled(self, ids: list[str]) -> None:
        """Their vectors now match the catalog (written and committed, or deleted)."""
        with self._lock, self._db:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                self._db.execute(f"DELETE FROM pending WHERE id IN ({','.join('?' * len(part))})", part)

    def leftovers(self) -> list[str]:
        """Pending ids with no chunk row: vectors a killed run may have left in Chroma."""
        with self._lock:
            return [r[0] for r in self._db.execute(
                "SELECT id FROM pending WHERE id NOT IN (SELECT id FROM chunks) ORDER BY id")]

    def clear_pending(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM pending")

    def _set_pending(self, add: list[str], done: set[str]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(i,) for i in add])
        done_ids = sorted(done)
        for i in range(0, len(done_ids), 500):
            part = done_ids[i : i + 500]
            self._db.execute(f"DELETE FROM pending WHERE id IN ({','.join('?' * len(part))})", part)

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            r = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return r[0] if r else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock, self._db:
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _clear_twins(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            self._db.execute(f"UPDATE chunks SET twin = NULL WHERE twin IN ({','.join('?' * len(part))})", part)

    def set_twins(self, pairs: list[tuple[str, str]]) -> None:
        with self._lock, self._db:
            self._db.executemany("UPDATE chunks SET twin = ? WHERE id = ?", [(b, a) for a, b in pairs] + [(a, b) for a, b in pairs])

    def set_titles(self, titles: dict[str, str]) -> None:
        """Store titles computed after indexing (for documents of a catalog written before titles)."""
        with self._lock, self._db:
            self._db.executemany("UPDATE documents SET title = ? WHERE path = ?", [(t, p) for p, t in titles.items()])

    def count_chunks(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


def has_documents(path: Path) -> bool:
    """Does the catalog file at ``path`` list a document? Read-only, without opening it as a Catalog
    (no schema written, no migration): ``index.collection.folder_embedder`` asks which embedder built
    a data folder."""
    if not path.exists():
        return False
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
        try:
            return db.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:  # not a catalog (yet): nothing was indexed with it
        return False
