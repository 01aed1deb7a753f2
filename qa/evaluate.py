"""Evaluation harness (`qa eval SET`): retrieval, answers, citations and abstention, beside baselines.

    >>> from qa.evaluate import evaluate
    >>> report = evaluate("seeds")                 # our system and three baselines on the seeds dev set
    >>> print(report)                              # the tables `qa eval seeds` prints
    >>> report.subset("fr").score("ours").r1      # R@1 of our retrieval on the French questions

Sets (the shared data is ../shared beside the checkout, or QA_SHARED):

    seeds               tests/data/seeds_dev.jsonl over seeds/ (76 questions, 12 of them unanswerable)
    paris-call          tests/data/paris_call.jsonl over paris-call/en and fr (119 questions)
    paris-call-en-only  the same questions over paris-call/en alone: French questions must cross over
    piaf                PIAF v1.0, each of its 761 paragraphs a file; a fixed sample of 1,000 questions
                        (full=True: all 3,835)
    tatoeba, un         EN/FR sentence pairs: does the embedder rank a sentence's translation first?
    PATH.jsonl          questions in the seeds / Paris Call format, over the files in `docs`

A hit is a passage from a gold file; for the bilingual seed 000 the passage must also be in the gold
language. Each run rebuilds its index in WORKDIR/SET-EMBEDDER-cCHUNKS from one embedding cache
(WORKDIR/cache), so a second run embeds nothing new; `home=` uses an index folder of yours instead
(the set's files are added to it, unchanged ones skipped: other documents there stay as distractors).
Concessions: an answer is correct when it contains any one gold answer (either language for the
Paris Call), lenient for two-part answers; latencies are wall-clock on whatever else the machine runs.
"""
from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

from .config import Settings
from .errors import ConfigError
from .types import Answer

from .eval_output import plot  # noqa: F401  (re-exported: qa.evaluate.plot)
from .eval_sets import REPO, read_questions  # noqa: F401  (re-exported: qa.evaluate.REPO, read_questions)
from .eval_sets import SETS, EvalSet, Question, default_workdir, load_set

DEPTH = 10  # passages retrieved per question and system: MRR@10


# -- the types a run returns -------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One question: the rank of the first hit per system (None: not in the top 10), and our answer."""
    id: str
    question: str
    lang: str
    crosslingual: bool
    answerable: bool
    ranks: tuple[int | None, ...]  # aligned with Report.systems
    top: str  # our first passage, "name (lang)"
    answered: bool
    correct: bool | None  # None for unanswerable questions
    answer: str
    citations: int
    exact_citations: int
    cited_chars: tuple[int, ...]
    ms: tuple[float | None, ...]  # embedding the question (None: not timed), each system's retrieve, ask
    expected: tuple[str, ...] = ()  # the gold answers


@dataclass(frozen=True)
class Scores:
    system: str
    r1: float | None  # None: no answerable question in the subset
    rk: float | None  # R@k, k = Report.k
    mrr: float | None  # MRR@10


@dataclass(frozen=True)
class Subset:
    name: str  # all, en, fr, crosslingual, monolingual (fr→en, en→fr for sentence pairs)
    n: int
    n_answerable: int
    scores: tuple[Scores, ...]
    answer_accuracy: float | None = None  # answerable questions answered with a gold answer
    answered: float | None = None  # share of answerable questions answered
    abstained: float | None = None  # share of unanswerable questions not answered
    citations: int = 0
    citation_exactness: float | None = None  # share of quotes found verbatim at their offsets
    mean_cited_chars: float | None = None
    top_in_question_lang: float | None = None

    def score(self, system: str) -> Scores:
        return next(s for s in self.scores if s.system == system)


