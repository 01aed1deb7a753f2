"""The project's own types: what retrieve() and ask() return. Frozen, never dicts. ``Passage`` is the
document side's (``index.types``), re-exported here.

    >>> from qa import ask
    >>> a = ask("Quand le Groupe de travail a-t-il été constitué ?")
    >>> a.answered, a.citations[0].passage.name, "11 novembre 2004" in a.citations[0].quote
    (True, '004_48194a700c52b088.txt', True)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.types import Passage


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] marker in the answer text
    quote: str  # verbatim substring of the source file: source_text[start:end]
    passage: Passage
    start: int = 0  # offsets of the quote in the source file
    end: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "Citation":
        """A citation stored as JSON (dataclasses.asdict): a conversation's, the page's."""
        passage = Passage(**{**d["passage"], "lines": tuple(d["passage"]["lines"])})
        return cls(d["n"], d["quote"], passage, d["start"], d["end"])

    @property
    def location(self) -> str:
        """Where the quote is: in a text file its own lines ("lines 32–33"), else its passage's place
        (a page, a heading path), which holds it."""
        p = self.passage
        if p.where and not p.where.startswith("line") or not p.start <= self.start <= self.end <= p.end:
            return p.location
        first = p.lines[0] + p.text.count("\n", 0, self.start - p.start)
        last = first + self.quote.count("\n", 0, max(0, len(self.quote) - 1))
        return f"line {first}" if first == last else f"lines {first}–{last}"

    def __str__(self) -> str:
        p = self.passage
        return f"[{self.n}] {p.name} ({p.lang}, {self.location}): “{' '.join(self.quote.split())}”"


@dataclass(frozen=True)
class Answer:
    text: str  # the answer, with [n] markers
    lang: str  # language the answer is written in ("en" or "fr")
    answered: bool  # False when the documents do not say
    citations: list[Citation] = field(default_factory=list)
    related: list[Passage] = field(default_factory=list)  # "maybe related" passages when not answered
    note: str = ""  # e.g. that the question was in another language
    answerer: str = ""  # which answerer wrote it: "extractive", ...
    dropped: int = 0  # claims a model made that were left out, their quote not being in the passage it named
    dropped_why: tuple[str, ...] = ()  # why, one reason per dropped claim ("quote not in passage 2")
    searched: str = ""  # what was searched: the question, or a follow-up rewritten to stand alone
    short: str = ""  # the short answer it leads with ("Nitin Desai"), verbatim from its first quote; "" when none

    def __str__(self) -> str:
        lines = [self.note] if self.note else []
        lines.append(self.text)
        lines += [str(c) for c in self.citations]
        lines += [f"  maybe related: {p}" for p in self.related]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .render import answer_html

        return answer_html(self)

    def to_dict(self) -> dict:
        """Plain JSON-ready form (for `qa ask --json` and HTTP clients)."""
        return asdict(self)


__all__ = ["Answer", "Citation", "Passage"]
