"""Sentence choice on the test split: ``python -m qa.reader.evaluate`` (test articles only).

For each test question, the candidates are the sentences of its gold paragraph (PIAF, SQuAD; the
Paris Call: its document's sentences in English or French, 9 of them, whatever the question's
language); a method is right when the sentence it ranks first contains a gold answer. Methods: e5
cosine alone; the extractive answerer's ``score`` (cosine + term overlap + type bonus, the passage
rank the same for all); the reader; the reader's logit plus ``alpha`` times the answerer's score.
Also the reader's latency for 15 candidates. e5 vectors are cached in ``--cache``.
``--passages``: passage choice instead (``data.passage_items``: each question's answer-bearing
450-character passage among the 5 closest others by e5 cosine that hold no answer), by e5 cosine, by
the packaged reader and by ``--artefact`` (a ``train --passages`` reader), each alone and beside the cosine.
``--foreign K`` adds to each PIAF/SQuAD question's candidates the K sentences of other test articles
closest to it (``data.with_foreign``): what retrieval brings the answerer from other documents.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from index.embedders import CachedEmbedder, e5_small_int8

from . import data
from .data import answerer_scores
from .model import ARTEFACT, Reader


def right(item: data.Item, sentence: str) -> bool:
    return data.holds_answer(item.answers, sentence)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artefact", type=Path, default=ARTEFACT)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "bilingual-qa" / "reader-train-vectors.sqlite")
    ap.add_argument("--limit", type=int, default=0, help="questions per source (0: all)")
    ap.add_argument("--alphas", default="5,10,20,40")
    ap.add_argument("--unanswerable", type=int, default=300, help="questions per source also asked of another article's paragraph")
    ap.add_argument("--fp32", action="store_true", help="the reader without int8 (reference)")
    ap.add_argument("--split", default="test", help="train: questions the reader was trained on (a fit check only)")
    ap.add_argument("--baselines-only", action="store_true", help="e5 cosine and the answerer's score only (fast)")
    ap.add_argument("--foreign", type=int, default=0, help="candidates added from other articles, closest first (0: none)")
    ap.add_argument("--passages", action="store_true", help="passage choice (data.passage_items) instead of sentence choice")
    args = ap.parse_args(argv)
    if args.passages:
        return passages(args)

    items = data.examples(args.split)
    if args.limit:
        by = defaultdict(list)
        for it in items:
            by[it.source].append(it)
        items = [it for group in by.values() for it in group[: args.limit]]
    embedder = CachedEmbedder(e5_small_int8(), args.cache)
    if args.foreign:
        items = data.with_foreign(items, embedder, args.foreign)
    reader = None if args.baselines_only else Reader(args.artefact, int8=not args.fp32).load()
    alphas = [float(a) for a in args.alphas.split(",")]
    hits = defaultdict(lambda: defaultdict(list))
    best = defaultdict(lambda: defaultdict(list))  # source -> method -> [(best score, answerable)]
    rng = np.random.default_rng(0)
    t0 = time.time()
    for n, it in enumerate(items):
        cands = list(it.sentences[: it.paragraph]) + list(it.foreign)
        qvec = embedder.embed([it.question], "query")[0]
        cos = embedder.embed(cands, "passage") @ qvec
        ans = answerer_scores(it, cands, qvec, embedder)
        methods = {"e5 cosine": cos, "answerer score": ans}
        if reader is not None:
            rd = methods["reader"] = reader.score(it.question, cands)
            methods.update({f"reader + {a:g} x answerer": rd + a * ans for a in alphas})
            if reader.answerer_weight:
                methods[f"reader + trained {reader.answerer_weight:.1f} x answerer"] = rd + reader.answerer_weight * ans
        for name, s in methods.items():
            hits[it.source][name].append(right(it, cands[int(np.argmax(s))]))
        hits[it.source]["(gold sentence has an answer)"].append(right(it, cands[it.positive]))
        if reader is not None and len(best[it.source]["reader"]) < 2 * args.unanswerable and not it.source.startswith("paris"):
            other = items[int(rng.integers(len(items)))]
            while other.article == it.article or other.source != it.source:
                other = items[int(rng.integers(len(items)))]
            wrong = list(other.sentences[: other.paragraph])
            for name, got, alt in (("reader", rd, reader.score(it.question, wrong)),
                                   ("answerer score", ans, answerer_scores(it, wrong, qvec, embedder))):
                best[it.source][name] += [(float(got.max()), 1), (float(alt.max()), 0)]
        if (n + 1) % 200 == 0:
            print(f"{n + 1}/{len(items)} questions, {time.time() - t0:.0f} s", flush=True)
    what = "no reader" if reader is None else f"{'fp32' if args.fp32 else 'int8'} reader {args.artefact.name}"
    more = f", + {args.foreign} sentences of other articles each" if args.foreign else ""
    print(f"\ntop-1 sentence accuracy, {args.split} split ({what}{more})")
    sources = list(hits)
    print(f"{'method':34}" + "".join(f"{s:>12}" for s in sources))
    print(f"{'questions':34}" + "".join(f"{len(hits[s]['e5 cosine']):>12}" for s in sources))
    print(f"{'mean candidates':34}" + "".join(f"{np.mean([i.paragraph + len(i.foreign) for i in items if i.source == s]):>12.1f}" for s in sources))
    for name in hits[sources[0]]:
        print(f"{name:34}" + "".join(f"{np.mean(hits[s][name]):>12.3f}" for s in sources))
    print("\nanswerable (gold paragraph) vs not (a paragraph of another article): AUC of the best candidate's score")
    for src, by in best.items():
        if not by["reader"]:
            continue
        print(f"  {src}: " + ", ".join(f"{name} {auc(v):.3f}" for name, v in by.items()) + f" ({len(by['reader']) // 2} pairs)")
        for name, v in by.items():
            pos = np.array([x for x, y in v if y])
            neg = np.array([x for x, y in v if not y])
            for keep in (0.95, 0.9, 0.8):
                t = float(np.quantile(pos, 1 - keep))
                print(f"    {name}: threshold {t:.3f} keeps {keep:.0%} of answerable, abstains on {np.mean(neg < t):.0%} of the others")
    if reader is not None:
        latency(reader, items)


def passages(args) -> None:
    """Top-1 passage accuracy on the split's passage items, per source."""
    embedder = CachedEmbedder(e5_small_int8(), args.cache)
    pairs = data.passage_items(args.split, embedder)
    if args.limit:
        by = defaultdict(list)
        for it, cos in pairs:
            by[it.source].append((it, cos))
        pairs = [p for group in by.values() for p in group[: args.limit]]
    readers = {"reader": Reader(ARTEFACT).load()}
    if args.artefact != ARTEFACT:
        readers["passage reader"] = Reader(args.artefact).load()
    alphas = [float(a) for a in args.alphas.split(",")]
    hits = defaultdict(lambda: defaultdict(list))
    for it, cos in pairs:
        cands, cos = list(it.sentences), np.array(cos)
        methods = {"e5 cosine": cos}
        for name, r in readers.items():
            got = r.score(it.question, cands, max_tokens=192)
            methods[name] = got
            methods.update({f"{name} + {a:g} x cosine": got + a * cos for a in alphas})
        for name, x in methods.items():
            hits[it.source][name].append(right(it, cands[int(np.argmax(x))]))
    print(f"\ntop-1 passage accuracy, {args.split} split (6 passages a question; {', '.join(r.artefact.name for r in readers.values())})")
    sources = list(hits)
    print(f"{'method':34}" + "".join(f"{s:>12}" for s in sources))
    print(f"{'questions':34}" + "".join(f"{len(hits[s]['e5 cosine']):>12}" for s in sources))
    for name in hits[sources[0]]:
        print(f"{name:34}" + "".join(f"{np.mean(hits[s][name]):>12.3f}" for s in sources))


def auc(pairs: list[tuple[float, int]]) -> float:
    pos = np.array([x for x, y in pairs if y])
    neg = np.array([x for x, y in pairs if not y])
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def latency(reader: Reader, items: list[data.Item], n: int = 40) -> None:
    """Milliseconds per question for 15 candidates (the question's own and other test sentences)."""
    pool = [s for it in items for s in it.sentences]
    rng = np.random.default_rng(0)
    times = []
    for it in items[:: max(1, len(items) // n)][:n]:
        cands = list(it.sentences[:15]) + [pool[i] for i in rng.integers(0, len(pool), 15)]
        t = time.perf_counter()
        reader.score(it.question, cands[:15])
        times.append(1000 * (time.perf_counter() - t))
    print(f"latency, 15 candidates: p50 {np.median(times):.0f} ms, p90 {np.percentile(times, 90):.0f} ms, mean {np.mean(times):.0f} ms "
          f"({len(times)} questions)")


if __name__ == "__main__":
    main()
