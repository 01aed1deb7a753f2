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

from .chunker import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, encoding TEXT, langs TEXT, n_chunks INTEGER,
    size INTEGER, indexed_at REAL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER, start INTEGER, end INTEGER,
    line_first INTEGER, line_last INTEGER, lang TEXT, text TEXT, terms TEXT, twin TEXT);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
"""


@dataclass(frozen=True)
class DocRow:
    path: str
    sha256: str
    encoding: str
    langs: str
    n_chunks: int
    size: int
    indexed_at: float


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


class Catalog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    def documents(self) -> list[DocRow]:
        with self._lock:
            return [DocRow(*r) for r in self._db.execute(
                "SELECT path, sha256, encoding, langs, n_chunks, size, indexed_at FROM documents ORDER BY path")]

    def document(self, path: str) -> DocRow | None:
        with self._lock:
            r = self._db.execute("SELECT path, sha256, encoding, langs, n_chunks, size, indexed_at "
                                 "FROM documents WHERE path = ?", (path,)).fetchone()
        return DocRow(*r) if r else None

    def chunks(self, path: str | None = None) -> list[ChunkRow]:
        q = "SELECT id, path, ordinal, start, end, line_first, line_last, lang, text, terms, twin FROM chunks"
        with self._lock:
            rows = self._db.execute(q + " WHERE path = ? ORDER BY ordinal", (path,)) if path else self._db.execute(q)
            return [ChunkRow(r[0], r[1], r[2], r[3], r[4], (r[5], r[6]), r[7], r[8], r[9], r[10]) for r in rows]

    def replace_document(self, doc: DocRow, chunks: list[Chunk], terms: list[list[str]]) -> list[str]:
        """Swap a document's chunks in one transaction; returns the ids that are gone."""
        with self._lock, self._db:
            old = {r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ?", (doc.path,))}
            new = {c.id for c in chunks}
            self._db.execute("DELETE FROM chunks WHERE path = ?", (doc.path,))
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
                [(c.id, c.source, c.ordinal, c.start, c.end, c.lines[0], c.lines[1], c.lang, c.text, " ".join(t))
                 for c, t in zip(chunks, terms)])
            self._db.execute("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
                             (doc.path, doc.sha256, doc.encoding, doc.langs, doc.n_chunks, doc.size, time.time()))
            gone = sorted(old - new)
            self._clear_twins(gone)
            return gone

    def remove_document(self, path: str) -> list[str]:
        with self._lock, self._db:
            ids = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ?", (path,))]
            self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
            self._db.execute("DELETE FROM documents WHERE path = ?", (path,))
            self._clear_twins(ids)
            return ids

    def _clear_twins(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            self._db.execute(f"UPDATE chunks SET twin = NULL WHERE twin IN ({','.join('?' * len(part))})", part)

    def set_twins(self, pairs: list[tuple[str, str]]) -> None:
        with self._lock, self._db:
            self._db.executemany("UPDATE chunks SET twin = ? WHERE id = ?", [(b, a) for a, b in pairs] + [(a, b) for a, b in pairs])

    def count_chunks(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