@dataclass(frozen=True)
class Report:
    set: str
    embedder: str
    k: int
    systems: tuple[str, ...]
    subsets: tuple[Subset, ...]
    latency_ms: tuple[tuple[str, float, float], ...]  # (what, p50, p95)
    info: str
    seconds: float
    outcomes: tuple[Outcome, ...] = ()

    def subset(self, name: str) -> Subset:
        for s in self.subsets:
            if s.name == name:
                return s
        raise KeyError(f"no subset {name!r}; this report has {', '.join(s.name for s in self.subsets)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def load(cls, path: str | Path) -> "Report":
        """A report written by `qa eval --json`, e.g. to compare two runs."""
        d = json.loads(Path(path).read_text("utf-8"))
        subsets = tuple(Subset(**{**s, "scores": tuple(Scores(**x) for x in s["scores"])}) for s in d["subsets"])
        tuples = ("ranks", "cited_chars", "ms", "expected")
        outcomes = tuple(Outcome(**{**o, **{f: tuple(o[f]) for f in tuples if f in o}}) for o in d["outcomes"])
        return cls(**{**d, "systems": tuple(d["systems"]), "subsets": subsets, "outcomes": outcomes,
                      "latency_ms": tuple(tuple(x) for x in d["latency_ms"])})

    def misses(self) -> list[str]:
        """Our R@1 misses, wrong answers and wrong abstentions: the question, what went wrong, our answer."""
        out = []
        for o in self.outcomes:
            why = []
            if o.answerable and o.ranks[0] != 1:
                why.append(f"R@1 miss (gold at {o.ranks[0] or '>10'}, top {o.top})")
            if o.answerable and not o.correct:
                why.append("abstained" if not o.answered else f"wrong answer (expected {' | '.join(o.expected)})")
            if not o.answerable and o.answered:
                why.append("answered an unanswerable question")
            if why:
                answer = " ".join(o.answer.split())[:300]
                out.append(f"{o.id} [{o.lang}] {o.question}\n    {'; '.join(why)}\n    -> {answer}")
        return out

    def __str__(self) -> str:
        from .eval_output import format_report

        return format_report(self)


# -- running --------------------------------------------------------------------------------------
def evaluate(set_name_or_path: str, *, k: int = 5, embedder: str | None = None, limit: int | None = None,
             baselines: bool = True, workdir: str | Path | None = None, home: str | Path | None = None,
             cache: str | Path | None = None, docs=(), full: bool = False, progress: bool = False,
             embed_latency: bool = True, **settings) -> Report:
    """Evaluate one set; `settings` override the index's (chunk_chars=..., abstain_below=...).

    `cache`: the folder of the embedding cache, shared by every set and index (default WORKDIR/cache;
    an index folder given as `home` keeps its own). It is keyed by (model, kind, text), so sharing it
    between runs, sets and temporary folders is safe.
    `embed_latency`: also time embedding each question on the model itself, cache or not (one more
    embedding per question; tests turn it off).
    """
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be greater than 0. Currently, k is {k!r}")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be greater than 0. Currently, limit is {limit!r}")
    workdir = Path(workdir).expanduser() if workdir else default_workdir()
    cache = Path(cache).expanduser() if cache else workdir / "cache"
    name = str(set_name_or_path)
    s = Settings.from_env(embedder=embedder, **settings)
    if name in ("tatoeba", "un"):
        from .eval_pairs import evaluate_pairs

        return evaluate_pairs(name, s.embedder, cache, k, limit, progress)
    es = load_set(name, workdir, docs, full)
    key = f"{es.name}-{_slug(s.embedder)}-c{s.chunk_chars}"
    t0 = perf_counter()
    idx = _index(es, s, workdir / key if home is None else Path(home), cache if home is None else None, progress)
    built = perf_counter() - t0
    systems = [idx]
    if baselines:
        from .baselines import BM25Only, DenseOnly, LlamaIndexRecipe

        _say(progress, "building the llama-index baseline")
        systems += [BM25Only(idx), DenseOnly(idx), LlamaIndexRecipe([d.path for d in idx.documents()], idx.embedder,
                                                                workdir / f"{key}-llamaindex")]
    names = ("ours",) + tuple(x.name for x in systems[1:])
    questions = es.questions[:limit] if limit else es.questions
    files: dict[str, str] = {}
    outcomes = [_run(q, idx, systems, max(k, DEPTH), embed_latency, files)
                for q in _bar(questions, progress, f"{es.name} questions")]
    subsets = [_summarise(n, [o for o in outcomes if f(o)], names, k) for n, f in _groups(outcomes)]
    latency = []
    for i, what in enumerate(["embed query"] + [f"retrieve {n}" for n in names] + ["ask ours"]):
        ms = [o.ms[i] for o in outcomes if o.ms[i] is not None]
        if ms:
            latency.append((what, float(np.percentile(ms, 50)), float(np.percentile(ms, 95))))
    info = (f"{len(outcomes)} questions ({sum(o.answerable for o in outcomes)} answerable) over "
            f"{len(idx.documents())} documents, {len(idx)} chunks; embedder {s.embedder}, chunk_chars "
            f"{s.chunk_chars}, abstain_below {s.abstain_below}; index ready in {built:.0f} s")
    return Report(es.name, s.embedder, k, names, tuple(subsets), tuple(latency), info, perf_counter() - t0,
                  tuple(outcomes))


