"""Where a quote begins and ends: the shapes of a document's text (headings, titles in capitals, a list
announced by a lead-in, the lines of an address) and the window quoted around the best sentence.

Offsets only: every function reads the file's text and returns positions into it, so whatever it
decides, the quote stays one verbatim span of the file.
"""
from __future__ import annotations

import re

from index.sentences import sentences

_LIST_ITEM = re.compile(r"[ \t]*(?:[-–—•·*▪◦]|\d{1,2}[.)]|[a-z][.)])[ \t]+\S")


def ends(s: str) -> bool:
    """Does it end as a sentence does (a final stop, a closing quote, a colon)?"""
    return s.rstrip()[-1:] in ".!?»”\"'…;:"


def is_heading(s: str) -> bool:
    """A numbered title ("8. Participation de la société civile à la Phase II") or a short line
    without a final stop names a topic without saying anything about it: never the answer alone. A
    short line with a number in it ("Fax : 41 22 789 53 82", "Le 11 juillet 2005") is a fact, not a
    title. (A long title in capitals stays a candidate: "DECLARATION ..., PRESENTEE PAR LE CAUCUS"
    says who presented it.)"""
    s = s.strip()
    if ends(s):
        return False
    numbered = re.match(r"\d+[.)]\s", s) is not None
    return numbered or (len(s) < 40 and not re.search(r"\d", s))


def is_title(s: str) -> bool:
    """A line in capitals without a final stop ("DECLARATION SUR LE GROUPE DE TRAVAIL..."): a document's
    title names its subject, so it shares the words of most questions about it, and answers few."""
    letters_ = [c for c in s if c.isalpha()]
    return bool(letters_) and not ends(s) and sum(c.isupper() for c in letters_) >= 0.8 * len(letters_)


def neighbour(text: str, start: int, end: int, after: bool, reach: int) -> tuple[int, int] | None:
    """The sentence (or list item, or line of an address) right after [start, end), or right before."""
    if after:
        spans = sentences(text, end, min(len(text), end + 2 * reach))
        return spans[0] if spans else None
    para = text.rfind("\n\n", 0, start)
    spans = sentences(text, max(0, para, start - 2 * reach), start)
    return spans[-1] if spans else None


def block_after(text: str, a: int, b: int, limit: int) -> int:
    """The end of the block after a lead-in (list items, the lines of an address), within `limit` of
    `a`: it may start after a blank line and ends at the next one."""
    first = True
    while (nxt := neighbour(text, a, b, True, limit)) and nxt[1] - a <= limit:
        if not first and "\n\n" in text[b : nxt[0]]:
            break
        b, first = nxt[1], False
    return b


def list_follows(text: str, end: int) -> bool:
    """Does a list start on the line after `end` (a blank line between allowed)? A lead-in is a lead-in
    whatever its last character: "Celles-ci incluent." announces the items below it as ":" would."""
    nl = text.find("\n", end)
    if nl < 0 or text[end:nl].strip():
        return False  # the sentence does not end its line
    rest = text[nl + 1 : nl + 400].lstrip("\n")
    lines = rest.split("\n", 2)
    return len(lines) >= 2 and all(_LIST_ITEM.match(line) for line in lines[:2])


def grow(text: str, a: int, b: int, count: int, after: bool, limit: int) -> tuple[int, int]:
    """[a, b) with up to `count` more sentences of its paragraph after it (or before it), while the
    whole stays within `limit` characters and no heading is taken in."""
    for _ in range(count):
        s = neighbour(text, a, b, after, limit)
        if (not s or "\n\n" in (text[b : s[0]] if after else text[s[1] : a])
                or max(b, s[1]) - min(a, s[0]) > limit or is_heading(text[s[0] : s[1]])):
            break
        a, b = (a, s[1]) if after else (s[0], b)
    return a, b


# a sentence opening with one of these points back to the one before it ("This", "He", "Cette", "Ce dernier")
POINTS_BACK = re.compile(r"^\W*(?:this|these|that|those|it|its|he|she|they|his|her|their|such|the latter|"
                         r"il|elle|ils|elles|ce|cet|cette|ces|cela|ceci|celui|celle|ceux|celles|son|sa|ses|leur|leurs)\b",
                         re.IGNORECASE)


def window(text: str, start: int, end: int, *, limit: int, next_: int, prev: bool, lead: bool,
           before: int = 0, back_only: bool = False) -> tuple[int, int]:
    """The span quoted around the sentence [start, end) of `text`: the sentence alone says what the
    question asks about more often than the answer to it, which tends to come next ("On 26-27 February,
    the ITU will organise a meeting... This will take place outside the WSIS process."). So up to
    `next_` following sentences of the same paragraph are quoted too; with `lead`, a lead-in ending with
    ":" (or followed by a list) takes the block that follows (list items, an address); with `prev`, a
    line without a final stop (a letterhead, a title) takes the line before. All within `limit`
    characters. With `before`, up to that many sentences before it in its paragraph come first (what
    "This", "he" or "Cette" point back to: "Union forces then retreated to Jacksonville" follows the
    sentence naming the battle); with `back_only`, only when it opens by pointing back (POINTS_BACK)."""
    a, b = grow(text, start, end, before if not back_only or POINTS_BACK.match(text[start:end]) else 0, False, limit)
    if lead and (text[a:b].rstrip().endswith(":") or list_follows(text, b)):
        b = block_after(text, a, b, limit)
    else:
        a, b = grow(text, a, b, next_, True, limit)
        if lead and b > end and list_follows(text, b):  # the next sentence announces a list
            b = block_after(text, a, b, limit)
    if prev and not ends(text[start:end]):
        prv = neighbour(text, a, b, False, limit)
        if prv is not None and "\n\n" not in text[prv[1] : a] and b - prv[0] <= limit:
            a = prv[0]
    return a, b


def fill(text: str, start: int, end: int, lo: int, hi: int, limit: int) -> tuple[int, int]:
    """[start, end) of `text` (whole sentences), then the whole sentences after it, then those before
    it, while the span stays within [lo, hi) and `limit` characters: a passage widened for showing,
    what follows it first (where an answer tends to be: the list after a lead-in, the name after the
    sentence that matched), what came before it in the room left."""
    a, b = start, end
    for _, y in sentences(text, b, hi):
        if y - a > limit:
            break
        b = y
    for x, _ in reversed(sentences(text, lo, a)):
        if b - x > limit:
            break
        a = x
    return a, b
