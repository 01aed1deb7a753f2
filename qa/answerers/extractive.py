"""Extractive answers: the sentence(s) that answer, quoted verbatim, each with its [n] citation.

No generative model: the answer is built from the source's own sentences, so every claim is a quote.
Each candidate sentence of the best passages (and of the chunks beside the best one in its file, where
the answer to what it matched often is) is scored by its cosine similarity to the question (the same
embedder) plus the share of the question's terms it contains; the best of them are then
read by the reader (qa.reader, a small cross-encoder), whose logit corrects the score (`read`). The
best sentence's score without the reader's part is the evidence: under a threshold calibrated on the
seeds dev set (`qa eval`), the answer says the documents do not say, and offers the closest passages
as "maybe related" only if they come close.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from index import bm25 as bm25mod
from index.chunker import clean, embedded
from index.letters import letters
from index.loader import Sources
from index.sentences import sentences
from index.types import Passage

from ..types import Answer, Citation
from .base import LANG_NAMES, MESSAGES, Answerer, Query
from .cues import (CONTACT_TYPES, expected_types, has_type, letter_parts, names_a_letter, prose, question_words,
                   shares, short_answer, unknown_names)
from .reading import load_reader, passage_reads, read, span_of  # noqa: F401 (load_reader: part of this module's API)
from .spans import is_heading, is_title, window as span


@dataclass(frozen=True)
class ExtractiveSettings:
    """The extractive answer's tuning (README, "The answer"); chosen with eval/sweep on the dev sets."""
    lexical_weight: float = 0.20  # weight of the question-term overlap beside the cosine similarity
    unknown_name_penalty: float = 0.1  # per name in the question that no indexed passage contains (Australia, ICANN)
    translated_names: bool = False  # ... nor translates (index.lexicon, acronyms-en-fr.tsv): off, it lost seeds abstention 0.750 -> 0.583 (REPORT, 2026-12-03)
    related_above: float = 0.82  # passages offered as "maybe related" when not answering (off-topic: 0.73–0.80)
    second_within: float = 0.06  # a second sentence is quoted if its score is this close to the best (sweep: 0.03 -> 0.06)
    answer_chars: int = 0  # ... and if both quotes fit in this many characters (0: each in its window)
    second_typed: bool = False  # ... and, when the question asks for a kind of thing (a name, a date), if it holds one (off: lower on the train slices)
    second_typed_after_short: bool = False  # ... only when the first quote gave the short answer ("Nitin Desai [1]"; off: PIAF one question lower, eval/sweep-second-quote.md)
    min_sentence_chars: int = 25
    min_fact_chars: int = 12  # a shorter line is a candidate if it holds a number (a date, a fax number)
    rank_bonus: float = 0.1  # the best passage's sentences get this much, the second's half, ...
    cross_lingual_sentence_bonus: float = 0.08  # offsets e5's preference for the question's language
    short_answers: bool = True  # lead with the name, date or number asked for when the quote holds exactly one
    span_reader: bool = True  # ... or the words the short-answer reader (qa.reader.span) finds in the best sentence
    span_min: float = 6.0  # ... when it prefers them to "no short answer here" by this margin (chosen on the seeds and the Paris Call train split: eval/2026-12-07b)
    title_penalty: float = 0.03  # a title in capitals, under the sentences that say something (is_title)
    type_bonus: float = 0.06  # a sentence holding what the question asks for (a name for "who", a date for "when")
    contact_bonus: float = 0.2  # a contact line the question asks for by name ("Fax : ..." for "the fax number")
    contact_top: int = 8  # passages whose contact lines are candidates for such a question
    top: int = 3  # passages whose sentences are candidates
    neighbours: int = 1  # ... and the chunks this close to the best passage in its file (0: none; REPORT 2026-12-03)
    neighbour_rank: int = 0  # the passage rank their sentences score at (rank_bonus): as the best passage's own
    neighbours_in_rerank: bool = False  # retrieve()'s rerank reads them too, and may return one first (off: R@1 lower, accuracy the same)
    rerank_depth: int = 5  # retrieval's first passages reordered by their best sentence (rerank; 0: off)
    passage_chars: int = 450  # ... each widened to this many characters, the sentences after it first (0: the chunks as indexed)
    lexicon: bool = True  # a sentence in the other language shares the question's terms through index.lexicon
    idf_overlap: bool = True  # the overlap weighs each question word by its idf in the collection
    prefix_chars: int = 5  # a word's stem matches a longer one it begins, from this length (0: equal stems only)
    letters: bool = True  # a letter's date, signature and addressee lines answer when, who signed, to whom
    letter_part_discount: float = 0.01  # under its letter's best sentence with the type bonus
    letter_named_bonus: float = 0.1  # ... and this much over it when the question names a letter ("la lettre")
    letter_signatory: bool = False  # a letter's sentence in the first person ("J'ai constitué...") also holds its signatory's name (off: seeds R@1 +1 question, no answer changed; REPORT 2026-12-04)
    # the quote around the best sentence (window())
    window_chars: int = 450  # the longest quote a window makes
    window_next: int = 2  # sentences quoted after the best one, in its paragraph
    window_before: int = 1  # sentences quoted before the best one, in its paragraph, first (what it points back to)
    window_back_only: bool = True  # ... only when the best one opens by pointing back ("This", "Il", "Cette"); always: PIAF lower (REPORT 2026-12-07)
    window_prev: bool = True  # an unpunctuated line (letterhead, address) takes the line before
    window_lead: bool = True  # a lead-in ending with ':' takes the block after it
    # the reader (qa.reader): a model reading the question and each of the best sentences together
    reader_depth: int = 12  # the best sentences it reads, re-scored as score + its logit / its trained weight (0: off)
    reader_weight: float = 0.5  # times what the reader adds (1: as trained; 0.5 chosen on the seeds: sweep)
    reader_weight_across: float | None = None  # ... to a sentence in another language than the question's (None: reader_weight)
    across_untranslated: bool = False  # ... only in a passage with no translation indexed (a French-only text asked in English)
    across_in_answer: bool = True  # ... in the answer too, not only in retrieve()'s rerank
    # the reader reading each candidate passage whole with the question (up to passage_tokens): its logit
    # / its trained weight x this, added to the scores of the passage's sentences (0: off)
    passage_weight: float = 0.0
    passage_tokens: int = 192
    passage_in_answer: bool = True  # False: only the rerank reads whole passages, the sentence is chosen without it
    evidence_read: float = 0.0  # the share of the reader's part counted in the evidence that decides abstention (0: the score alone)
    context_weight: float = 0.0  # a reader in context's logit (QA_READER_CONTEXT) added to the reader's at this weight: off, 0.25 lost on the test splits (eval/sweep-reader-context-test.md)


