"""Indexing: files -> chunks -> vectors + catalog + BM25, one document at a time.

Order of writes for each document: vectors are upserted into Chroma first, then the catalog swaps the
document's chunks in one transaction, then stale vectors are deleted. A run killed at any point leaves
every committed document intact and answerable; vectors written for an uncommitted document are
invisible (retrieval only returns chunks the catalog knows) and are reused by the next run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from qa.errors import SourceError

from . import bm25 as bm25mod
from .catalog import Catalog, DocRow
from .chunker import Chunk, chunk, clean
from .loader import TEXT_SUFFIXES, SourceText, Unreadable, read_text
from .store import VectorStore

Progress = Callable[[int, int, str], None]  # (done, total, what)
TWIN_MIN_SIMILARITY = 0.86  # e5-small cosine between a passage and its translation; see README "Parallel passages"


@dataclass
class Report:
    """What an indexing run did. ``failed`` and ``skipped`` carry (path, reason) for the user."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks written in this run

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged",
                 f"{len(self.removed)} removed", f"{len(self.failed)} failed", f"{self.chunks} chunks written"]
        lines = [", ".join(parts)]
        lines += [f"  failed: {p}: {why}" for p, why in self.failed]
        lines += [f"  skipped: {p}: {why}" for p, why in self.skipped]
        return "\n".join(lines)


def collect(paths: list[str | Path], report: Report, suffixes=TEXT_SUFFIXES) -> list[Path]:
    """Expand folders into supported files. A missing path is an error (nothing is indexed)."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise SourceError(f"no such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    f = Path(root) / n
                    if n.startswith("."):
                        continue
                    if f.suffix.lower() in suffixes:
                        files.append(f)
                    else:
                        report.skipped.append((str(f), f"unsupported file type {f.suffix or '(none)'}"))
        elif p.suffix.lower() in suffixes:
            files.append(p)
        else:
            report.failed.append((str(p), f"unsupported file type {p.suffix or '(none)'}; "
                                          f"supported: {', '.join(sorted(suffixes))}"))
    return list(dict.fromkeys(f.resolve() for f in files))


def add(paths, catalog: Catalog, store: VectorStore, embedder, index: bm25mod.BM25, *, chunk_chars: int,
        max_bytes: int, progress: Progress | None = None) -> Report:
    report = Report()
    files = collect(paths, report)
    work: list[tuple[SourceText, list[Chunk], bool]] = []
    for f in files:
        try:
            doc = read_text(f, max_bytes)
        except Unreadable as e:
            report.failed.append((str(f), str(e)))
            continue
        except OSError as e:
            report.failed.append((str(f), f"cannot be read: {e.strerror or e}"))
            continue
        old = catalog.document(doc.path)
        if old and old.sha256 == doc.sha256:
            report.unchanged.append(doc.path)
            continue
        chunks = chunk(doc, chunk_chars)
        if not chunks:
            report.failed.append((doc.path, "has no text to index"))
            continue
        work.append((doc, chunks, old is not None))

    total, done = sum(len(c) for _, c, _ in work), 0
    new_ids: list[str] = []
    for doc, chunks, existed in work:
        if progress:
            progress(done, total, Path(doc.path).name)
        vectors = embedder.embed([c.clean for c in chunks], "passage",
                                 progress=(lambda n: progress(done, total, Path(doc.path).name)) if progress else None)
        store.upsert([c.id for c in chunks], vectors, [{"path": c.source, "lang": c.lang} for c in chunks])
        terms = [bm25mod.doc_terms(c.clean, c.lang) for c in chunks]
        langs = ",".join(dict.fromkeys(c.lang for c in chunks))
        row = DocRow(doc.path, doc.sha256, doc.encoding, langs, len(chunks), len(doc.text), 0.0)
        gone = catalog.replace_document(row, chunks, terms)
        if gone:
            store.delete(gone)
            for cid in gone:
                index.remove(cid)
        for c, t in zip(chunks, terms):
            index.add(c.id, t)
        (report.updated if existed else report.added).append(doc.path)
        report.chunks += len(chunks)
        new_ids += [c.id for c in chunks]
        done += len(chunks)
    if progress:
        progress(total, total, "done")
    if new_ids:
        pair_translations(new_ids, catalog, store, embedder)
    return report


def remove(path: str, catalog: Catalog, store: VectorStore, index: bm25mod.BM25) -> int:
    ids = catalog.remove_document(path)
    store.delete(ids)
    for cid in ids:
        index.remove(cid)
    return len(ids)


def pair_translations(ids: list[str], catalog: Catalog, store: VectorStore, embedder) -> int:
    """Link each new chunk to its translation, if the index has one: the mutual nearest neighbour in
    the other language, above TWIN_MIN_SIMILARITY. Retrieval then cites one of the two, not both."""
    rows = {r.id: r for r in catalog.chunks()}
    vec_of = {}

    def best_other(cid: str):
        r = rows[cid]
        if cid not in vec_of:
            vec_of[cid] = embedder.embed([clean(r.text)], "passage")[0]
        hits = store.query(vec_of[cid], 3, where={"lang": {"$ne": r.lang}})
        hits = [(h, s) for h, s in hits if h in rows]
        return hits[0] if hits else (None, 0.0)

    pairs = []
    for cid in ids:
        if cid not in rows or rows[cid].twin:
            continue
        other, sim = best_other(cid)
        if other is None or sim < TWIN_MIN_SIMILARITY:
            continue
        a, b = len(rows[cid].text), len(rows[other].text)
        if not 0.5 <= a / b <= 2.0:
            continue
        back, _ = best_other(other)
        if back == cid:
            pairs.append((cid, other))
    catalog.set_twins(pairs)
    return len(pairs)


def load_bm25(catalog: Catalog) -> bm25mod.BM25:
    index = bm25mod.BM25()
    for r in catalog.chunks():
        index.add(r.id, r.terms.split())
    return index