def _index(es: EvalSet, s: Settings, home: Path, cache: Path | None, progress: bool):
    """`cache` given: the folder is ours, rebuilt from scratch (so chunker changes are measured) with
    the shared embedding cache; None: a user's index folder, added to and nothing removed."""
    from index.embedders import CachedEmbedder

    from .api import Index

    if cache is not None:
        shutil.rmtree(home / "chroma", ignore_errors=True)
        for f in home.glob("catalog-*.sqlite*"):
            f.unlink()
    idx = Index(home, settings=s.with_(home=home, chroma_url=""))
    if cache is not None:
        idx.embedder = CachedEmbedder(idx.embedder.inner, cache / "embeddings.sqlite")
    update = None
    if progress:
        from .cli import tqdm_progress

        bar, update = tqdm_progress(f"indexing {es.name}")
    try:
        report = idx.add(list(es.paths), progress=update)
    finally:
        if progress:
            bar.close()
    if report.failed:
        _say(True, f"warning: {len(report.failed)} files failed to index:\n" + report.summary())
    return idx


def _run(q: Question, idx, systems, depth: int, embed_latency: bool, files: dict[str, str]) -> Outcome:
    from index.chunker import clean

    # the query vector, timed apart on the model itself (the cache may already hold it from a past run);
    # every system below then finds it in the cache, so their latencies compare search alone
    t = perf_counter()
    if embed_latency:
        getattr(idx.embedder, "inner", idx.embedder).embed([clean(q.text)], "query")
    ranks, ms, ours = [], [1000 * (perf_counter() - t) if embed_latency else None], []
    idx.embedder.embed([clean(q.text)], "query")
    for system in systems:
        t = perf_counter()
        passages = system.retrieve(q.text, depth)
        ms.append(1000 * (perf_counter() - t))
        ranks.append(next((i for i, p in enumerate(passages, 1) if q.hit(p)), None))
        ours = passages if system is idx else ours
    t = perf_counter()
    try:
        ans = idx.ask(q.text)
    except AssertionError as e:  # ask() refuses a quote that is not verbatim: count it as inexact
        ans = Answer(f"ERROR: {e}", q.lang, False)
        exact, n = 0, 1
    else:
        exact, n = sum(_exact(c, files) for c in ans.citations), len(ans.citations)
    ms.append(1000 * (perf_counter() - t))
    top = f"{ours[0].name} ({ours[0].lang})" if ours else "-"
    correct = (ans.answered and contains_answer(ans.text, q.answers)) if q.answerable else None
    return Outcome(q.id, q.text, q.lang, q.crosslingual, q.answerable, tuple(ranks), top, ans.answered, correct,
                   ans.text, n, exact, tuple(len(c.passage.text) for c in ans.citations), tuple(ms), q.answers)


def _exact(c, files: dict[str, str]) -> bool:
    """The quote is the source file's text at its offsets (decoded here, independently of the loader;
    utf-8-sig because the loader drops a BOM before counting offsets). `files`: decoded texts so far."""
    src = c.passage.source
    if src not in files:
        files[src] = Path(src).read_bytes().decode("utf-8-sig")
    return files[src][c.start : c.end] == c.quote


def contains_answer(text: str, answers) -> bool:
    """Does `text` contain one of `answers`, compared composed (fr/paris-call.md is stored decomposed),
    whitespace collapsed, ’ read as ', case ignored?"""
    return any(_norm(a) in _norm(text) for a in answers if a.strip())


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).replace("’", "'").split()).casefold()


def _groups(outcomes: list[Outcome]):
    yield "all", lambda o: True
    langs = sorted({o.lang for o in outcomes})
    for lang in langs if len(langs) > 1 else ():
        yield lang, lambda o, lang=lang: o.lang == lang
    if any(o.crosslingual for o in outcomes) and not all(o.crosslingual for o in outcomes):
        yield "crosslingual", lambda o: o.crosslingual
        yield "monolingual", lambda o: not o.crosslingual