DEFAULT = ExtractiveSettings()


# "J'ai constitué", "nous avons", "I have asked": the letter's signatory speaking
FIRST_PERSON = re.compile(r"(?:^|[\s(«\"])(?:(?:[Jj]e|[Nn]ous|[Mm]on|[Mm]a|[Mm]es|I|[Ww]e|[Mm]y|[Oo]ur)(?=[\s,.;:]|$)|[Jj]['’])")


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    start: int  # offsets in the source file
    end: int
    text: str
    score: float = 0.0
    source: str = ""  # the text the offsets index (the file's, or the chunk's padded to its offset)
    vec: np.ndarray | None = field(default=None, compare=False, repr=False)  # its embedding, once scored
    letter: int = -1  # the start of the letter holding it (index.letters), -1 outside letters
    part: str = ""  # a letter's date, signature or addressee line(s); "" for a sentence of the text
    signer: str = ""  # its letter's signature line, when the sentence speaks in the first person (letter_signatory)
    read: float = 0.0  # what the readers added to its score (read(), passage_reads()): not evidence

    @cached_property
    def said(self) -> str:
        """What it says, as it is embedded, matched and read: clean, without the addresses it links to."""
        return clean(prose(self.text))


def split(passages: list[Passage], sources: Sources, cfg: ExtractiveSettings = DEFAULT,
          parts: tuple[str, ...] = ()) -> list[tuple[int, Sentence]]:
    """(rank of the passage, sentence) for the answerable sentences of each passage; with `parts`, the
    lines of that kind (date, signature, addressee) of the letters the passages are in, once each."""
    out, seen, found_in = [], set(), {}  # found_in: the letters of each file, read once
    for rank, p in enumerate(passages):
        # split in the whole file, not the chunk alone, so a chunk's first line is seen whole
        text = sources.text(p.source)
        if text is None or text[p.start : p.end] != p.text:  # moved or unreadable since indexing: the chunk
            text, base = p.text, p.start
            spans = [(a + base, b + base) for a, b in sentences(text)]
            text = " " * base + text  # offsets below index the file
        else:
            spans = sentences(text, p.start, p.end)
        if (parts or cfg.letter_signatory) and p.source not in found_in:  # a letter's lines, when asked for or signing
            found_in[p.source] = letters(text)
        found = found_in.get(p.source, [])
        at = lambda x: next((lt for lt in found if lt.start <= x < lt.end), None)  # noqa: E731
        for a, b in spans:
            s = text[a:b]
            said = prose(s).strip()  # a line of links alone says nothing
            if (len(said) >= cfg.min_sentence_chars or re.search(r"\d", said) and len(said) >= cfg.min_fact_chars) and not is_heading(s):
                lt = at(a)
                signer = (text[lt.signature[0] : lt.signature[1]] if cfg.letter_signatory and lt and lt.signature
                          and FIRST_PERSON.search(s) else "")
                out.append((rank, Sentence(p, a, b, s, source=text, letter=lt.start if lt else -1, signer=signer)))
        for lt in {at(a) for a, _ in spans} - {None}:
            for part in parts:
                span = getattr(lt, part)
                if span and (p.source, span) not in seen and span[0] < span[1]:
                    seen.add((p.source, span))
                    a, b = span
                    out.append((rank, Sentence(span_passage(p, sources, a, b), a, b, text[a:b], source=text,
                                               letter=lt.start, part=part)))
    return out


