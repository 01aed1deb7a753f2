"""What `qa eval` counts, shared by the QA sets (harness) and the sentence pairs (pairs)."""
from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter

import numpy as np

DEPTH = 10  # passages retrieved per question and system: MRR@10


def contains_answer(text: str, answers) -> bool:
    """Does `text` contain one of `answers`, compared composed (fr/paris-call.md is stored decomposed),
    whitespace collapsed, ’ read as ', case ignored?"""
    return any(_norm(a) in _norm(text) for a in answers if a.strip())


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).replace("’", "'").split()).casefold()


def short_right(short: str, answers) -> bool:
    """Is a short answer right: does it hold a gold answer, or share at least half of one's words
    (SQuAD's token F1 >= 0.5, articles and punctuation aside: "Bugeaud" for "le général Bugeaud", "2 à
    7" for "2 à 7 fleurs"; not "Ascoli" for "Trani")?"""
    return contains_answer(short, answers) or max((_f1(short, a) for a in answers if a.strip()), default=0.0) >= 0.5


_ARTICLES = re.compile(r"\b(?:a|an|the|le|la|les|l|un|une|des|du|de|d)\b")


def _f1(a: str, b: str) -> float:
    """SQuAD's token F1 of two texts, compared as contains_answer compares, articles and punctuation aside."""
    x, y = (_ARTICLES.sub(" ", re.sub(r"[^\w\s]", " ", _norm(t))).split() for t in (a, b))
    same = sum((Counter(x) & Counter(y)).values())
    return 0.0 if not same else 2 * same / (len(x) + len(y))


def rank_metrics(ranks: list[int | None], k: int) -> tuple[float | None, ...]:
    if not ranks:
        return (None, None, None)
    return (sum(r == 1 for r in ranks) / len(ranks), sum(r is not None and r <= k for r in ranks) / len(ranks),
            sum(1 / r for r in ranks if r is not None and r <= DEPTH) / len(ranks))


def mean(xs) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def progress_bar(items, progress: bool, desc: str, unit: str = "question"):
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)


def say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr)
