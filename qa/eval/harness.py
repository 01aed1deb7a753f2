"""Evaluation harness (`qa eval SET`): retrieval, answers, citations and abstention, beside baselines.

    >>> from qa.eval import evaluate
    >>> report = evaluate("seeds")                 # our system and three baselines on the seeds dev set
    >>> print(report)                              # the tables `qa eval seeds` prints
    >>> report.subset("fr").score("ours").r1      # R@1 of our retrieval on the French questions

Sets (the shared data is ../shared beside the checkout, or QA_SHARED):

    seeds               tests/data/seeds_dev.jsonl over seeds/ (76 questions, 12 of them unanswerable)
    paris-call          tests/data/paris_call.jsonl over paris-call/en and fr (119 questions)
    paris-call-en-only  the same questions over paris-call/en alone: French questions must cross over
    paris-call-fr-only  the same over paris-call/fr alone: English questions must cross over
    piaf                PIAF v1.0, each of its 761 paragraphs a file; a fixed sample of up to 1,000
                        questions of the split (full=True: all of them; the test split has 853)
    squad               SQuAD v1.1 (Du et al. dev split), each of its 913 paragraphs a file (4,961
                        English questions; the test split: 1,268 of 8 articles)
    piaf-long, squad-long  the same questions, each article's paragraphs joined into one file (191, 24)
    piaf-md, squad-md   the -long files as Markdown, the article's title as their heading
    piaf-absent, squad-absent  the paragraphs of about half of the articles (by a hash of the title): the
                        questions about the others are unanswerable; abstention is calibrated on them
    tatoeba, un         EN/FR sentence pairs: does the embedder rank a sentence's translation first?
    PATH.jsonl          questions in the seeds / Paris Call format, over the files in `docs`

`split` (train | test | all) keeps the questions of the fixed split by article (qa/eval/splits.py;
default: test for piaf, squad and the -long sets, which settings are tuned on, all for the others); the
index always holds every document of the set, so a test question is retrieved from the whole collection.

A hit is a passage from a gold file; for the bilingual seed 000 the passage must also be in the gold
language. R@1 is thus "the right document first". "Answer in top passage" @1 / @k asks more, for every
system: the passage is a hit and its text, at the length retrieve returned it, contains a gold answer
(metrics.contains_answer); with the passage length shown beside it, since a longer passage contains
more answers and costs the reader more.

Each run rebuilds its index in WORKDIR/SET-EMBEDDER-cCHUNKS from one embedding cache (WORKDIR/cache),
so a second run embeds nothing new; `home=` uses an index folder of yours instead
(the set's files are added to it, unchanged ones skipped: other documents there stay as distractors).
Concessions: an answer is correct when it contains any one gold answer (either language for the
Paris Call), lenient for two-part answers; latencies are wall-clock on whatever else the machine runs.
"""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from time import perf_counter

import numpy as np

from index.embedders import AUTO, default_name

from ..config import Settings
from ..errors import ConfigError
from ..types import Answer
from .metrics import DEPTH, contains_answer, mean, progress_bar, rank_metrics, say, short_right
from .report import Outcome, Report, Scores, Subset
from .sets import EvalSet, Question, default_workdir, load_set