def span_passage(p: Passage, sources: Sources, lo: int, hi: int) -> Passage:
    """Passage `p` of a file moved to [lo, hi) of the same file (its text, place and lines there)."""
    src = sources.get(p.source)
    if src is None:
        return p
    return replace(p, text=src.text[lo:hi], start=lo, end=hi, where=src.where(lo, hi),
                   lines=(src.text.count("\n", 0, lo) + 1, src.text.count("\n", 0, max(lo, hi - 1)) + 1))


def cited_passage(s: Sentence, sources: Sources) -> Passage:
    """The sentence's passage, widened to the quote when the quote's window runs past it, so a
    citation's quote always lies inside its passage (both verbatim at their offsets)."""
    p = s.passage
    if p.start <= s.start and s.end <= p.end:
        return p
    src = sources.get(p.source)
    if src is None or src.text is not s.source:
        return p
    return span_passage(p, sources, min(p.start, s.start), max(p.end, s.end))


def score(question: str, qvec: np.ndarray, sents: list[tuple[int, Sentence]], embedder, qlang: str = "",
          cfg: ExtractiveSettings = DEFAULT, idf=lambda term: 1.0) -> list[Sentence]:
    """Sentence score: cosine to the question (of the sentence under its headings) + share of the
    question's words present in it or in its headings (each weighted by its idf: "présidé" says more
    than "groupe" in a collection about working groups) + the
    passage's rank + whether it holds the kind of thing asked for."""
    if not sents:
        return []
    vecs = embedder.embed([embedded(s.said, s.passage.context) for _, s in sents], "passage")  # under its headings, as its chunk
    qwords = question_words(question, qlang, cfg.lexicon)
    # a word weighs as its commonest form in the collection (an English word about French text: its translation)
    weights = [min(map(idf, other)) if cfg.idf_overlap and other else 1.0 for _, other in qwords]
    total = sum(weights) or 1.0
    types, contacts = expected_types(question), expected_types(question, CONTACT_TYPES)
    read_whole = passage_reads(question, [s.passage for _, s in sents], cfg)  # passage id -> what the reader adds
    out, best = [], {}  # best: the top sentence of each letter, (score, whether it holds what is asked)
    heading = {}  # a passage's context (its headings) -> their terms, once per passage, not per sentence

    def heading_terms(p: Passage) -> set[str]:
        if p.context and (p.context, p.lang) not in heading:
            heading[p.context, p.lang] = set(bm25mod.doc_terms(p.context, p.lang))
        return heading.get((p.context, p.lang), set())

    for (rank, s), v in zip(sents, vecs):
        terms = set(bm25mod.doc_terms(s.said, s.passage.lang))
        terms |= heading_terms(s.passage)
        terms |= set(bm25mod.doc_terms(clean(s.signer), s.passage.lang)) if s.signer else set()
        cross = bool(qlang) and s.passage.lang != qlang
        overlap = sum(w for (same, other), w in zip(qwords, weights) if shares(other if cross else same, terms, cfg.prefix_chars)) / total
        value = float(v @ qvec) + cfg.lexical_weight * overlap + cfg.rank_bonus / (1 + rank)
        value += cfg.cross_lingual_sentence_bonus if qlang and s.passage.lang != qlang else 0.0
        value -= cfg.title_penalty if is_title(s.text) else 0.0
        typed = bool(types) and has_type(s.text, types)
        value += cfg.type_bonus if typed else 0.0
        value += cfg.contact_bonus if contacts and has_type(s.text, contacts, CONTACT_TYPES) else 0.0
        whole = read_whole.get(s.passage.id, 0.0)
        value += whole
        if not s.part and s.letter >= 0:
            key = (s.passage.source, s.letter)
            best[key] = max(best.get(key, (-1e9, False)), (value, typed))
        out.append(Sentence(s.passage, s.start, s.end, s.text, value, s.source, v, s.letter, s.part, read=whole, signer=s.signer))
    # A letter's date/signature/addressee line answers for its letter when the letter's best sentence
    # does not say what is asked itself ("vous transmettre aujourd'hui le rapport": sent when?): that
    # sentence's score with the type bonus, a little less; more when the question names a letter.
    named = names_a_letter(question)
    part_score = {k: v + cfg.type_bonus - cfg.letter_part_discount + (cfg.letter_named_bonus if named else 0.0)
                  for k, (v, typed) in best.items() if named or not typed}
    out = [replace(s, score=part_score[(s.passage.source, s.letter)]) if s.part else s
           for s in out if not s.part or (s.passage.source, s.letter) in part_score]
    out.sort(key=lambda s: -s.score)
    across = cfg.reader_weight if cfg.reader_weight_across is None else cfg.reader_weight_across
    weights = [across if qlang and s.passage.lang != qlang and not (cfg.across_untranslated and s.passage.twin)
               else cfg.reader_weight for s in out]
    out = read(question, out, cfg.reader_depth, weights, cfg.context_weight)
    return prefer_question_language(out, qlang, embedder.calibration.twin_min_similarity)


