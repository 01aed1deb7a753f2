"""What the document side hands to the question side: passages, never storage rows or Chroma dicts.

    >>> from qa import retrieve
    >>> p = retrieve("Qui a présidé le Groupe de travail ?", k=1)[0]
    >>> p.source, p.lang, p.location, p.text == open(p.source).read()[p.start:p.end]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Passage:
    text: str  # verbatim source text[start:end]
    source: str  # the file path as indexed
    lang: str  # "en" or "fr"
    score: float  # fused retrieval score; higher is better (comparable within one call only)
    start: int  # character offsets into the decoded source file
    end: int
    lines: tuple[int, int]  # first and last line, 1-based
    id: str = ""  # stable id of its chunk (retrieve() shows a chunk widened by the sentences around it: the chunk's id)
    where: str = ""  # how to find it in the file: "p. 3", "Article 3 › Paragraph 2", "lines 4–9"
    # what answering needs beside the text (not part of a passage's identity):
    twin: str = field(default="", compare=False)  # id of its translation in the index, if any
    similarity: float = field(default=0.0, compare=False)  # cosine to the question (0 when not scored)
    title: str = field(default="", compare=False)  # its document's title (index.readers.document_title)
    context: str = field(default="", compare=False)  # the stated title and heading path it sits under (Chunk.context)

    @property
    def name(self) -> str:
        return Path(self.source).name

    def __str__(self) -> str:
        return f"{self.name} ({self.lang}, {self.location}): {' '.join(self.text.split())}"

    @property
    def location(self) -> str:
        """`where`, or the line range for passages indexed before locations were stored."""
        return self.where or f"lines {self.lines[0]}–{self.lines[1]}"
