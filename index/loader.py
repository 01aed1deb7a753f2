"""Read a file into text we can cite: decoded or extracted, deterministically, nothing rewritten after.

Every offset in the project points into ``SourceText.text``: for .txt and .md the decoded file exactly,
for .html, .pdf and .docx the text their reader extracts (see ``readers``), which is the same string
each time the same file is read, so a quote taken at its offsets is verbatim and can be checked again.
Whitespace is normalised only in the copies we embed and tokenise (see ``chunker``), never here.

    >>> doc = read_text(Path("udhr.fra.html"))
    >>> doc.where(doc.text.index("Tous les êtres humains"), doc.text.index("Tous les êtres humains") + 20)
    'Article premier'
"""
from __future__ import annotations

import hashlib
import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .readers import BY_SUFFIX, READERS, SEP, SUFFIXES, Marks, Unreadable, decode, document_title, looks_binary, stated_title  # noqa: F401 (re-exported)
from .walk import read_regular

LOCATES = {r.kind: r.locates for r in READERS}  # kind -> how a place in it is named (Reader.locates)
CACHE_CHARS = 20_000_000  # decoded text kept in memory (about 20 MB of plain text): see _cache


@dataclass(frozen=True)
class SourceText:
    path: str  # absolute path as indexed
    text: str  # the decoded file, or the text extracted from it
    encoding: str  # "utf-8", "cp1252", ... for text; "pdf", "docx", "html (utf-8)" for extracted text
    sha256: str  # of the raw bytes: unchanged files are skipped on re-index
    kind: str = "text"  # "text", "markdown", "html", "pdf", "docx"
    marks: Marks = ()  # (offset, page number or heading path), in order; see where()
    title: str = ""  # readers.document_title: the title the file states, else its first line
    stated: str = ""  # the title the file itself states (readers.stated_title), "" for plain text

    def context(self, start: int, end: int) -> str:
        """What a chunk of text[start:end] sits under, to embed and index with it (index.chunker.embedded):
        the title the file states and the heading path at the chunk's start ("Guide › Part 2 ›
        Fees"); the parts the chunk's own first words already say are left out. Page numbers are not
        context; plain text has none."""
        parts = [self.stated] + (self._mark_at(start).split(SEP) if self._headed else [])
        head = " ".join(self.text[start : min(end, start + 200)].split()).casefold()
        kept = [p for p in dict.fromkeys(p.strip() for p in parts) if p and p.casefold() not in head]
        return SEP.join(kept)

    def where(self, start: int, end: int) -> str:
        """What a reader needs to find text[start:end]: "p. 3", "pp. 3–4", "Article 3 › Paragraph 2",
        "Article 1 – Article 2" when it spans two sections, else "lines 4–9" (text, Markdown)."""
        last = max(start, end - 1)
        a, b = self._mark_at(start), self._mark_at(last)
        locates = LOCATES.get(self.kind, "")
        if locates == "pages":
            return f"p. {a}" if a == b else f"pp. {a}–{b}"
        if a or b:
            return a if a == b else _span(a or "beginning", b)
        if locates == "lines":
            first, final = line_of(self.text, start), line_of(self.text, last)
            return f"line {first}" if first == final else f"lines {first}–{final}"
        return ""

    @property
    def _headed(self) -> bool:
        """Its marks are headings (not page numbers)."""
        return LOCATES.get(self.kind, "") != "pages"

    def sections(self) -> frozenset[int]:
        """The offsets where a heading starts (none for page-numbered formats and plain text)."""
        return frozenset(o for o, _ in self.marks) if self._headed else frozenset()

    def _mark_at(self, offset: int) -> str:
        i = bisect_right([o for o, _ in self.marks], offset)
        return self.marks[i - 1][1] if i else ""


