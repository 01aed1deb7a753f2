"""Training and evaluation lists for the reader: a question, its candidate sentences, which one answers.

Sources, split by article with ``qa.eval.splits.split_of`` (the reader never sees a test article):

- PIAF (French) and SQuAD v1.1 dev (English), SQuAD format: the positive is the sentence of the
  paragraph (``index.sentences.sentences``, the answerer's splitter) that holds the answer span;
  negatives are the paragraph's other sentences, then the sentences of the article's other paragraphs
  that share the most words with the question (hard negatives: same topic, not the answer), and for
  training ``with_foreign``: the sentences of *other articles* of the split closest to the question
  that hold no answer (what retrieval brings the answerer from other documents).
- The Paris Call (English and French versions of the same documents): each question of
  ``tests/data/paris_call.jsonl`` against the sentences of its document in *both* languages, so the
  reader also learns English question -> French sentence and back. Split by document file name.

    >>> items = examples("train")          # list[Item], deterministic
    >>> items[0].question, items[0].sentences[items[0].positive]
"""
from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from index.chunker import clean
from index.sentences import sentences
from index.types import Passage
from qa.eval.splits import split_of

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("QA_SHARED") or ROOT.parent / "shared")
PIAF = SHARED / "eval" / "piaf" / "piaf-v1.0.json"
SQUAD = SHARED / "eval" / "squad-en" / "dev-v1.1.json"
PARIS = SHARED / "eval" / "paris-call"
PARIS_QUESTIONS = ROOT / "tests" / "data" / "paris_call.jsonl"
_WORD = re.compile(r"\w{3,}")


@dataclass(frozen=True)
class Item:
    """One question and its candidates; ``sentences[positive]`` answers it. ``paragraph`` is how many
    leading candidates come from the gold paragraph (evaluation ranks those only)."""

    question: str
    sentences: tuple[str, ...]
    positive: int
    answers: tuple[str, ...]
    source: str  # "piaf", "squad", "paris-en", "paris-fr" (the sentences' language for the Paris Call)
    article: str
    paragraph: int
    foreign: tuple[str, ...] = ()  # negatives from other articles, closest first (with_foreign)


def holds_answer(answers, sentence: str) -> bool:
    """Does the sentence contain one of the (non-blank) gold answers, case aside?"""
    return any(clean(a).lower() in sentence.lower() for a in answers if a.strip())


def with_foreign(items: list[Item], embedder, k: int = 3) -> list[Item]:
    """The items with ``foreign`` filled: for each PIAF/SQuAD question, the k sentences of *other*
    articles of its set and split closest to it by e5 cosine (``embedder``, query/passage prefixes)
    that hold none of its answers: the sentences retrieval brings the answerer from other documents.
    Deterministic for a given embedder."""
    import numpy as np
    from dataclasses import replace

    pools: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    for src, path in (("piaf", PIAF), ("squad", SQUAD)):
        arts = {it.article for it in items if it.source == src}
        if not arts:
            continue
        pairs = [(a["title"], clean(p["context"][s:e])) for a in json.loads(path.read_text(encoding="utf-8"))["data"]
                 if a["title"] in arts for p in a["paragraphs"] for s, e in sentences(p["context"])]
        text = [t for _, t in pairs]
        pools[src] = (text, np.array([a for a, _ in pairs], dtype=object), embedder.embed(text, "passage"))
    asked = [it for it in items if it.source in pools]
    qvecs = dict(zip((it.question for it in asked), embedder.embed([it.question for it in asked], "query")))
    out = []
    for it in items:
        if it.source not in pools:
            out.append(it)
            continue
        text, owner, vecs = pools[it.source]
        cos = vecs @ qvecs[it.question]
        cos[owner == it.article] = -np.inf
        far: list[str] = []
        for i in np.argsort(-cos, kind="stable")[: 8 * k]:
            if len(far) == k:
                break
            t = text[i]
            if t not in far and not holds_answer(it.answers, t):
                far.append(t)
        out.append(replace(it, foreign=tuple(far)))
    return out


