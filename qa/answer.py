"""Extractive answers: the sentence(s) that answer, quoted verbatim, each with its [n] citation.

No language model: the answer is built from the source's own sentences, so every claim is a quote.
Each candidate sentence of the best passages is scored by its cosine similarity to the question
(the same embedder) plus the share of the question's terms it contains. The best sentence's score is
the evidence: under a threshold calibrated on the seeds dev set (`qa eval`), the answer says the
documents do not say, and offers the closest passages as "maybe related" only if they come close.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from index import bm25 as bm25mod
from index.chunker import clean
from index.ingest import twin_min_similarity
from index.sentences import sentences

from .retrieval import Candidate
from .types import Answer, Citation, Passage

LEXICAL_WEIGHT = 0.15  # weight of the question-term overlap beside the cosine similarity
ABSTAIN_BELOW = {"e5-small": 0.925}  # evidence under this: "the documents do not say" (calibrated, see README)
ABSTAIN_DEFAULT = 0.5  # for other embedders, whose cosines live on other scales: set QA_ABSTAIN_BELOW
UNKNOWN_NAME_PENALTY = 0.1  # per name in the question that no indexed passage contains (Australia, ICANN)
RELATED_ABOVE = 0.82  # passages offered as "maybe related" when not answering (off-topic questions: 0.73–0.80)
SECOND_WITHIN = 0.03  # a second sentence is quoted if its score is this close to the best
MIN_SENTENCE_CHARS = 25
MIN_FACT_CHARS = 12  # a shorter line is a candidate if it holds a number (a date, a fax number)
RANK_BONUS = 0.1  # the best passage's sentences get this much, the second's half, ...
# the quote around the best sentence (window(); chosen with eval/sweep.py, README)
WINDOW_CHARS = 400  # the longest quote a window makes
WINDOW_NEXT = 1  # sentences quoted after the best one, in its paragraph
WINDOW_PREV = True  # an unpunctuated line (letterhead, address) takes the line before
WINDOW_LEAD = True  # a lead-in ending with ':' takes the block after it

MESSAGES = {
    "en": {"lead": "According to the documents: ", "in": " (in {lang})", "none":
           "The documents do not say. I found no passage that answers this question.",
           "other": "Your question seems to be in {lang}; I answer in English, the documents being in English and French."},
    "fr": {"lead": "D’après les documents : ", "in": " (en {lang})", "none":
           "Les documents ne le disent pas : aucun passage ne répond à cette question.",
           "other": ""},
}
LANG_NAMES = {"en": {"en": "English", "fr": "French"}, "fr": {"en": "anglais", "fr": "français"}}


MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|janvier|"
          "février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre")
# (what the question asks for, how a question asks it, what a sentence that answers it contains)
ANSWER_TYPES = [
    ("person", r"^(?:who|whom|whose|qui)\b|\b(?:who|qui)\b",
     r"\b(?:M\.|Mr\.?|Mrs\.?|Ms\.?|Mme|Monsieur|Madame|Dr\.?)\s+[A-ZÀ-Þ]|(?<!^)\b[A-ZÀ-Þ][a-zà-ÿ]+\s+[A-ZÀ-Þ][a-zà-ÿš]+"),
    ("date", r"\b(?:when|what date|which date|what month|what year|quand|quelle date|quel mois|quelle année|"
             r"à quelle date|de quand)\b", rf"\b(?:19|20)\d\d\b|\b(?:{MONTHS})\b"),
    ("number", r"\b(?:how many|how much|combien|quel numéro|what number)\b", r"\d"),
    ("place", r"\b(?:where|où|dans quel(?:le)? (?:ville|pays)|in which (?:city|country))\b",
     r"\b(?:à|au|en|in|at)\s+[A-ZÀ-Þ][a-zà-ÿ]"),
]
CROSS_LINGUAL_SENTENCE_BONUS = 0.08  # offsets e5's preference for sentences in the question's language (README)
TYPE_BONUS = 0.04  # a sentence holding what the question asks for (a name for "who", a date for "when")


def expected_types(question: str) -> list[str]:
    q = question.lower()
    return [name for name, asks, _ in ANSWER_TYPES if re.search(asks, q)]


def has_type(sentence: str, types: list[str]) -> bool:
    return any(re.search(pattern, sentence, re.IGNORECASE if name != "person" else 0)
               for name, _, pattern in ANSWER_TYPES if name in types)


@dataclass(frozen=True)
class Sentence:
    cand: Candidate
    start: int  # offsets in the source file
    end: int
    text: str
    score: float = 0.0
    source: str = ""  # the text the offsets index (the file's, or the chunk's padded to its offset)
    vec: np.ndarray | None = field(default=None, compare=False, repr=False)  # its embedding, once scored


def is_heading(s: str) -> bool:
    """A numbered title ("8. Participation de la société civile à la Phase II") or a short line
    without a final stop names a topic without saying anything about it: never the answer alone. A
    short line with a number in it ("Fax : 41 22 789 53 82", "Le 11 juillet 2005") is a fact, not a
    title. (A long title in capitals stays a candidate: "DECLARATION ..., PRESENTEE PAR LE CAUCUS"
    says who presented it.)"""
    s = s.strip()
    ends = s[-1:] in ".!?»”\"'…;:"
    if ends:
        return False
    numbered = re.match(r"\d+[.)]\s", s) is not None
    return numbered or (len(s) < 40 and not re.search(r"\d", s))


def split(cands: list[Candidate]) -> list[tuple[int, Sentence]]:
    """(rank of the passage, sentence) for the answerable sentences of each candidate passage."""
    out = []
    for rank, c in enumerate(cands):
        # split in the whole file, not the chunk alone, so a chunk's first line is seen whole
        text = source_text(c.row.path)
        if text is None or text[c.row.start : c.row.end] != c.row.text:
            text, base = c.row.text, c.row.start
            spans = [(a + base, b + base) for a, b in sentences(text)]
            text = " " * base + text  # offsets below index the file
        else:
            spans = sentences(text, c.row.start, c.row.end)
        for a, b in spans:
            s = text[a:b]
            if (len(s) >= MIN_SENTENCE_CHARS or re.search(r"\d", s) and len(s) >= MIN_FACT_CHARS) and not is_heading(s):
                out.append((rank, Sentence(c, a, b, s, source=text)))
    return out


def _source(path: str):
    from index.loader import read_current

    try:
        return read_current(path)
    except Exception:  # moved or unreadable since indexing: fall back to the chunk text
        return None


def source_text(path: str) -> str | None:
    src = _source(path)
    return src.text if src is not None else None


def cited_passage(s: Sentence) -> Passage:
    """The candidate's passage, widened to the quote when the quote's window runs past it, so a
    citation's quote always lies inside its passage (both verbatim at their offsets)."""
    p = s.cand.passage()
    if p.start <= s.start and s.end <= p.end:
        return p
    src = _source(p.source)
    if src is None or src.text is not s.source:
        return p
    lo, hi = min(p.start, s.start), max(p.end, s.end)
    return replace(p, text=src.text[lo:hi], start=lo, end=hi, where=src.where(lo, hi),
                   lines=(src.text.count("\n", 0, lo) + 1, src.text.count("\n", 0, max(lo, hi - 1)) + 1))