def prefer_question_language(ranked: list[Sentence], qlang: str, similarity: float) -> list[Sentence]:
    """When the best sentence is in the other language and a translation of it in the question's
    language is among the candidates (seed 000 says everything twice), quote the translation: the
    bonus that lets other-language sentences compete must not push out the question's own language."""
    if not qlang or not ranked or ranked[0].passage.lang == qlang or ranked[0].vec is None:
        return ranked
    best = ranked[0]
    for i, s in enumerate(ranked[1:], 1):
        if s.passage.lang == qlang and s.vec is not None and float(s.vec @ best.vec) >= similarity:
            return [replace(s, score=best.score, read=best.read)] + ranked[1:i] + ranked[i + 1 :] + [best]
    return ranked


def _translates(a: Sentence, b: Sentence, similarity: float) -> bool:
    """Is one sentence the other's translation? The cosine above which the index links translated
    passages (the embedder's calibrated twin_min_similarity)."""
    return (a.passage.lang != b.passage.lang and a.vec is not None and b.vec is not None
            and float(a.vec @ b.vec) >= similarity)


def window(s: Sentence, cfg: ExtractiveSettings = DEFAULT) -> Sentence:
    """The quote around the best sentence (qa.answerers.spans.window, with cfg's window_* settings), as one
    verbatim span of its file."""
    if not s.source:
        return s
    a, b = span(s.source, s.start, s.end, limit=cfg.window_chars, next_=cfg.window_next,
                prev=cfg.window_prev, lead=cfg.window_lead, before=cfg.window_before,
                back_only=cfg.window_back_only)
    return Sentence(s.passage, a, b, s.source[a:b], s.score, s.source)