def _span(a: str, b: str) -> str:
    """"Part I › Article 1" to "Part I › Article 2" -> "Part I › Article 1 – Article 2"."""
    pa, pb = a.split(SEP), b.split(SEP)
    same = 0
    while same < min(len(pa), len(pb)) - 1 and pa[same] == pb[same]:
        same += 1
    return f"{a} – {SEP.join(pb[same:])}"


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# One cache of decoded documents, by path: (size, modification time) when read, and the SourceText.
# An answer reads each file it quotes through it (sentences, verify, render): decoded once, then only
# stat()ed. Re-reading a file whose bytes are unchanged (a PDF touched, or read for indexing) reuses the
# text, keyed by content hash. Bounded by the characters it holds, not a count of documents.
_cache: OrderedDict[str, tuple[tuple[int, int], SourceText]] = OrderedDict()
_cache_chars = 0
_cache_lock = threading.Lock()


def _cached(path: str) -> tuple[tuple[int, int], SourceText] | None:
    with _cache_lock:
        hit = _cache.get(path)
        if hit is not None:
            _cache.move_to_end(path)
        return hit


def _keep(path: str, stamp: tuple[int, int], doc: SourceText) -> None:
    global _cache_chars
    with _cache_lock:
        old = _cache.pop(path, None)
        _cache_chars -= len(old[1].text) if old else 0
        _cache[path] = (stamp, doc)
        _cache_chars += len(doc.text)
        while _cache_chars > CACHE_CHARS and len(_cache) > 1:
            _, (_, gone) = _cache.popitem(last=False)
            _cache_chars -= len(gone.text)


def read_text(path: Path, max_bytes: int | None = None) -> SourceText:
    """Read one file with the reader for its suffix; raise Unreadable with the reason if it cannot be
    indexed (unsupported type, too large, empty, binary, damaged, encrypted, no text layer)."""
    path = Path(path)
    reader = BY_SUFFIX.get(path.suffix.lower())
    if reader is None:
        raise Unreadable(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(SUFFIXES))}")
    data, st = read_regular(path, max_bytes)  # a regular file only: a FIFO would block, /dev/zero never end
    if not data.strip():
        raise Unreadable("is empty" if not data else "is empty (only whitespace)")
    # the path as walked, not resolved: a followed link is indexed under its own name (see walk)
    resolved, sha = os.path.abspath(path), file_hash(data)  # by content: an mtime can miss a quick rewrite
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _cached(resolved)
    if hit is not None and hit[1].sha256 == sha:
        _keep(resolved, stamp, hit[1])
        return hit[1]
    got = reader.extract(data)
    doc = SourceText(resolved, got.text, got.encoding, sha, reader.kind, got.marks,
                     document_title(got.title, got.text), stated_title(got.title))
    _keep(resolved, stamp, doc)
    return doc


def read_current(path: str | Path) -> SourceText:
    """read_text for a file that was indexed and is read again on every answer (to split its sentences,
    verify a quote, show the context): while its size and modification time are unchanged, the cached
    SourceText, without reading or hashing the bytes again. Raises as read_text does."""
    st = Path(path).stat()
    hit = _cached(str(path))
    if hit is not None and hit[0] == (st.st_mtime_ns, st.st_size):
        return hit[1]
    return read_text(Path(path))


class Sources:
    """The files one answer quotes, each looked up once: the answerer splits their sentences, `verify`
    checks each quote, the page shows the context, all from the same SourceText. A file that cannot
    be read any more is None here, and `error(path)` says why."""

    def __init__(self):
        self._docs: dict[str, SourceText | None] = {}
        self._errors: dict[str, Exception] = {}

    def get(self, path: str) -> SourceText | None:
        if path not in self._docs:
            try:
                self._docs[path] = read_current(path)
            except (OSError, Unreadable) as e:  # moved, deleted or damaged since it was indexed
                self._docs[path], self._errors[path] = None, e
        return self._docs[path]

    def text(self, path: str) -> str | None:
        doc = self.get(path)
        return doc.text if doc is not None else None

    def error(self, path: str) -> Exception | None:
        self.get(path)
        return self._errors.get(path)


def formats() -> str:
    """The supported file types, for messages and labels: ".txt .md .html .pdf .docx" (each reader's
    first suffix, in the registry's order; index.readers.READERS is the one list)."""
    return " ".join(r.suffixes[0] for r in READERS)


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