def score(question: str, qvec: np.ndarray, sents: list[tuple[int, Sentence]], embedder, qlang: str = "") -> list[Sentence]:
    """Sentence score: cosine to the question + share of question terms present + the passage's rank
    + whether it holds the kind of thing asked for."""
    if not sents:
        return []
    vecs = embedder.embed([clean(s.text) for _, s in sents], "passage")
    qterms = set(bm25mod.query_terms(question))
    nwords = max(1, len(set(bm25mod.words(question))))
    types = expected_types(question)
    out = []
    for (rank, s), v in zip(sents, vecs):
        terms = set(bm25mod.doc_terms(clean(s.text), s.cand.row.lang))
        overlap = min(1.0, len(qterms & terms) / nwords)
        value = float(v @ qvec) + LEXICAL_WEIGHT * overlap + RANK_BONUS / (1 + rank)
        value += TYPE_BONUS if types and has_type(s.text, types) else 0.0
        value += CROSS_LINGUAL_SENTENCE_BONUS if qlang and s.cand.row.lang != qlang else 0.0
        out.append(Sentence(s.cand, s.start, s.end, s.text, value, s.source, v))
    out.sort(key=lambda s: -s.score)
    return prefer_question_language(out, qlang, twin_min_similarity(embedder))


def prefer_question_language(ranked: list[Sentence], qlang: str, similarity: float) -> list[Sentence]:
    """When the best sentence is in the other language and a translation of it in the question's
    language is among the candidates (seed 000 says everything twice), quote the translation: the
    bonus that lets other-language sentences compete must not push out the question's own language."""
    if not qlang or not ranked or ranked[0].cand.row.lang == qlang or ranked[0].vec is None:
        return ranked
    best = ranked[0]
    for i, s in enumerate(ranked[1:], 1):
        if s.cand.row.lang == qlang and s.vec is not None and float(s.vec @ best.vec) >= similarity:
            return [replace(s, score=best.score)] + ranked[1:i] + ranked[i + 1 :] + [best]
    return ranked


def _translates(a: Sentence, b: Sentence, similarity: float) -> bool:
    """Is one sentence the other's translation? The cosine above which the index links translated
    passages (index.ingest.TWIN_MIN_SIMILARITY_OF: per model)."""
    return (a.cand.row.lang != b.cand.row.lang and a.vec is not None and b.vec is not None
            and float(a.vec @ b.vec) >= similarity)


