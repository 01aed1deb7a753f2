"""Evaluation (`qa eval SET`): retrieval, answers, citations and abstention, beside baselines. Every
report it writes goes to eval/ at the top of the checkout.

    sets.py       the evaluation sets: questions and the documents they are about
    splits.py     the fixed train/test split by article: test questions for the sets we tune on
    harness.py    evaluate(): index a set, ask every question of every system, score
    report.py     the Report it returns (per-question Outcomes, Subsets, Scores)
    metrics.py    R@k, MRR, answer containment
    baselines.py  BM25 alone, dense alone, the plain llama-index recipe (256 and 1024 tokens)
    pairs.py      the sentence-pair sets (tatoeba, un): the embedder alone
    output.py     the terminal table and the PNG
    cli.py        the `qa eval` command
    sweep.py      `python -m qa.eval.sweep`: the settings table of the README
    langid.py     `python -m qa.eval.langid`: the question-language detector's check
"""
from .harness import evaluate
from .metrics import contains_answer
from .output import plot
from .report import Outcome, Report, Scores, Subset
from .sets import REPO, SETS, EvalSet, Question, default_workdir, load_set, read_questions, shared_dir

__all__ = ["evaluate", "contains_answer", "plot", "Outcome", "Report", "Scores", "Subset", "REPO", "SETS",
           "EvalSet", "Question", "default_workdir", "load_set", "read_questions", "shared_dir"]
