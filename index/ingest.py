"""Indexing: files -> chunks -> vectors + catalog + BM25, committed one document at a time.

Documents are written in windows of about WRITE_WINDOW chunks (many small files, or one large one):
the window's chunks are embedded together (the engines are fastest on full batches) and their
vectors upserted in one Chroma call (Chroma's cost is mostly per call), but the catalog still commits
each document on its own. Order of writes for a window: its new chunk ids are recorded as pending in
the catalog, the vectors are upserted into Chroma, then each document's chunks are swapped in the
catalog in one transaction of its own (the ids it drops become pending), then the stale vectors are
deleted and settled. A run killed at any point leaves every committed document intact and answerable:
retrieval only returns chunks the catalog knows. The next run first deletes the pending vectors that
no chunk row owns, so Chroma and the catalog (and the BM25 index, rebuilt from the catalog) hold the
same chunk ids again; unchanged files are then skipped and the rest indexed (the vectors of a lost
window come back from the embedding cache), so nothing is missing and nothing is there twice.

Decisions a user sees (also in `qa index --help`):
- a folder that is indexed again loses the documents under it whose files no longer exist (``prune``);
- a file with exactly the same bytes as an indexed one is reported as a duplicate and not indexed twice
  (the same passage would otherwise be retrieved, and cited, twice);
- a file that fails (damaged, encrypted, empty, too large...) is reported with the reason, the rest of
  the batch is indexed, and an earlier indexed version of it is kept.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import bm25 as bm25mod
from .catalog import Catalog, DocRow
from .chunker import Chunk, chunk
from .loader import SourceText, Unreadable, read_text
from .store import VectorStore
from .report import Report
from .walk import collect

Progress = Callable[[int, int, str], None]  # (files done, files in all, what is being done)
PAIR_FROM = "pair_from"  # meta key: indexed_at from which documents still await translation pairing


def add(paths, catalog: Catalog, store: VectorStore, embedder, index: bm25mod.BM25, *, chunk_chars: int,
        max_bytes: int, progress: Progress | None = None, prune: bool = True, follow_links: bool = False) -> Report:
    """Index files and folders; see the module docstring for what happens to each kind of file."""
    report = Report()
    files = collect(paths, report, follow_links=follow_links)
    settle(catalog, store)
    if prune:
        for folder in (Path(p).resolve() for p in paths if Path(p).is_dir()):
            for d in catalog.documents():
                if Path(d.path).is_relative_to(folder) and not Path(d.path).exists():
                    remove(d.path, catalog, store, index)
                    report.removed.append(d.path)
    pair_from = float(catalog.get_meta(PAIR_FROM) or time.time())
    catalog.set_meta(PAIR_FROM, repr(pair_from))
    first_of: dict[str, str] = {}  # sha256 -> path, for duplicates inside this batch
    pending: list[tuple[SourceText, list[Chunk], bool, Callable | None]] = []

    def flush():
        if not pending:
            return
        chunks = [c for _, cs, _, _ in pending for c in cs]
        vectors = embedder.embed([c.embedded for c in chunks], "passage", progress=pending[-1][3])
        ids = [c.id for c in chunks]
        catalog.pend(ids)  # committed before the write: a kill during it leaves vectors the next run finds
        store.upsert(ids, vectors, [{"path": c.source, "lang": c.lang} for c in chunks])
        gone = []
        for doc, cs, existed, _ in pending:
            gone += _commit(doc, cs, catalog, index)
            (report.updated if existed else report.added).append(doc.path)
            report.chunks += len(cs)
        store.delete(gone)
        catalog.settled(gone)
        pending.clear()

    for i, f in enumerate(files):
        name = f.name
        if progress:
            progress(i, len(files), name)
        try:
            doc = read_text(f, max_bytes)
        except Unreadable as e:
            report.failed.append((str(f), str(e)))
            continue
        except OSError as e:
            report.failed.append((str(f), f"cannot be read: {e.strerror or e}"))
            continue
        except Exception as e:  # a reader's bug on one strange file must not stop the batch
            report.failed.append((str(f), f"cannot be read: {type(e).__name__}: {e}"))
            continue
        old = catalog.document(doc.path)
        if old and old.sha256 == doc.sha256:
            report.unchanged.append(doc.path)
            first_of.setdefault(doc.sha256, doc.path)
            continue
        twin = first_of.get(doc.sha256) or _indexed_copy(catalog, doc)
        if twin:
            report.skipped.append((doc.path, f"duplicate: same content as {twin}, which is indexed; not indexed twice"))
            if old:  # its earlier, different content is no longer in the file
                remove(doc.path, catalog, store, index)
                report.removed.append(doc.path)
            continue
        chunks = chunk(doc, chunk_chars)
        if not chunks:
            report.failed.append((doc.path, "has no text to index"))
            continue
        step = _chunk_progress(progress, i, len(files), name, len(chunks)) if progress else None
        pending.append((doc, chunks, old is not None, step))
        first_of[doc.sha256] = doc.path
        if sum(len(c) for _, c, _, _ in pending) >= WRITE_WINDOW:
            flush()
    flush()
    if progress:
        progress(len(files), len(files), "pairing translations")
    pair_translations([r.id for r in catalog.chunks(since=pair_from)], catalog, store, embedder)
    catalog.set_meta(PAIR_FROM, None)
    if progress:
        progress(len(files), len(files), "done")
    return report


# chunks embedded and upserted together, across small documents; measured in bench/results/report.md:
# Chroma costs ~20-90 ms per upsert call whatever its size, so one call per small file was most of a
# use-v3 ingest. A killed run loses at most one window, whose vectors are then in the embedding cache.
WRITE_WINDOW = 256


def _chunk_progress(progress, i: int, total: int, name: str, n_chunks: int):
    """A file's progress as its chunks are embedded (the embedder reports each batch): i + k/n of total,
    so a bar moves during a long file, not only between files."""
    done = [0]

    def step(n: int) -> None:
        done[0] = min(n_chunks, done[0] + n)
        progress(i + done[0] / max(n_chunks, 1), total, f"{name} ({done[0]}/{n_chunks} chunks)")

    return step


def _indexed_copy(catalog: Catalog, doc: SourceText) -> str | None:
    """The path of another indexed document with the same bytes, if its file still has them."""
    other = catalog.document_with_hash(doc.sha256)
    if other is None or other.path == doc.path or not Path(other.path).exists():
        return None
    return other.path


def _commit(doc: SourceText, chunks: list[Chunk], catalog: Catalog, index: bm25mod.BM25) -> list[str]:
    """Swap one document's chunks in the catalog (one transaction) and in BM25, once their vectors are
    in Chroma. Returns the ids it no longer has, pending until their vectors are deleted."""
    terms = [bm25mod.doc_terms(c.indexed, c.lang) for c in chunks]  # the context too
    langs = ",".join(dict.fromkeys(c.lang for c in chunks))
    row = DocRow(doc.path, doc.sha256, doc.encoding, langs, len(chunks), len(doc.text), 0.0, doc.title)
    gone = catalog.replace_document(row, chunks, terms, [doc.where(c.start, c.end) for c in chunks])
    for cid in gone:
        index.remove(cid)
    for c, t in zip(chunks, terms):
        index.add(c.id, t)  # an id kept across an update has its terms replaced, not counted twice
    return gone


def settle(catalog: Catalog, store: VectorStore) -> int:
    """Delete the vectors a killed run left without a chunk row; returns how many."""
    orphans = catalog.leftovers()
    store.delete(orphans)
    catalog.clear_pending()
    return len(orphans)


def remove(path: str, catalog: Catalog, store: VectorStore, index: bm25mod.BM25) -> int:
    ids = catalog.remove_document(path)
    for cid in ids:
        index.remove(cid)
    store.delete(ids)
    catalog.settled(ids)
    return len(ids)


def pair_translations(ids: list[str], catalog: Catalog, store: VectorStore, embedder, block: int = 1024) -> int:
    """Link each new chunk to its translation, if the index has one: the mutual nearest neighbour in
    the other language, above the model's calibrated twin_min_similarity. Retrieval then cites one of the two, not both.

    Nearest neighbours are found by exact search in numpy when the new chunks are a good share of the
    index (a first indexing: 10k chunks paired in ~1 s), else by Chroma queries, many per call (a few
    files added to a large index: no need to load every vector). One Chroma query per chunk, as this
    was first written, cost 218 ms a chunk at 100k chunks (bench/results/patches-use-v3-100k.json).
    """
    rows = {r.id: r for r in catalog.chunks()}
    todo = [c for c in dict.fromkeys(ids) if c in rows and not rows[c].twin]
    if not todo:
        return 0
    exact = len(todo) * EXACT_PAIRING_SHARE >= len(rows)
    nearest = _nearest_exact(rows, embedder, block) if exact else _nearest_chroma(rows, store, embedder, block)
    best: dict[str, tuple[str | None, float]] = {}  # chunk id -> its nearest chunk in another language

    def find(cids: list[str]) -> None:
        need = [c for c in dict.fromkeys(cids) if c not in best]
        for lang in sorted({rows[c].lang for c in need}):
            group = [c for c in need if rows[c].lang == lang]
            for i in range(0, len(group), block):
                best.update(nearest(group[i : i + block], lang))

    find(todo)
    threshold = embedder.calibration.twin_min_similarity
    candidates = [(c, best[c][0]) for c in todo if best[c][0] is not None and best[c][1] >= threshold
                  and 0.5 <= len(rows[c].text) / len(rows[best[c][0]].text) <= 2.0]
    find([other for _, other in candidates])
    pairs, taken = [], set()
    for c, other in candidates:
        if best[other][0] == c and c not in taken:  # mutual: each pair once, though both may be new
            pairs.append((c, other))
            taken.update((c, other))
    catalog.set_twins(pairs)
    return len(pairs)


EXACT_PAIRING_SHARE = 20  # exact search when new chunks are at least 1/20 of the index


def _vectors(rows, cids: list[str], embedder):
    return embedder.embed([rows[c].embedded for c in cids], "passage")  # from the embedding cache


def _nearest_exact(rows, embedder, block: int):
    others: dict[str, tuple[list[str], object]] = {}  # language -> (ids in other languages, their vectors)

    def nearest(cids: list[str], lang: str):
        if lang not in others:
            ids = [r.id for r in rows.values() if r.lang != lang]
            others[lang] = (ids, np.vstack([_vectors(rows, ids[i : i + block * 8], embedder)
                                            for i in range(0, len(ids), block * 8)]) if ids else None)
        ids, matrix = others[lang]
        if not ids:
            return {c: (None, 0.0) for c in cids}
        sims = _vectors(rows, cids, embedder) @ matrix.T
        top = sims.argmax(axis=1)
        return {c: (ids[j], float(sims[k, j])) for k, (c, j) in enumerate(zip(cids, top.tolist()))}

    return nearest


def _nearest_chroma(rows, store: VectorStore, embedder, block: int):
    def nearest(cids: list[str], lang: str):
        out = {}
        for c, hits in zip(cids, store.query_many(_vectors(rows, cids, embedder), 3, not_lang=lang)):
            hits = [(h, s) for h, s in hits if h in rows]  # Chroma may hold a killed run's vectors
            out[c] = hits[0] if hits else (None, 0.0)
        return out

    return nearest


def load_bm25(rows, cache: Path | None = None) -> bm25mod.BM25:
    """BM25 over catalog rows (their stored terms: nothing is tokenised again); with `cache`, the
    postings are kept in that file for the next open of the same rows (BM25.build_cached)."""
    rows = list(rows)
    ids, terms = [r.id for r in rows], [r.terms for r in rows]
    return bm25mod.BM25.build_cached(ids, terms, cache) if cache else bm25mod.BM25.build(ids, terms)