def evaluate(set_name_or_path: str, *, k: int = 5, embedder: str | None = None, limit: int | None = None,
             baselines: bool = True, workdir: str | Path | None = None, home: str | Path | None = None,
             cache: str | Path | None = None, docs=(), full: bool = False, split: str | None = None,
             progress: bool = False, embed_latency: bool = True, index_options: dict | None = None,
             **settings) -> Report:
    """Evaluate one set; `settings` override the index's (chunk_chars=..., abstain_below=...).

    `split`: train | test | all, the questions asked (None: test for piaf, squad and the -long sets,
    all for the others); `limit`: only the first N of them, for a quick run (the index still holds
    every document).
    `cache`: the folder of the embedding cache, shared by every set and index (default WORKDIR/cache;
    an index folder given as `home` keeps its own). It is keyed by (model, kind, text), so sharing it
    between runs, sets and temporary folders is safe.
    `embed_latency`: also time embedding each question on the model itself, cache or not (one more
    embedding per question; tests turn it off).
    `index_options`: passed to `Index` (e.g. `retrieval=RetrievalSettings(...)`, `answerer=...`): a
    sweep measures other tunings this way.
    """
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be greater than 0. Currently, k is {k!r}")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be greater than 0. Currently, limit is {limit!r}")
    workdir = Path(workdir).expanduser() if workdir else default_workdir()
    cache = Path(cache).expanduser() if cache else workdir / "cache"
    name = str(set_name_or_path)
    s = Settings.from_env(embedder=embedder, **settings)
    if s.embedder == AUTO and home is None:  # a fresh index: the engine "auto" picks for a new folder, by name
        s = s.with_(embedder=default_name())
    if name in ("tatoeba", "un"):
        if split not in (None, "all"):
            raise ConfigError(f"{name} is a set of sentence pairs with no split: use split='all'. "
                              f"Currently, split is {split!r}")
        from .pairs import evaluate_pairs

        return evaluate_pairs(name, s.embedder, cache, k, limit, progress)
    es = load_set(name, workdir, docs, full, split)
    key = f"{es.name}-{_slug(s.embedder)}-c{s.chunk_chars}"
    t0 = perf_counter()
    idx = _index(es, s, workdir / key if home is None else Path(home), cache if home is None else None, progress,
                 index_options or {})
    built = perf_counter() - t0
    systems = [idx]
    if baselines:
        from .baselines import RECIPES, BM25Only, DenseOnly, LlamaIndexRecipe

        systems += [BM25Only(idx.collection), DenseOnly(idx.collection)]
        paths = [d.path for d in idx.documents()]
        for size, overlap in RECIPES:
            say(progress, f"building the llama-index baseline ({size} tokens, overlap {overlap})")
            systems.append(LlamaIndexRecipe(paths, idx.collection.embedder, workdir / f"{key}-llamaindex-{size}",
                                            size, overlap))
    names = ("ours",) + tuple(x.name for x in systems[1:])
    questions = es.questions[:limit] if limit else es.questions
    files: dict[str, str] = {}

    def prepare(text: str) -> float | None:
        """The query vector, timed apart on the model itself (the cache may already hold it from a past
        run); every system then finds it in the cache, so their latencies compare search alone."""
        from index.chunker import clean

        t = perf_counter()
        if embed_latency:
            idx.collection.embedder.inner.embed([clean(text)], "query")
        ms = 1000 * (perf_counter() - t) if embed_latency else None
        idx.collection.embed_query(text)
        return ms

    model = _model_tally(idx.answerer)
    outcomes = [model(score_question(q, systems, max(k, DEPTH), idx.ask, files, prepare))
                for q in progress_bar(questions, progress, f"{es.name} questions")]
    subsets = [summarise(n, [o for o in outcomes if f(o)], names, k) for n, f in _groups(outcomes)]
    latency = []
    for i, what in enumerate(["embed query"] + [f"retrieve {n}" for n in names] + ["ask ours"]):
        ms = [o.ms[i] for o in outcomes if o.ms[i] is not None]
        if ms:
            latency.append((what, float(np.percentile(ms, 50)), float(np.percentile(ms, 95))))
    asked = f"{len(outcomes)} questions ({sum(o.answerable for o in outcomes)} answerable)"
    if es.note or limit:
        asked += " [" + "; ".join(x for x in (es.note, f"the first {limit}" if limit else "") if x) + "]"
    info = (f"{asked} over {len(idx.documents())} documents, {len(idx)} chunks; embedder {s.embedder}, chunk_chars "
            f"{s.chunk_chars}, abstain_below {s.abstain_below}; index ready in {built:.0f} s")
    if idx.answerer.name != "extractive":
        info += f"; answerer {idx.answerer!r}"
    return Report(es.name, s.embedder, k, names, tuple(subsets), tuple(latency), info, perf_counter() - t0,
                  tuple(outcomes), es.split)


def _index(es: EvalSet, s: Settings, home: Path, cache: Path | None, progress: bool, index_options: dict):
    """`cache` given: the folder is ours, rebuilt from scratch (so chunker changes are measured) with
    the shared embedding cache; None: a user's index folder, added to and nothing removed."""
    from ..api import Index

    if cache is not None:
        shutil.rmtree(home / "chroma", ignore_errors=True)
        for f in home.glob("catalog-*.sqlite*"):
            f.unlink()
    idx = Index(home, settings=s.with_(home=home, chroma_url=""), embedding_cache=cache, **index_options)
    update = None
    if progress:
        from ..progress import tqdm_progress

        bar, update = tqdm_progress(f"indexing {es.name}")
    try:
        report = idx.add(list(es.paths), progress=update)
    finally:
        if progress:
            bar.close()
    if report.failed:
        say(True, f"warning: {len(report.failed)} files failed to index:\n" + report.summary())
    return idx


