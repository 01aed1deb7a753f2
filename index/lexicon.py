"""An English <-> French lexicon of BM25 stems, so the lexical side can match across languages.

BM25 and the answer's term overlap compare stems: an English question about a French-only letter
shares only names and numbers with it ("chaired" never meets "président"). This lexicon maps each
stem to the stems that translate it in the other language, with a probability:

    >>> lex = Lexicon.default()
    >>> lex.translate("chair", "en")       # the English stem of "chaired"
    (('president', 0.916),)

Learned here, not downloaded: IBM Model 1 (EM over word alignments, both directions) on 5,000 public
sentence pairs, the UN Parallel Corpus v1.0 dev set (4,000 manually translated sentences, acknowledged
as the United Nations' and cited: Ziemski, Junczys-Dowmunt, Pouliquen, LREC 2016) and 1,000 Tatoeba
pairs (CC BY 2.0 FR). None of the evaluation sets' documents or questions is in them. The pairs kept
are those both directions agree on (``keep``); the artefact is a small TSV beside this module, rebuilt
in about 30 s with ``python -m index.lexicon`` (reads ``../shared/eval`` or ``QA_SHARED``).
"""
from __future__ import annotations

import gzip
import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from . import bm25

ARTEFACT = Path(__file__).with_name("lexicon-en-fr.tsv.gz")
OTHER = {"en": "fr", "fr": "en"}


class Lexicon:
    """Stem -> ((stem in the other language, probability), ...), per source language."""

    def __init__(self, pairs: dict[str, dict[str, tuple[tuple[str, float], ...]]]):
        self.pairs = pairs

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> "Lexicon":
        return cls.read(ARTEFACT)

    @classmethod
    def read(cls, path: Path) -> "Lexicon":
        pairs: dict[str, dict[str, list]] = {"en": defaultdict(list), "fr": defaultdict(list)}
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                en, fr, p_fr, p_en = line.rstrip("\n").split("\t")
                if float(p_fr) > 0:
                    pairs["en"][en].append((fr, float(p_fr)))
                if float(p_en) > 0:
                    pairs["fr"][fr].append((en, float(p_en)))
        return cls({lang: {k: tuple(sorted(v, key=lambda t: -t[1])) for k, v in d.items()} for lang, d in pairs.items()})

    def translate(self, stem: str, lang: str) -> tuple[tuple[str, float], ...]:
        """The stems of the other language that translate `stem` (a stem of `lang`), best first."""
        return self.pairs.get(lang, {}).get(stem, ())


def ibm1(pairs: list[tuple[list[str], list[str]]], iterations: int = 6) -> dict[tuple[str, str], float]:
    """p(target word | source word) by IBM Model 1's EM, with a NULL source word."""
    t: dict[tuple[str, str], float] = defaultdict(lambda: 1.0)
    for _ in range(iterations):
        count: dict[tuple[str, str], float] = defaultdict(float)
        total: dict[str, float] = defaultdict(float)
        for src, tgt in pairs:
            src = src + ["<null>"]
            for w in tgt:
                z = sum(t[(s, w)] for s in src)
                for s in src:
                    c = t[(s, w)] / z
                    count[(s, w)] += c
                    total[s] += c
        t = defaultdict(float, {k: v / total[k[0]] for k, v in count.items()})
    return dict(t)


def keep(p_fr: float, p_en: float) -> bool:
    """A pair both directions support: one at least 0.2, and their product at least 0.02 (chair ->
    président 0.92 x 0.36 is kept; the spurious pairs of a word seen once, 0.15 x 0.05, are not)."""
    return max(p_fr, p_en) >= 0.2 and p_fr * p_en >= 0.02


def build(sentences: list[tuple[str, str]], out: Path = ARTEFACT) -> int:
    """Learn the lexicon from (English, French) sentence pairs into `out`; returns the pairs kept."""
    pairs = [(bm25.doc_terms(en, "en"), bm25.doc_terms(fr, "fr")) for en, fr in sentences]
    fr_given_en = ibm1(pairs)
    en_given_fr = ibm1([(f, e) for e, f in pairs])
    rows = []
    for (en, fr), p in fr_given_en.items():
        q = en_given_fr.get((fr, en), 0.0)
        if en != "<null>" and keep(p, q):
            rows.append(f"{en}\t{fr}\t{p:.3f}\t{q:.3f}\n")
    rows.sort()
    # no name and mtime 0 in the gzip header: the same input makes the same bytes
    out.write_bytes(gzip.compress("".join(rows).encode("utf-8"), mtime=0))
    return len(rows)


def public_pairs(shared: Path) -> list[tuple[str, str]]:
    """The UN dev set's and Tatoeba's sentence pairs under shared/eval."""
    out = []
    for folder, en, fr in (("un-parallel-devset", "UNv1.0.devset.en", "UNv1.0.devset.fr"),
                           ("tatoeba-fra-eng", "tatoeba.fra-eng.eng", "tatoeba.fra-eng.fra")):
        d = shared / "eval" / folder
        out += list(zip((d / en).read_text("utf-8").splitlines(), (d / fr).read_text("utf-8").splitlines()))
    return out


if __name__ == "__main__":
    shared = Path(os.environ.get("QA_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
    n = build(public_pairs(shared))
    print(f"wrote {ARTEFACT} ({n:,} pairs, {ARTEFACT.stat().st_size / 1024:.0f} KB)")