def evidence_of(candidates: list[Sentence], unknown: int, cfg: ExtractiveSettings = DEFAULT) -> float:
    """How strongly the candidate sentences of the passages retrieval found answer: the best one's score
    without the reader's part, plus `cfg.evidence_read` x that part (0: the score alone), less the
    unknown-name penalty for each of the question's `unknown` names. Under the threshold: abstain."""
    best = max((s.score - s.read + cfg.evidence_read * s.read for s in candidates), default=0.0)
    return best - cfg.unknown_name_penalty * unknown


def compose(question: str, qlang: str, qvec: np.ndarray, passages: list[Passage], embedder, sources: Sources, *,
            threshold: float, knows=lambda term: True, idf=lambda term: 1.0, note: str = "",
            cfg: ExtractiveSettings = DEFAULT, near: list[Passage] = ()) -> tuple[Answer, float]:
    """Build the answer from the best passages (and `near`: the chunks around the best one, whose
    sentences score at `cfg.neighbour_rank`); returns it with the evidence score that decided it."""
    msg = MESSAGES[qlang if qlang in MESSAGES else "en"]
    parts = tuple(letter_parts(question, expected_types(question))) if cfg.letters else ()
    sents = split(passages[: cfg.top], sources, cfg, parts)
    sents += nearby(near, passages[: cfg.top], sources, cfg)
    contacts = expected_types(question, CONTACT_TYPES)
    if contacts:  # a contact block is often a passage of its own, further down: its lines asked for
        more = split(passages[cfg.top : cfg.contact_top], sources, cfg)
        sents += [(cfg.top + r, s) for r, s in more if has_type(s.text, contacts, CONTACT_TYPES)]
    ranked = score(question, qvec, sents, embedder, qlang, replace(cfg, passage_weight=cfg.passage_weight if cfg.passage_in_answer else 0.0,
                   reader_weight_across=cfg.reader_weight_across if cfg.across_in_answer else None), idf)
    # the evidence is the answerer's own score (calibrated without the reader) of the passages retrieval
    # found (not of the chunks beside them: "Et par qui ?" is not answered by an address line next to a
    # passage); the reader and the neighbours pick the sentence
    found = {p.id for p in passages[: cfg.top]} | ({p.id for p in passages[cfg.top : cfg.contact_top]} if contacts else set())
    unknown = unknown_names(question, knows, qlang if cfg.translated_names else "")
    evidence = evidence_of([s for s in ranked if s.passage.id in found or s.part], len(unknown), cfg)
    if evidence < threshold:
        # nothing is "related" to a question about something the documents never name
        related = [] if unknown else [p for p in passages[:3] if p.similarity >= cfg.related_above]
        return Answer(msg["none"], qlang, False, [], related, note), evidence
    similarity = embedder.calibration.twin_min_similarity
    chosen = [window(ranked[0], cfg)]
    best = ranked[0]
    span = short(question, best.text, cfg)
    asked = expected_types(question) if cfg.second_typed or (cfg.second_typed_after_short and span is not None) else []
    for s in ranked[1:]:
        if (s.score >= chosen[0].score - cfg.second_within and clean(s.text) != clean(chosen[0].text)
                and not is_title(s.text)  # a document's title beside the answer says nothing more
                and (not asked or has_type(s.text, asked))  # "who": a second quote naming no one does not answer
                and s.passage.lang in (chosen[0].passage.lang, qlang)):  # beside an answer in the question's language, no other language
            first = chosen[0].passage
            quoted = [r for r in ranked if r.passage.source == first.source and chosen[0].start <= r.start and r.end <= chosen[0].end]
            if s.passage.id == first.twin or s.passage.twin == first.id or any(_translates(s, r, similarity) for r in quoted):
                continue  # a translation of what the first quote says adds nothing
            room = cfg.answer_chars - len(chosen[0].text) if cfg.answer_chars else None
            s = window(s, cfg if room is None or room >= cfg.window_chars else replace(cfg, window_chars=room))
            if s.passage.source == first.source and s.start < chosen[0].end and chosen[0].start < s.end:
                lo, hi = min(s.start, chosen[0].start), max(s.end, chosen[0].end)
                if s.start < chosen[0].start and hi - lo <= cfg.window_chars and "\n\n" not in s.source[lo:hi]:
                    # just before the first quote, in its paragraph: one quote of both (the question's
                    # subject in one sentence, its answer in the one before)
                    chosen[0] = replace(chosen[0], start=lo, end=hi, text=s.source[lo:hi])
                continue  # inside the first quote's window
            if room is not None and len(s.text) > room:
                continue  # no room for it in the answer's length
            chosen.append(s)
            break
    pieces, cites = [], []
    for n, s in enumerate(chosen, 1):
        p = cited_passage(s, sources)
        cites.append(Citation(n, s.text, p, s.start, s.end))
        tag = msg["in"].format(lang=LANG_NAMES[qlang if qlang in LANG_NAMES else "en"][p.lang]) if p.lang != qlang else ""
        quote = f"« {clean(s.text)} »" if qlang == "fr" else f"“{clean(s.text)}”"
        pieces.append(f"{quote}{tag} [{n}]")
    lead, said = msg["lead"], ""
    if span is not None and chosen[0].start <= best.start and best.end <= chosen[0].end:
        said = clean(best.text[span[0] : span[1]])
        lead = f"{said} [1] — {lead}"  # the thing asked for, then the quote saying it
    return Answer(lead + " ".join(pieces), qlang, True, cites, [], note, short=said), evidence


