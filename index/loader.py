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
import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .readers import BY_SUFFIX, SEP, SUFFIXES, Marks, Unreadable, decode, looks_binary  # noqa: F401 (re-exported)

TEXT_SUFFIXES = SUFFIXES  # every suffix some reader handles (the name predates PDF and DOCX)
CACHE_DOCS = 8  # documents kept in memory by content hash: checking a PDF quote must not re-parse the PDF


@dataclass(frozen=True)
class SourceText:
    path: str  # absolute path as indexed
    text: str  # the decoded file, or the text extracted from it
    encoding: str  # "utf-8", "cp1252", ... for text; "pdf", "docx", "html (utf-8)" for extracted text
    sha256: str  # of the raw bytes: unchanged files are skipped on re-index
    kind: str = "text"  # "text", "markdown", "html", "pdf", "docx"
    marks: Marks = ()  # (offset, page number or heading path), in order; see where()

    def where(self, start: int, end: int) -> str:
        """What a reader needs to find text[start:end]: "p. 3", "pp. 3–4", "Article 3 › Paragraph 2",
        "Article 1 – Article 2" when it spans two sections, else "lines 4–9" (text, Markdown)."""
        last = max(start, end - 1)
        a, b = self._mark_at(start), self._mark_at(last)
        if self.kind == "pdf":
            return f"p. {a}" if a == b else f"pp. {a}–{b}"
        if a or b:
            return a if a == b else _span(a or "beginning", b)
        if self.kind in ("text", "markdown"):
            first, final = line_of(self.text, start), line_of(self.text, last)
            return f"line {first}" if first == final else f"lines {first}–{final}"
        return ""

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


_cache: OrderedDict[tuple, SourceText] = OrderedDict()
_cache_lock = threading.Lock()


def read_text(path: Path, max_bytes: int | None = None) -> SourceText:
    """Read one file with the reader for its suffix; raise Unreadable with the reason if it cannot be
    indexed (unsupported type, too large, empty, binary, damaged, encrypted, no text layer)."""
    path = Path(path)
    reader = BY_SUFFIX.get(path.suffix.lower())
    if reader is None:
        raise Unreadable(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(sorted(SUFFIXES))}")
    st = path.stat()
    if max_bytes is not None and st.st_size > max_bytes:
        raise Unreadable(f"is {st.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (QA_MAX_FILE_MB)")
    data = path.read_bytes()
    if not data.strip():
        raise Unreadable("is empty" if not data else "is empty (only whitespace)")
    key = (str(path.resolve()), file_hash(data))  # by content: an mtime can miss a quick rewrite
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    got = reader.extract(data)
    doc = SourceText(key[0], got.text, got.encoding, key[1], reader.kind, got.marks)
    with _cache_lock:
        _cache[key] = doc
        while len(_cache) > CACHE_DOCS:
            _cache.popitem(last=False)
    return doc


def read_current(path: str | Path) -> SourceText:
    """read_text for a file that was indexed and is read again on every answer (to split its sentences,
    verify a quote, show the context): while its size and modification time are unchanged, the same
    SourceText, without reading or hashing the bytes again. Raises as read_text does."""
    st = Path(path).stat()
    return _read_unchanged(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _read_unchanged(path: str, mtime_ns: int, size: int) -> SourceText:
    return read_text(Path(path))


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