def _neighbour(text: str, start: int, end: int, after: bool) -> tuple[int, int] | None:
    """The sentence (or list item, or line of an address) right after [start, end), or right before."""
    if after:
        spans = sentences(text, end, min(len(text), end + 2 * WINDOW_CHARS))
        return spans[0] if spans else None
    para = text.rfind("\n\n", 0, start)
    spans = sentences(text, max(0, para, start - 2 * WINDOW_CHARS), start)
    return spans[-1] if spans else None


def window(s: Sentence) -> Sentence:
    """The quote around the best sentence: the sentence alone says what the question asks about more
    often than the answer to it, which tends to come next ("On 26-27 February, the ITU will organise
    a meeting... This will take place outside the WSIS process."). So the next sentence of the same
    paragraph is quoted too; a lead-in ending with ":" takes the block that follows (list items, an
    address); a line without a final stop (a letterhead, a title) takes the line before. All within
    WINDOW_CHARS, as one verbatim span of the file."""
    text = s.source
    if not text:
        return s
    a, b = s.start, s.end
    if WINDOW_LEAD and text[a:b].rstrip().endswith(":"):
        first = True  # the block may start after a blank line; it ends at the next one
        while (nxt := _neighbour(text, a, b, after=True)) and nxt[1] - a <= WINDOW_CHARS:
            if not first and "\n\n" in text[b : nxt[0]]:
                break
            b, first = nxt[1], False
    else:
        for _ in range(WINDOW_NEXT):
            nxt = _neighbour(text, a, b, after=True)
            if not nxt or "\n\n" in text[b : nxt[0]] or nxt[1] - a > WINDOW_CHARS or is_heading(text[nxt[0] : nxt[1]]):
                break
            b = nxt[1]
    if WINDOW_PREV and not _ends(text[s.start : s.end]):
        prv = _neighbour(text, a, b, after=False)
        if prv is not None and "\n\n" not in text[prv[1] : a] and b - prv[0] <= WINDOW_CHARS:
            a = prv[0]
    return Sentence(s.cand, a, b, text[a:b], s.score, text)


def _ends(s: str) -> bool:
    return s.rstrip()[-1:] in ".!?»”\"'…;:"


def unknown_names(question: str, knows) -> list[str]:
    """Capitalised words of the question (after the first) that no indexed passage contains, under
    either stemmer: a question about "Australia" is not answered by documents that never name it."""
    words = re.findall(r"\w+", question)[1:]
    return [w for w in words if w[:1].isupper() and len(w) > 2 and not any(map(knows, bm25mod.query_terms(w)))]


def compose(question: str, qlang: str, qvec: np.ndarray, cands: list[Candidate], embedder, *,
            threshold: float, knows=lambda term: True, note: str = "", top: int = 3) -> tuple[Answer, float]:
    """Build the answer from the best candidates; returns it with the evidence score that decided it."""
    msg = MESSAGES[qlang if qlang in MESSAGES else "en"]
    ranked = score(question, qvec, split(cands[:top]), embedder, qlang)
    evidence = ranked[0].score if ranked else 0.0
    unknown = unknown_names(question, knows)
    evidence -= UNKNOWN_NAME_PENALTY * len(unknown)
    if evidence < threshold:
        # nothing is "related" to a question about something the documents never name
        related = [] if unknown else [c.passage() for c in cands[:3] if c.dense >= RELATED_ABOVE]
        return Answer(msg["none"], qlang, False, [], related, note), evidence
    chosen = [window(ranked[0])]
    for s in ranked[1:]:
        if s.score >= chosen[0].score - SECOND_WITHIN and clean(s.text) != clean(chosen[0].text):
            first = chosen[0].cand.row
            quoted = [r for r in ranked if r.cand.row.path == first.path and chosen[0].start <= r.start and r.end <= chosen[0].end]
            if s.cand.row.id == first.twin or s.cand.row.twin == first.id or any(_translates(s, r, twin_min_similarity(embedder)) for r in quoted):
                continue  # a translation of what the first quote says adds nothing
            s = window(s)
            if s.cand.row.path == first.path and s.start < chosen[0].end and chosen[0].start < s.end:
                continue  # inside the first quote's window
            chosen.append(s)
            break
    pieces, cites = [], []
    for n, s in enumerate(chosen, 1):
        p = cited_passage(s)
        cites.append(Citation(n, s.text, p, s.start, s.end))
        tag = msg["in"].format(lang=LANG_NAMES[qlang if qlang in LANG_NAMES else "en"][p.lang]) if p.lang != qlang else ""
        quote = f"« {clean(s.text)} »" if qlang == "fr" else f"“{clean(s.text)}”"
        pieces.append(f"{quote}{tag} [{n}]")
    return Answer(msg["lead"] + " ".join(pieces), qlang, True, cites, [], note), evidence
