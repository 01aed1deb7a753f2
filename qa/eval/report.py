"""The types a `qa eval` run returns: one Outcome per question, Scores and Subsets, the Report."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    """One question: per system, the rank of the first hit (None: not in the top 10), of the first
    passage that shows a gold answer, and the length of its top passage; and our answer."""
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
    # per system, aligned with Report.systems: the rank of the first passage that is a hit and whose
    # text, as retrieve returned it, contains a gold answer (None: not in the top 10)
    answer_ranks: tuple[int | None, ...] = ()
    shown_chars: tuple[int, ...] = ()  # per system: characters of its top passage (0: none returned)
    quoted_chars: int = 0  # our answer: the characters of its quotes, summed over its citations
    # an answerer with a model (llm): its claims by what became of their quote, as counted in
    # qa.answerers.llm.CLAIM_KINDS (verbatim, folded, replaced, dropped); () without a model
    claims: tuple[int, ...] = ()
    by_model: bool | None = None  # None: the model was not asked; True: the answer is its claims; False: the extractive one
    short: str = ""  # the short answer our answer leads with ("" when none)


@dataclass(frozen=True)
class Scores:
    system: str
    r1: float | None  # None: no answerable question in the subset
    rk: float | None  # R@k, k = Report.k
    mrr: float | None  # MRR@10
    a1: float | None = None  # a gold answer inside the top passage as shown (a hit, i.e. in the gold file)
    ak: float | None = None  # ... inside one of the top k passages
    top_chars: float | None = None  # mean characters of the top passage: what "shown" costs the reader


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
    mean_cited_chars: float | None = None  # characters of the passages our citations point into
    top_in_question_lang: float | None = None
    mean_quoted_chars: float | None = None  # per answered question: the characters it quotes, all citations
    short_given: float | None = None  # of the answerable questions answered: the share led by a short answer
    short_right: float | None = None  # of those: the share whose short answer is right (metrics.short_right)
    claims: tuple[int, ...] = ()  # a model's claims, summed: verbatim, folded, replaced, dropped (Outcome.claims)
    model_asked: int = 0  # questions the model was asked (the extractive floor answered them)
    by_model: int = 0  # ... whose answer is the model's claims (the others: the extractive answer, with a note)

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
    split: str = "all"  # the questions asked: train | test | all (qa/eval/splits.py)

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
        subsets = tuple(Subset(**{**s, "scores": tuple(Scores(**x) for x in s["scores"]),
                                  "claims": tuple(s.get("claims", ()))}) for s in d["subsets"])
        tuples = ("ranks", "cited_chars", "ms", "expected", "answer_ranks", "shown_chars", "claims")
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
        from .output import format_report

        return format_report(self)
