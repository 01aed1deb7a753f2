"""How the answer and fusion settings were chosen: each variant of the extractive answerer's and the
fusion's settings (ExtractiveSettings, RetrievalSettings) run over the same indexes, in one process, on
the seeds dev set, the Paris Call (both halves; the English half alone: French questions answered from
English text; the French half alone: English questions over French text) and fixed slices of the train
splits of PIAF, SQuAD and their long-document variants (never their test splits: qa/eval/splits.py).

    python -m qa.eval.sweep               # the table of README "Choosing the settings" (answers part)
    python -m qa.eval.sweep --piaf 1000   # larger PIAF and SQuAD slices (default 500)
    python -m qa.eval.sweep --split test --only "0.03"   # a chosen change's before/after, held out

The indexes are built by `qa eval`'s own code into its work folder, with its shared embedding cache, so a
second run embeds nothing. A variant is a pair of settings objects, given to the index for its run.
`qa eval SET` then measures the chosen defaults with the baselines beside them (eval/REPORT.md).
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from index.retrieval import DEFAULT as FUSION
from index.retrieval import RetrievalSettings

from ..answerers.extractive import DEFAULT as EXTRACTIVE
from ..answerers.extractive import ExtractiveAnswerer, ExtractiveSettings
from ..config import Settings
from .harness import _index, _slug
from .metrics import contains_answer
from .sets import HELD_OUT_BY_DEFAULT, default_workdir, load_set

SETS = ("seeds", "paris-call", "paris-call-en-only", "paris-call-fr-only", "piaf", "squad", "piaf-long", "squad-long")

E, F = EXTRACTIVE, FUSION
VARIANTS: list[tuple[str, ExtractiveSettings, RetrievalSettings]] = [  # applied on top of the defaults
    ("before issue 11's second round (no lexicon, idf, prefixes, letters, contact lines, title penalty, rerank; "
     "weight 0.15, type 0.04, one next sentence in 400)",
     replace(E, lexicon=False, idf_overlap=False, prefix_chars=0, letters=False, contact_bonus=0.0, title_penalty=0.0,
             rerank_depth=0, reader_depth=0, lexical_weight=0.15, type_bonus=0.04, window_next=1, window_chars=400, short_answers=False),
     replace(F, lexicon=False)),
    # the reader was trained on these train splits: its lines here flatter it (its test-split numbers: README)
    ("no reader (the answerer's score alone)", replace(E, reader_depth=0), F),
    ("the reader reads the best 6", replace(E, reader_depth=6), F),
    ("the reader reads the best 8", replace(E, reader_depth=8), F),
    ("the reader reads the best 10", replace(E, reader_depth=10), F),
    ("the reader reads the best 20", replace(E, reader_depth=20), F),
    ("the reader at its trained weight", replace(E, reader_weight=1.0), F),
    ("the reader at 2/3 of its trained weight", replace(E, reader_weight=0.67), F),
    ("the reader at 1.5 x its trained weight", replace(E, reader_weight=1.5), F),
    ("the reader at 2 x its trained weight", replace(E, reader_weight=2.0), F),
    ("the reader at 3 x its trained weight", replace(E, reader_weight=3.0), F),
    ("the reader at its trained weight for a sentence in the other language", replace(E, reader_weight_across=1.0), F),
    ("the reader at 1.5 x its trained weight for a sentence in the other language", replace(E, reader_weight_across=1.5), F),
    ("the reader at 2 x its trained weight for a sentence in the other language", replace(E, reader_weight_across=2.0), F),
    ("the reader at 3 x its trained weight for a sentence in the other language", replace(E, reader_weight_across=3.0), F),
    ("the reader at its trained weight for a sentence in the other language, untranslated", replace(E, reader_weight_across=1.0, across_untranslated=True), F),
    ("the reader at its trained weight for a sentence in the other language, in the rerank only", replace(E, reader_weight_across=1.0, across_in_answer=False), F),
    ("the reader at its trained weight for a sentence in the other language, untranslated, in the rerank only",
     replace(E, reader_weight_across=1.0, across_untranslated=True, across_in_answer=False), F),
    ("the reader at 2 x its trained weight, reading the best 20", replace(E, reader_weight=2.0, reader_depth=20), F),
    # with QA_READER_CONTEXT=PATH (python -m qa.reader.train --context --out PATH; none is packaged)
    ("the reader in context at 0.25", replace(E, context_weight=0.25), F),
    ("the reader in context at 0.5", replace(E, context_weight=0.5), F),
    ("the reader in context at 1.0", replace(E, context_weight=1.0), F),
    ("sentences of the first 5 passages", replace(E, top=5), F),
    # the sentence before the best one quoted too (where the answer sits for a fifth of the wrong answers)
    ("the sentence before the best one, then two after", replace(E, window_before=1, window_back_only=False), F),
    ("the sentence before the best one, then one after", replace(E, window_before=1, window_back_only=False, window_next=1), F),
    ("no sentence before the best one, even when it opens pointing back (before 2026-12-07)", replace(E, window_before=0), F),
    # the chunks beside the best passage (default: one each side, scored as the best passage's, in ask only)
    ("no chunks beside the best passage (before 2026-12-03)", replace(E, neighbours=0), F),
    ("the chunks beside the best passage, at rank 1", replace(E, neighbour_rank=1), F),
    ("the chunks beside the best passage, at rank 3", replace(E, neighbour_rank=3), F),
    ("the chunks beside the best passage, in retrieve()'s rerank too", replace(E, neighbours_in_rerank=True), F),
    ("the 2 chunks either side of the best passage", replace(E, neighbours=2), F),
    ("the 2 chunks either side of the best passage, at rank 3, in the rerank too",
     replace(E, neighbours=2, neighbour_rank=3, neighbours_in_rerank=True), F),
    ("the reader reads each passage whole at 0.25", replace(E, passage_weight=0.25), F),
    ("the reader reads each passage whole at 0.5 (rerank and answer)", replace(E, passage_weight=0.5), F),
    ("the reader reads each passage whole at 1.0", replace(E, passage_weight=1.0), F),
    ("the reader reads each passage whole at 0.5, in the rerank only", replace(E, passage_weight=0.5, passage_in_answer=False), F),
    ("the reader reads each passage whole at 1.0, in the rerank only", replace(E, passage_weight=1.0, passage_in_answer=False), F),
    ("the reader reads each passage whole at 0.5, sentences of the first 5", replace(E, passage_weight=0.5, top=5), F),
    ("a second quote within 0.03 of the best (before 2026-12-02)", replace(E, second_within=0.03), F),
    ("a second quote only if it holds the kind of thing asked", replace(E, second_typed=True), F),
    ("a second quote only if it holds the kind of thing asked, when the first gave the short answer", replace(E, second_typed_after_short=True), F),
    ("a second quote within 0.10 of the best, no length limit", replace(E, second_within=0.10), F),
    ("one next sentence, a second quote within 0.10 of the best, no length limit",
     replace(E, window_next=1, second_within=0.10), F),
    ("a second quote only if both fit in 450 characters", replace(E, answer_chars=450), F),
    ("a second quote within 0.10 of the best, both in 450 characters", replace(E, second_within=0.10, answer_chars=450), F),
    ("a second quote within 0.10 of the best, both in 400 characters", replace(E, second_within=0.10, answer_chars=400), F),
    ("a second quote within 0.15 of the best, both in 450 characters", replace(E, second_within=0.15, answer_chars=450), F),
    ("best sentence alone (no windows)",
     replace(E, window_next=0, window_prev=False, window_lead=False, min_fact_chars=10**6), F),
    ("one next sentence, 400 characters", replace(E, window_next=1, window_chars=400), F),
    ("two next sentences, 500 characters", replace(E, window_chars=500), F),
    ("no answer-grain rerank of retrieve()", replace(E, rerank_depth=0), F),
    ("rerank the first 8", replace(E, rerank_depth=8), F),
    ("retrieve() shows the chunks as indexed (before 2026-12-07, second session)", replace(E, passage_chars=0), F),
    ("fusion: BM25 z-score for every passage", E, replace(F, other_language_dense_only=False, lexicon=False)),
    ("no lexicon in the fusion", E, replace(F, lexicon=False)),
    ("fusion: BM25 at 0.5 of the dense side", E, replace(F, sparse_weight=0.5)),
    ("fusion: BM25 at 1.0 of the dense side", E, replace(F, sparse_weight=1.0)),
    ("fusion: BM25 at 1.25 of the dense side", E, replace(F, sparse_weight=1.25)),
    ("document evidence 0.1", E, replace(F, document_weight=0.1)),
    ("document evidence 0.2", E, replace(F, document_weight=0.2)),
    ("document evidence 0.4", E, replace(F, document_weight=0.4)),
    ("names known in the other language and by their acronyms", replace(E, translated_names=True), F),
    ("no lexicon in the sentence overlap", replace(E, lexicon=False), F),
    ("equal word weights in the overlap", replace(E, idf_overlap=False), F),
    ("equal stems only in the overlap", replace(E, prefix_chars=0), F),
    ("no letters", replace(E, letters=False), F),
    ("a letter's first-person sentences hold its signatory's name", replace(E, letter_signatory=True), F),
    ("no contact-line bonus", replace(E, contact_bonus=0.0), F),
    ("no title penalty", replace(E, title_penalty=0.0), F),
    ("overlap weight 0.15", replace(E, lexical_weight=0.15), F),
    ("overlap weight 0.25", replace(E, lexical_weight=0.25), F),
    ("type bonus 0.04", replace(E, type_bonus=0.04), F),
    ("type bonus 0.08", replace(E, type_bonus=0.08), F),
    ("cross-lingual sentence bonus 0.04", replace(E, cross_lingual_sentence_bonus=0.04), F),
]


def configured(idx, extractive: ExtractiveSettings, fusion: RetrievalSettings):
    """The index with these settings for its answerer and its fusion (nothing global changes)."""
    idx.retrieval = fusion
    idx.answerer = ExtractiveAnswerer(idx.collection, idx.answerer.threshold, extractive)
    return idx


def build(name: str, workdir: Path, split: str = "train", every: bool = False):
    # tune on train; `every`: the Paris Call and the seeds by their split too (by document, by question)
    es = load_set(name, workdir, split=split if every or name in HELD_OUT_BY_DEFAULT else None)
    s = Settings.from_env()
    home = workdir / f"{es.name}-{_slug(s.embedder)}-c{s.chunk_chars}-sweep"
    return es, _index(es, s, home, workdir / "cache", False, {})


def measure(es, idx, limit: int | None) -> dict:
    hits = shown = correct = answered = answerable = abstained = unanswerable = quoted = 0
    for q in es.questions[:limit]:
        ans = idx.ask(q.text)
        quoted += sum(len(c.quote) for c in ans.citations)
        if q.answerable:
            passages = idx.retrieve(q.text, 1)
            hits += bool(passages) and q.hit(passages[0])
            shown += bool(passages) and q.hit(passages[0]) and contains_answer(passages[0].text, q.answers)
            answerable += 1
            answered += ans.answered
            correct += ans.answered and contains_answer(ans.text, q.answers)
        else:
            unanswerable += 1
            abstained += not ans.answered
    n = max(answerable, 1)
    return {"R@1": hits / n, "@1": shown / n, "acc": correct / n, "answered": answered / n,
            "abstained": abstained / unanswerable if unanswerable else None,
            "quoted": quoted / max(1, answered + unanswerable - abstained)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--piaf", type=int, default=500, help="PIAF and SQuAD train questions (the first N; PIAF's of qa eval's fixed sample)")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)} (default: all)")
    p.add_argument("--only", default="", help="only the variants whose label contains this (or one of a|b|...)")
    p.add_argument("--split", choices=("train", "test"), default="train",
                   help="test: a before/after of a change already chosen, on the held-out splits (never to choose by)")
    p.add_argument("--split-every", action="store_true",
                   help="the split applies to the seeds and the Paris Call sets too (all their questions otherwise)")
    a = p.parse_args(argv)
    workdir = a.workdir or default_workdir()
    sets = [s for s in a.sets.split(",") if s]
    if unknown := [s for s in sets if s not in SETS] or ([] if "seeds" in sets else ["(seeds is needed)"]):
        p.error(f"unknown sets: {', '.join(unknown)}; choose among {', '.join(SETS)}")
    indexes = {name: build(name, workdir, a.split, a.split_every) for name in sets}
    print("| variant | " + " | ".join(f"{n} R@1 / answer in top @1 / acc / quote chars" for n in sets) + " | seeds answered / abstained |")
    print("|---|" + "---|" * (len(sets) + 1))
    for label, extractive, fusion in [("**defaults**", E, F)] + [v for v in VARIANTS if any(o in v[0] for o in a.only.split("|"))]:
        rows = {n: measure(es, configured(idx, extractive, fusion), a.piaf if n in HELD_OUT_BY_DEFAULT else None)
                for n, (es, idx) in indexes.items()}
        s = rows["seeds"]
        print(f"| {label} | " + " | ".join(f"{r['R@1']:.3f} / {r['@1']:.3f} / {r['acc']:.3f} / {r['quoted']:.0f}" for r in rows.values())
              + f" | {s['answered']:.3f} / {s['abstained']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
