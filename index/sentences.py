"""Paragraphs and sentences as character spans of the original text.

A small rule-based splitter rather than a model: it must give exact offsets, work the same in English
and French, and cope with hard-wrapped lines and numbered lists. Known limits: it does not know every
abbreviation, so an unknown "Abbr." followed by a capital splits a sentence; chunks carry several
sentences, so such a split costs little.
"""
from __future__ import annotations

import re

Span = tuple[int, int]

_PARA_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
# End of sentence: . ! ? … (optionally followed by closing quotes/brackets), then space, then a
# plausible sentence start (capital, digit, quote, dash, bullet).
_SENT_END = re.compile(r"""[.!?…]+["'»”’)\]]*(?=\s+["'«“(\[\-–—•*]?\s*[A-ZÀ-ÖØ-Þ0-9])""")
_ABBREV = {
    "mr", "mrs", "ms", "dr", "st", "no", "nos", "vs", "etc", "e.g", "i.e", "cf", "art", "p", "pp",
    "m", "mm", "mme", "mmes", "mlle", "me", "pr", "dr", "n°", "vol", "ch", "fig", "jan", "feb", "av",
    "inc", "ltd", "co", "corp", "gen", "sec", "gov", "sept", "oct", "nov", "dec", "approx", "ca",
}


def paragraphs(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Spans of blank-line separated paragraphs, trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans, pos = [], start
    for m in _PARA_BREAK.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans inside [start, end), each trimmed; never across paragraphs; list items and
    headings on their own line are sentences."""
    out = []
    items = [item for pa, pb in paragraphs(text, start, end) for item in _lines_as_items(text, pa, pb)]
    for a, b in items:
        pos = a
        for m in _SENT_END.finditer(text, a, b):
            word = re.search(r"([\w.°]+)[.!?…]*$", text[pos : m.start() + 1])
            w = word.group(1).lower().rstrip(".") if word else ""
            if m.group().startswith(".") and (w in _ABBREV or (len(w) == 1 and w.isalpha())):
                continue  # "Mr. Utsumi", "M. Desai", initials
            if w.isdigit() and text[m.start() - len(w) - 1 : m.start() - len(w)] in ("\n", "") :
                continue  # "1." opening a numbered line
            out.append((pos, m.end()))
            pos = m.end()
        out.append((pos, b))
    return [s for s in (_trim(text, a, b) for a, b in out) if s[1] > s[0]]


def _lines_as_items(text: str, start: int, end: int) -> list[Span]:
    """Split a paragraph before list items ("- x", "• x", "1) x") and after short or all-capitals lines."""
    cuts = [start]
    for m in re.finditer(r"\n(?=[ \t]*(?:[-•*–·]\s|\d+[.)]\s|[a-z]\)\s))", text[start:end]):
        cuts.append(start + m.start() + 1)
    # a short line (heading, date, salutation) or an all-capitals line ends its own sentence
    for m in re.finditer(r"(?m)^([^\n]*)\n(?=[ \t]*[A-ZÀ-ÖØ-Þ0-9(«\"])", text[start:end]):
        line_start = text.rfind("\n", 0, start + m.start()) + 1  # the whole line, even before `start`
        line = text[line_start : start + m.end() - 1].strip()
        if line and (len(line) < 45 or not any(ch.islower() for ch in line)):
            cuts.append(start + m.end())
    cuts = sorted(set(cuts))
    cuts.append(end)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _trim(text: str, a: int, b: int) -> Span:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