def squad_items(path: Path, source: str, split: str, hard: int = 4) -> list[Item]:
    """One item per question whose answer lies inside one sentence of a paragraph of >= 2 sentences."""
    out = []
    for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
        if split_of(art["title"]) != split:
            continue
        paras = [(p, sentences(p["context"])) for p in art["paragraphs"]]
        for pi, (para, spans) in enumerate(paras):
            if len(spans) < 2:
                continue
            text = para["context"]
            for qa in para["qas"]:
                a = qa["answers"][0]
                lo, hi = a["answer_start"], a["answer_start"] + len(a["text"])
                gold = [i for i, (s, e) in enumerate(spans) if s <= lo and hi <= e]
                if not gold or not qa["question"].strip():
                    continue
                cands = [clean(text[s:e]) for s, e in spans]  # in the paragraph's order
                others = [clean(p["context"][s:e]) for pj, (p, sp) in enumerate(paras) if pj != pi for s, e in sp]
                qwords = set(_WORD.findall(qa["question"].lower()))
                others.sort(key=lambda s: -len(qwords & set(_WORD.findall(s.lower()))))
                seen = set(cands)
                extra = [s for s in others if s not in seen and not seen.add(s)][:hard]
                answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"]))
                out.append(Item(qa["question"].strip(), tuple(cands + extra), gold[0], answers, source, art["title"], len(cands)))
    return out


def paris_items(split: str, negatives: int = 8, seed: int = 0) -> list[Item]:
    """Each Paris Call question against its document's sentences in English and in French."""
    rng = random.Random(seed)
    out = []
    docs = {}
    for line in PARIS_QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if split_of(q["gold_doc"]) != split:
            continue
        for lang in ("en", "fr"):
            answers = q["answers"] if lang == q["lang"] else q.get("answers_other_lang") or []
            key = (lang, q["gold_doc"])
            if key not in docs:
                path = PARIS / lang / q["gold_doc"]
                text = path.read_text(encoding="utf-8") if path.exists() else ""
                docs[key] = [clean(text[a:b]) for a, b in sentences(text)]
            sents = [s for s in docs[key] if len(s) >= 25]
            gold = [i for i, s in enumerate(sents) if any(a.lower() in s.lower() for a in answers)]
            if len(gold) != 1:  # unfound, or in several sentences: no clean positive
                continue
            rest = [s for i, s in enumerate(sents) if i != gold[0]]
            cands = rng.sample(rest, min(negatives, len(rest)))
            at = rng.randrange(len(cands) + 1)
            cands.insert(at, sents[gold[0]])
            out.append(Item(q["question"], tuple(cands), at, tuple(answers), f"paris-{lang}", q["gold_doc"], len(cands)))
    return out


def examples(split: str = "train") -> list[Item]:
    """Every item of the split: PIAF, SQuAD, Paris Call (both languages of sentences)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return squad_items(PIAF, "piaf", split) + squad_items(SQUAD, "squad", split) + paris_items(split)


def language(item: Item) -> str:
    """The language of an item's sentences."""
    return "fr" if item.source in ("piaf", "paris-fr") else "en"


def answerer_scores(item: Item, cands: list[str], qvec, embedder):
    """The extractive answerer's score of each candidate (cosine + weighted term overlap + kind of
    thing asked), in the candidates' order, all candidates taken as one passage of rank 0; without
    the reader itself (what it is trained beside)."""
    from dataclasses import replace

    import numpy as np

    from qa.answerers.extractive import DEFAULT, Sentence, score

    passage = Passage(" ".join(cands), item.article, language(item), 0.0, 0, 0, (1, 1))
    sents = [(0, Sentence(passage, i, i + 1, s)) for i, s in enumerate(cands)]
    out = np.zeros(len(cands))
    for s in score(item.question, qvec, sents, embedder, language(item), replace(DEFAULT, reader_depth=0)):
        out[s.start] = s.score
    return out


