"""Where a model's quote is in its passage's file, or that it is not: the check between what a model
writes and what an answer shows.

`locate` tries, in order, within the passage's [start, end) of the file's text:
  1. the quote verbatim;
  2. the quote folded (case, accents, whitespace, quotes ’ ' « », dashes, punctuation all ignored: the
     letters and digits in order), mapped back to the file's own characters at their offsets;
  3. the passage's sentence the quote nearly is (words in order, `similarity`; every number and name
     of the quote in it): a model's paraphrase ("Il a constitué" for "J'ai constitué") is replaced by
     the sentence it paraphrases.
Else the claim is dropped. Whatever is kept is `text[start:end]`, the file's own characters.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from index.loader import Sources
from index.sentences import sentences
from index.types import Passage

from .llm_client import loads_lenient

MIN_WORDS, MIN_CHARS = 2, 8  # a shorter quote ("2004", "ITU") supports nothing by itself
EDGE_WORDS = 3  # a replacement this close to its sentence's start or end runs to it
FUZZY_WORDS = 4  # a shorter quote is taken verbatim or folded, never replaced
# a quote this close to part of a sentence is replaced by it (resemblance): hand-made paraphrases score
# 0.87-0.98, invented or changed quotes 0-0.77 once numbers and negations are checked (tests/test_llm.py)
SIMILARITY = 0.84

# why a claim was dropped, in the question's language (Answer.dropped_why, and the note when none is kept)
WHY = {
    "en": {"no passage": "passage {n} does not exist", "changed": "{name} changed since it was indexed",
           "not found": "quote not in passage {n}", "number": "claim's number {number} not in its quote",
           "no claim": "it gave no claim"},
    "fr": {"no passage": "le passage {n} n’existe pas", "changed": "{name} a changé depuis son indexation",
           "not found": "citation absente du passage {n}",
           "number": "le nombre {number} de l’affirmation n’est pas dans sa citation",
           "no claim": "il n’a fait aucune affirmation"},
}


@dataclass(frozen=True)
class Claim:
    claim: str  # the statement, in the question's language
    passage: int  # 1-based number of the passage it cites, as the model was shown them
    quote: str  # what the model says the passage says


@dataclass(frozen=True)
class Located:
    start: int  # offsets of the quote in the file's text
    end: int
    how: str  # "verbatim", "folded" or "replaced"
    similarity: float = 1.0


def fold(text: str, start: int = 0, end: int | None = None) -> tuple[str, list[int]]:
    """The letters and digits of text[start:end], case-folded and without accents, and for each
    folded character the offset of the character it came from."""
    out, where = [], []
    for i in range(start, len(text) if end is None else end):
        ch = text[i]
        if not ch.isalnum():
            continue
        for c in unicodedata.normalize("NFKD", ch.casefold()):
            if c.isalnum() and not unicodedata.combining(c):
                out.append(c)
                where.append(i)
    return "".join(out), where


def words(text: str) -> list[str]:
    """The words of text, case-folded and without accents."""
    return [fold_word(w) for w in re.findall(r"\w+", text)]


def _bounded(text: str, a: int, b: int) -> bool:
    """Does [a, b) start and end at word edges (not in the middle of a word)?"""
    inside = lambda i: 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum()  # noqa: E731
    return b > a and not inside(a) and not inside(b)


def locate(quote: str, text: str, start: int, end: int, similarity: float | None = SIMILARITY) -> Located | None:
    """Where `quote` is in text[start:end] (see the module's docstring), or None. `similarity` None:
    verbatim or folded only."""
    quote = quote.strip().strip("\"'«»“”‘’ ").strip()
    if len(words(quote)) < MIN_WORDS or len(fold(quote)[0]) < MIN_CHARS:
        return None
    i = text.find(quote, start, end)
    while i >= 0:
        if _bounded(text, i, i + len(quote)):
            return Located(i, i + len(quote), "verbatim")
        i = text.find(quote, i + 1, end)
    folded_quote = fold(quote)[0]
    folded, where = fold(text, start, end)
    i = folded.find(folded_quote)
    while i >= 0:
        a, b = where[i], where[i + len(folded_quote) - 1] + 1
        if _bounded(text, a, b):
            return Located(a, b, "folded")
        i = folded.find(folded_quote, i + 1)
    return None if similarity is None else nearest_sentence(quote, text, start, end, similarity)


def nearest_sentence(quote: str, text: str, start: int, end: int, similarity: float) -> Located | None:
    """The passage's text the quote paraphrases: within one sentence, the words from the first to the
    last that the quote shares with it in order (to the sentence's edge if within EDGE_WORDS of it),
    if `resemblance` >= `similarity` and every number and capitalised word (after the first) of the
    quote is in them."""
    q = words(quote)
    if len(q) < FUZZY_WORDS:
        return None
    best = None
    for a, b in sentences(text, start, end):
        spans = [(m.start() + a, m.end() + a) for m in re.finditer(r"\w+", text[a:b])]
        score, first, last = resemblance(q, [fold_word(text[x:y]) for x, y in spans])
        if score < similarity or (best is not None and score <= best.similarity):
            continue
        # a few words short of the sentence's edges ("Il a constitué" for "J'ai constitué"): to the edge
        lo = a if first <= EDGE_WORDS else spans[first][0]
        hi = b if len(spans) - last <= EDGE_WORDS else spans[last - 1][1]
        if _same_facts(quote, text[lo:hi]):
            best = Located(lo, hi, "replaced", score)
    return best


def resemblance(q: list[str], s: list[str]) -> tuple[float, int, int]:
    """How nearly the word sequence q is a part of s: (difflib's ratio 2M / (len(q) + len(part)), where
    M words of q are found in order in s, the part of s from the first to the last of them; its first
    and end word indexes in s). A quote that is a paraphrase of a sentence's first half still scores high."""
    blocks = [m for m in SequenceMatcher(None, q, s, autojunk=False).get_matching_blocks() if m.size]
    if not q or not blocks:
        return 0.0, 0, 0
    matched, first, last = sum(m.size for m in blocks), blocks[0].b, blocks[-1].b + blocks[-1].size
    return 2 * matched / (len(q) + last - first), first, last


def fold_word(w: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", w.casefold()) if not unicodedata.combining(c))


NEGATIONS = {"not", "no", "never", "nor", "none", "t", "ne", "n", "pas", "jamais", "aucun", "aucune", "ni", "non", "sans"}


def _same_facts(quote: str, sentence: str) -> bool:
    """Every number and every capitalised word after the first of the quote is in the sentence, and
    both deny the same ("has established" is not "has not yet established")."""
    have, said = set(words(sentence)), set(words(quote))
    nums = re.findall(r"\d+", quote)
    names = [w for w in re.findall(r"\w+", quote)[1:] if w[:1].isupper()]
    return (all(n in have for n in nums) and all(w in have for n in names for w in words(n))
            and have & NEGATIONS == said & NEGATIONS)


# -- the claims in a model's reply ---------------------------------------------------------------
_LINE = re.compile(r"\[(\d{1,2})\]|\((\d{1,2})\)|passage\s*(\d{1,2})", re.IGNORECASE)
_QUOTED = re.compile(r"«\s*([^»]{8,}?)\s*»|“([^”]{8,}?)”|\"([^\"]{8,}?)\"")


def claims_from(raw: str) -> list[Claim]:
    """The claims in the model's reply: JSON as asked ({"claims": [...]}, a list, or one claim),
    even cut short; else lines of prose that name a passage ([2], (2), passage 2) and quote it."""
    got = loads_lenient(raw)
    if isinstance(got, dict):
        got = got.get("claims", [got])
    if isinstance(got, list) and (not got or any(isinstance(c, dict) for c in got)):
        return [c for c in map(_claim, got) if c is not None]
    out = []
    for line in (raw or "").splitlines():
        n, q = _LINE.search(line), _QUOTED.search(line)
        if n and q:
            quote = next(g for g in q.groups() if g)
            rest = _LINE.sub("", line.replace(q.group(0), "")).strip(" -–—:*.\t")
            out.append(Claim(rest, int(next(g for g in n.groups() if g)), quote))
    return out


def _claim(item) -> Claim | None:
    if not isinstance(item, dict):
        return None
    n = re.search(r"\d+", str(item.get("passage", "")))
    quote, claim = item.get("quote"), item.get("claim", "")
    if n is None or not isinstance(quote, str):
        return None
    return Claim(claim if isinstance(claim, str) else "", int(n.group()), quote)


def streamed_text(raw: str) -> str:
    """The claims' statements in a JSON reply still being written: what a page shows while it waits."""
    out = []
    for m in re.finditer(r'"claim"\s*:\s*"((?:[^"\\]|\\.)*)("?)', raw):
        body = m.group(1) if m.group(2) else re.sub(r"\\(u[0-9a-fA-F]{0,3})?$", "", m.group(1))
        try:
            out.append(json.loads(f'"{body}"'))
        except ValueError:
            continue
    return " ".join(out)


def check_claims(claims: list[Claim], passages: list[Passage], sources: Sources, similarity: float,
                 lang: str = "en") -> tuple[list[tuple[Claim, Passage, Located]], list[str]]:
    """(claims kept, each with the passage its quote is in and where; why each other claim was dropped,
    in `lang`, "en" or "fr": WHY).

    A quote is looked for in the passage its claim names; if it is not there, verbatim or folded in
    another of the passages shown (small models miscount), which is then the one cited."""
    readable = [p for p in passages if (t := sources.text(p.source)) is not None and t[p.start : p.end] == p.text]
    why = WHY.get(lang, WHY["en"])
    kept, dropped = [], []
    for c in claims:
        if not 1 <= c.passage <= len(passages):
            dropped.append(why["no passage"].format(n=c.passage))
            continue
        named = passages[c.passage - 1]
        if named not in readable:
            dropped.append(why["changed"].format(name=named.name))
            continue
        found = _find(c.quote, named, sources, similarity)
        for other in readable:
            if found is not None:
                break
            found = None if other is named else _find(c.quote, other, sources, None)
        if found is None:
            dropped.append(why["not found"].format(n=c.passage))
            continue
        p, at = found
        quote = sources.text(p.source)[at.start : at.end]
        missing = [n for n in re.findall(r"\d+", c.claim) if n not in re.findall(r"\d+", quote)]
        if missing:
            dropped.append(why["number"].format(number=missing[0]))
            continue
        kept.append((c, p, at))
    return kept, dropped


def _find(quote: str, p: Passage, sources: Sources, similarity: float | None) -> tuple[Passage, Located] | None:
    at = locate(quote, sources.text(p.source), p.start, p.end, similarity)
    return None if at is None else (p, at)