def short(question: str, sentence: str, cfg: ExtractiveSettings = DEFAULT) -> tuple[int, int] | None:
    """Where in the best sentence the short answer is (offsets into it), or None: the rules' thing
    asked for (cues.short_answer: the one name, date or contact line of its kind), else the words the
    short-answer reader prefers to "none here" by ``cfg.span_min`` (qa.reader.span); None when neither
    is sure or ``cfg.short_answers`` is off."""
    if not cfg.short_answers:
        return None
    got = short_answer(sentence, question, expected_types(question), expected_types(question, CONTACT_TYPES))
    return span_of(question, sentence, cfg.span_min) if got is None and cfg.span_reader else got


def nearby(near: list[Passage], passages: list[Passage], sources: Sources, cfg: ExtractiveSettings) -> list[tuple[int, Sentence]]:
    """The candidate sentences of the chunks `near` the best passage that are not among `passages`,
    at the rank `cfg.neighbour_rank`: the right document's answer is often in the chunk beside the one
    that matched the question's words (a paragraph cut in two, the name after its lead-in)."""
    have = {p.id for p in passages}
    near = [p for p in near if p.id not in have]
    return [(cfg.neighbour_rank, s) for _, s in split(near, sources, cfg)] if near else []


class ExtractiveAnswerer(Answerer):
    """Quotes the sentences that answer, verbatim; no language model. The default."""

    name = "extractive"

    def __init__(self, collection, threshold: float | None = None, settings: ExtractiveSettings = DEFAULT):
        """`threshold`: evidence under which it abstains (None: the embedder's calibrated value)."""
        self.collection = collection
        self.settings = settings
        self.threshold = collection.embedder.calibration.abstain_below if threshold is None else threshold

    @classmethod
    def from_settings(cls, collection, settings) -> "ExtractiveAnswerer":
        return cls(collection, None if settings.abstain_below < 0 else settings.abstain_below)

    def answer(self, query: Query, passages: list[Passage], sources: Sources, history=()) -> Answer:
        vector = query.vector if query.vector is not None else self.collection.embed_query(query.search)
        cfg = self.settings
        near = self.collection.neighbours(passages[0], vector, cfg.neighbours) if cfg.neighbours and passages else []
        ans, _ = compose(query.search, query.lang, vector, passages, self.collection.embedder, sources,
                         threshold=self.threshold, knows=self.collection.knows,
                         idf=self.collection.idf, note=query.note, cfg=cfg, near=near)
        return replace(ans, answerer=self.name)