def passage_items(split: str, embedder, negatives: int = 5) -> list[tuple[Item, list[float]]]:
    """For a passage reader (``train --passages``): each PIAF/SQuAD question of the split with the
    passage (``index.chunker``'s 450-character chunks of its paragraph) that holds its answer span, and
    the ``negatives`` passages of its set and split closest to it by e5 cosine that hold none of its
    answers (what retrieval brings the rerank: its article's other paragraphs, other articles); each
    Paris Call question the same way in each language's version of the documents. Returns each item
    with its candidates' cosines (the score the reader is trained beside). Deterministic."""
    import numpy as np

    from index.chunker import chunk
    from index.loader import SourceText

    def pool(docs: list[tuple[str, str, str]]):
        """(key, article, text) documents -> their chunks as (key, article, start, end, clean text)."""
        return [(key, art, c.start, c.end, clean(c.text)) for key, art, text in docs
                for c in chunk(SourceText(key, text, "utf-8", ""))]

    def ranked(chunks, vecs, qvec, answers, gold_key, lo, hi):
        gold = [i for i, c in enumerate(chunks) if c[0] == gold_key and c[2] <= lo and hi <= c[3]]
        if not gold:
            return None
        cos = vecs @ qvec
        negs = [int(i) for i in np.argsort(-cos, kind="stable")[: 10 * negatives]
                if int(i) != gold[0] and not holds_answer(answers, chunks[int(i)][4])][:negatives]
        return [gold[0]] + negs, cos

    out = []
    for src, path in (("piaf", PIAF), ("squad", SQUAD)):
        arts = [a for a in json.loads(path.read_text(encoding="utf-8"))["data"] if split_of(a["title"]) == split]
        chunks = pool([(f"{a['title']}#{pi}", a["title"], p["context"]) for a in arts for pi, p in enumerate(a["paragraphs"])])
        vecs = embedder.embed([c[4] for c in chunks], "passage")
        asked = [(a["title"], pi, qa) for a in arts for pi, p in enumerate(a["paragraphs"]) for qa in p["qas"] if qa["question"].strip()]
        qvecs = embedder.embed([qa["question"].strip() for _, _, qa in asked], "query")
        for (art, pi, qa), qv in zip(asked, qvecs):
            a = qa["answers"][0]
            answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"]))
            got = ranked(chunks, vecs, qv, answers, f"{art}#{pi}", a["answer_start"], a["answer_start"] + len(a["text"]))
            if got:
                idx, cos = got
                out.append((Item(qa["question"].strip(), tuple(chunks[i][4] for i in idx), 0, answers, src, art, len(idx)),
                            [float(cos[i]) for i in idx]))
    questions = [json.loads(line) for line in PARIS_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    for lang in ("en", "fr"):
        docs = sorted(p for p in (PARIS / lang).glob("*") if p.is_file() and split_of(p.name) == split)
        chunks = pool([(p.name, p.name, p.read_text(encoding="utf-8")) for p in docs])
        if not chunks:
            continue
        vecs = embedder.embed([c[4] for c in chunks], "passage")
        mine = [q for q in questions if split_of(q["gold_doc"]) == split]
        qvecs = embedder.embed([q["question"] for q in mine], "query")
        for q, qv in zip(mine, qvecs):
            answers = tuple(q["answers"] if lang == q["lang"] else q.get("answers_other_lang") or [])
            holding = [c for c in chunks if c[0] == q["gold_doc"] and holds_answer(answers, c[4])]
            if not holding:
                continue
            got = ranked(chunks, vecs, qv, answers, q["gold_doc"], holding[0][2], holding[0][2])
            if got:
                idx, cos = got
                out.append((Item(q["question"], tuple(chunks[i][4] for i in idx), 0, answers, f"paris-{lang}", q["gold_doc"], len(idx)),
                            [float(cos[i]) for i in idx]))
    return out