def score_question(q: Question, systems, depth: int, ask, files: dict[str, str], prepare=None) -> Outcome:
    """One question through every system (`retrieve(question, k) -> list[Passage]`; the first is ours)
    and our answerer (`ask(question) -> Answer`). `prepare(question)`: called first, returns the
    milliseconds embedding the question took (None: not timed). `files`: decoded texts so far."""
    ranks, answer_ranks, shown, ms, ours = [], [], [], [prepare(q.text) if prepare else None], []
    for system in systems:
        t = perf_counter()
        passages = system.retrieve(q.text, depth)
        ms.append(1000 * (perf_counter() - t))
        ranks.append(next((i for i, p in enumerate(passages, 1) if q.hit(p)), None))
        answer_ranks.append(next((i for i, p in enumerate(passages, 1)
                                  if q.hit(p) and contains_answer(p.text, q.answers)), None))
        shown.append(len(passages[0].text) if passages else 0)
        ours = passages if system is systems[0] else ours
    t = perf_counter()
    try:
        ans = ask(q.text)
    except AssertionError as e:  # ask() refuses a quote that is not verbatim: count it as inexact
        ans = Answer(f"ERROR: {e}", q.lang, False)
        exact, n = 0, 1
    else:
        exact, n = sum(_exact(c, files) for c in ans.citations), len(ans.citations)
    ms.append(1000 * (perf_counter() - t))
    top = f"{ours[0].name} ({ours[0].lang})" if ours else "-"
    correct = (ans.answered and contains_answer(ans.text, q.answers)) if q.answerable else None
    return Outcome(q.id, q.text, q.lang, q.crosslingual, q.answerable, tuple(ranks), top, ans.answered, correct,
                   ans.text, n, exact, tuple(len(c.passage.text) for c in ans.citations), tuple(ms), q.answers,
                   tuple(answer_ranks), tuple(shown), sum(len(c.quote) for c in ans.citations),
                   short=ans.short)


def _model_tally(answerer):
    """A function that sets, on the Outcome of the question just asked, what the answerer's model did
    (the llm answerer's `tally` since the question before); the Outcome unchanged for an answerer
    without a model."""
    tally = getattr(answerer, "tally", None)
    if tally is None:
        return lambda outcome: outcome
    from ..answerers.llm import CLAIM_KINDS

    seen = Counter(tally)

    def set_on(outcome: Outcome) -> Outcome:
        now = Counter(tally)
        new = {k: now[k] - seen[k] for k in now}
        seen.clear()
        seen.update(now)
        by_model = None if not new.get("asked") else bool(new.get("by model"))
        return replace(outcome, claims=tuple(new.get(k, 0) for k in CLAIM_KINDS), by_model=by_model)

    return set_on


def _exact(c, files: dict[str, str]) -> bool:
    """The quote is the source file's text at its offsets (decoded here, independently of the loader;
    utf-8-sig because the loader drops a BOM before counting offsets). `files`: decoded texts so far."""
    src = c.passage.source
    if src not in files:
        files[src] = Path(src).read_bytes().decode("utf-8-sig")
    return files[src][c.start : c.end] == c.quote


def _groups(outcomes: list[Outcome]):
    yield "all", lambda o: True
    langs = sorted({o.lang for o in outcomes})
    for lang in langs if len(langs) > 1 else ():
        yield lang, lambda o, lang=lang: o.lang == lang
    if any(o.crosslingual for o in outcomes) and not all(o.crosslingual for o in outcomes):
        yield "crosslingual", lambda o: o.crosslingual
        yield "monolingual", lambda o: not o.crosslingual


def summarise(name: str, outs: list[Outcome], systems: tuple[str, ...], k: int) -> Subset:
    """The Subset of these outcomes: per system R@1, R@k, MRR, answer in top passage @1 / @k (over the
    answerable questions with a gold answer) and the top passage's mean length; our answers."""
    ans = [o for o in outs if o.answerable]
    un = [o for o in outs if not o.answerable]
    with_answer = [o for o in ans if o.expected and o.answer_ranks]
    scores = []
    for i, system in enumerate(systems):
        a = [o.answer_ranks[i] for o in with_answer]
        scores.append(Scores(system, *rank_metrics([o.ranks[i] for o in ans], k),
                             a1=mean([r == 1 for r in a]), ak=mean([r is not None and r <= k for r in a]),
                             top_chars=mean([o.shown_chars[i] for o in outs if o.shown_chars])))
    n_cites, exact = sum(o.citations for o in outs), sum(o.exact_citations for o in outs)
    chars = [c for o in outs for c in o.cited_chars]
    claims = tuple(int(x) for x in np.sum([o.claims for o in outs if o.claims], axis=0)) if any(o.claims for o in outs) else ()
    asked = [o for o in outs if o.by_model is not None]
    return Subset(name, len(outs), len(ans), tuple(scores),
                  answer_accuracy=mean([bool(o.correct) for o in ans]), answered=mean([o.answered for o in ans]),
                  abstained=mean([not o.answered for o in un]),
                  citations=n_cites, citation_exactness=exact / n_cites if n_cites else None,
                  mean_cited_chars=mean(chars),
                  top_in_question_lang=mean([o.top.endswith(f"({o.lang})") for o in outs]),
                  mean_quoted_chars=mean([o.quoted_chars for o in outs if o.answered]),
                  short_given=mean([bool(o.short) for o in ans if o.answered]),
                  short_right=mean([short_right(o.short, o.expected) for o in ans if o.short and o.expected]),
                  claims=claims, model_asked=len(asked), by_model=sum(bool(o.by_model) for o in asked))


def _slug(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in s)[-60:]
