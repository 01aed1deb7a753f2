"""Sentence-aware chunks small enough to cite, each a span of the original text.

A document is cut into paragraphs, paragraphs are tagged with a language and grouped into
same-language segments (seed 000 becomes an English segment then a French one), and each segment's
sentences are packed into chunks of about ``target`` characters. A chunk prefers to end at a paragraph
boundary, ends where a heading starts (Markdown, HTML, Word), and never crosses a language boundary.
Each chunk carries its context, the title the file states and the heading path it sits under, which
is BM25-indexed and embedded with it (``with_context``, ``embedded``); its text and offsets are the
file's alone. Ids hash the path, the offset and the text, so re-indexing an unchanged file yields the
same ids.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from . import lang as langid
from .loader import SourceText, line_of
from .sentences import Span, paragraphs, sentences


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    start: int
    end: int
    text: str  # source text[start:end], verbatim
    lang: str
    lines: tuple[int, int]
    ordinal: int  # position in the document
    context: str = ""  # SourceText.context: the stated title and heading path it sits under

    @property
    def clean(self) -> str:
        """Whitespace-normalised text (what the answerer reads and quotes from)."""
        return clean(self.text)

    @property
    def embedded(self) -> str:
        """What is embedded (see `embedded`)."""
        return embedded(self.text, self.context)

    @property
    def indexed(self) -> str:
        """What BM25 indexes: the context, then the text (see `with_context`)."""
        return with_context(self.text, self.context)


def clean(text: str) -> str:
    """Whitespace collapsed and Unicode composed (NFC): the form that is embedded and tokenised."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


EMBED_CONTEXT = True  # the context goes into the vector too, not only into BM25 (eval/REPORT.md, titles)


def with_context(text: str, context: str = "") -> str:
    """A chunk as it is BM25-indexed: its context (the document's stated title, the heading path)
    before its clean text, so that a passage under "Fees" is found by a question about fees even when
    it never says the word. Quotes and offsets are the text's alone."""
    return f"{clean(context)} — {clean(text)}" if context else clean(text)


def embedded(text: str, context: str = "") -> str:
    """A chunk (or a sentence of it) as it is embedded: with its context (EMBED_CONTEXT)."""
    return with_context(text, context) if EMBED_CONTEXT else clean(text)


def chunk_id(source: str, start: int, text: str) -> str:
    return hashlib.sha256(f"{source}\0{start}\0{text}".encode()).hexdigest()[:24]


def segments(doc: SourceText) -> list[tuple[str, list[Span]]]:
    """Consecutive paragraphs of one language: [(lang, [paragraph spans])]."""
    paras = paragraphs(doc.text)
    tags = langid.tag_paragraphs([doc.text[a:b] for a, b in paras])
    out: list[tuple[str, list[Span]]] = []
    for span, tag in zip(paras, tags):
        if out and out[-1][0] == tag:
            out[-1][1].append(span)
        else:
            out.append((tag, [span]))
    return out


def chunk(doc: SourceText, target: int = 450) -> list[Chunk]:
    text, limit = doc.text, int(target * 1.5)
    sections = doc.sections()  # a chunk ends where a heading starts: one section's words under its heading
    spans: list[tuple[str, Span]] = []
    for lang, paras in segments(doc):
        cur: list[Span] = []
        for pi, (pa, pb) in enumerate(paras):
            if cur and pa in sections:
                spans.append((lang, (cur[0][0], cur[-1][1])))
                cur = []
            for sa, sb in _split_long(text, sentences(text, pa, pb), limit):
                if cur and (sb - cur[0][0] > target):
                    spans.append((lang, (cur[0][0], cur[-1][1])))
                    cur = []
                cur.append((sa, sb))
            # end of a paragraph: close the chunk if it is already a decent size
            if cur and cur[-1][1] - cur[0][0] >= target * 0.4:
                spans.append((lang, (cur[0][0], cur[-1][1])))
                cur = []
        if cur:
            spans.append((lang, (cur[0][0], cur[-1][1])))
    return [
        Chunk(chunk_id(doc.path, a, text[a:b]), doc.path, a, b, text[a:b], lang,
              (line_of(text, a), line_of(text, b - 1)), i, doc.context(a, b))
        for i, (lang, (a, b)) in enumerate(spans)
    ]


def _split_long(text: str, spans: list[Span], limit: int) -> list[Span]:
    """Cut sentences longer than `limit` at whitespace, so no chunk is too long to cite."""
    out = []
    for a, b in spans:
        while b - a > limit:
            cut = text.rfind(" ", a + limit // 2, a + limit)
            cut = cut if cut > a else a + limit
            out.append((a, cut))
            a = cut + 1 if text[cut : cut + 1] == " " else cut
        out.append((a, b))
    return out
