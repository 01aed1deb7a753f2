"""Sentence-aware chunks small enough to cite, each a span of the original text.

A document is cut into paragraphs, paragraphs are tagged with a language and grouped into
same-language segments (seed 000 becomes an English segment then a French one), and each segment's
sentences are packed into chunks of about ``target`` characters. A chunk prefers to end at a paragraph
boundary and never crosses a language boundary. Ids hash the path, the offset and the text, so
re-indexing an unchanged file yields the same ids.
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

    @property
    def clean(self) -> str:
        """Whitespace-normalised text: what is embedded and tokenised."""
        return clean(self.text)


def clean(text: str) -> str:
    """Whitespace collapsed and Unicode composed (NFC): the form that is embedded and tokenised."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


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
    spans: list[tuple[str, Span]] = []
    for lang, paras in segments(doc):
        cur: list[Span] = []
        for pi, (pa, pb) in enumerate(paras):
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
              (line_of(text, a), line_of(text, b - 1)), i)
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