def _summarise(name: str, outs: list[Outcome], systems: tuple[str, ...], k: int) -> Subset:
    ans = [o for o in outs if o.answerable]
    un = [o for o in outs if not o.answerable]
    scores = tuple(Scores(s, *_rank_metrics([o.ranks[i] for o in ans], k)) for i, s in enumerate(systems))
    n_cites, exact = sum(o.citations for o in outs), sum(o.exact_citations for o in outs)
    chars = [c for o in outs for c in o.cited_chars]
    return Subset(name, len(outs), len(ans), scores,
                  answer_accuracy=_mean([bool(o.correct) for o in ans]), answered=_mean([o.answered for o in ans]),
                  abstained=_mean([not o.answered for o in un]), citations=n_cites,
                  citation_exactness=exact / n_cites if n_cites else None, mean_cited_chars=_mean(chars),
                  top_in_question_lang=_mean([o.top.endswith(f"({o.lang})") for o in outs]))


def _rank_metrics(ranks: list[int | None], k: int) -> tuple[float | None, ...]:
    if not ranks:
        return (None, None, None)
    return (sum(r == 1 for r in ranks) / len(ranks), sum(r is not None and r <= k for r in ranks) / len(ranks),
            sum(1 / r for r in ranks if r is not None and r <= DEPTH) / len(ranks))


def _mean(xs) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def _slug(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in s)[-60:]


def _bar(items, progress: bool, desc: str, unit: str = "question"):
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr)


# -- the command ----------------------------------------------------------------------------------
def cmd_eval(args) -> int:
    overrides = {"chunk_chars": args.chunk_chars, "abstain_below": args.abstain_below}
    report = evaluate(args.set, k=args.k, embedder=args.embedder, limit=args.limit, baselines=args.baselines,
                      workdir=args.workdir, cache=args.cache, home=args.home, docs=args.docs or (), full=args.full,
                      progress=True,
                      **{key: v for key, v in overrides.items() if v is not None})
    print(report)
    if args.misses and report.outcomes:
        print("\nmisses (ours):\n" + "\n".join(report.misses()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"\nwrote {args.json}")
    if args.plot:
        print(f"wrote {plot(report, args.plot)}")
    return 0


def add_parser(sub) -> None:
    """Register `qa eval` on the CLI's subparsers."""
    import argparse

    s = sub.add_parser("eval", help="measure retrieval, answers and citations on an evaluation set, beside baselines",
                       epilog="sets: seeds, paris-call, paris-call-en-only, piaf (--full), tatoeba, un, "
                              "or a questions .jsonl with --docs. Indexes and embedding caches are kept in "
                              "--workdir, so a second run is fast.")
    s.add_argument("set", metavar="SET", help=" | ".join(SETS) + " | FILE.jsonl (with --docs)")
    s.add_argument("--home", default=None, help="index into this data folder, keeping what it holds (default: "
                                                "a fresh index in --workdir, rebuilt from the embedding cache)")
    s.add_argument("--workdir", default=None, help=f"indexes and caches of the runs (default {default_workdir()})")
    s.add_argument("--cache", default=None, help="embedding cache folder, shared by every set (default WORKDIR/cache)")
    s.add_argument("--k", type=int, default=5, help="recall at k (default 5); MRR is at 10")
    s.add_argument("--json", metavar="OUT.json", help="write the report, every question included, as JSON")
    s.add_argument("--plot", metavar="OUT.png", help="write R@1 / R@k per subset and system as a PNG")
    s.add_argument("--embedder", default=None, help="e5-small | use-v3 | minilm | ... (default QA_EMBEDDER)")
    s.add_argument("--limit", type=int, default=None, help="only the first N questions (or sentence pairs)")
    s.add_argument("--full", action="store_true", help="piaf: all 3,835 questions, not the fixed sample of 1,000")
    s.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                   help="also run BM25 alone, dense alone and the plain llama-index recipe (default: yes)")
    s.add_argument("--docs", nargs="+", metavar="PATH", help="the documents a questions .jsonl is about")
    s.add_argument("--chunk-chars", type=int, default=None, help="override QA_CHUNK_CHARS for this run")
    s.add_argument("--abstain-below", type=float, default=None, help="override QA_ABSTAIN_BELOW for this run")
    s.add_argument("--misses", action="store_true", help="list the questions we get wrong")
    s.set_defaults(fn=cmd_eval)
