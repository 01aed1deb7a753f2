"""The evaluation sets of `qa eval` (listed in qa/eval/harness.py): where their questions and documents
are, read into Questions; the shared data is ../shared beside the checkout, or QA_SHARED. The sentence-
pair sets (tatoeba, un) are read in qa/eval/pairs.py.

Every question carries the key of its split (qa/eval/splits.py): the Wikipedia article's title for
PIAF and SQuAD (and their -long variants), the first gold document's name for the Paris Call, the
question's id for the seeds and a questions .jsonl. `split="test"` keeps the questions whose key is
held out; the documents indexed stay all of them, so a test question is asked over the whole collection.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import SEEDS_DIR
from ..errors import ConfigError, SourceError
from ..types import Passage
from .splits import split_of

REPO = Path(__file__).resolve().parents[2]
SETS = ("seeds", "paris-call", "paris-call-en-only", "paris-call-fr-only", "piaf", "squad", "piaf-long", "squad-long",
        "piaf-md", "squad-md", "piaf-absent", "squad-absent", "tatoeba", "un")
SPLITS = ("train", "test", "all")
HELD_OUT_BY_DEFAULT = ("piaf", "squad", "piaf-long", "squad-long", "piaf-md", "squad-md", "piaf-absent", "squad-absent")  # the sets we tune on: test split by default
PIAF_SAMPLE, PIAF_SEED = 1000, 0
ABSENT_SHARE = 0.5  # the share of articles the -absent sets leave out of their documents
BILINGUAL_SEED = "000_"  # the seed holding an English and a French text: a hit must match gold_lang
# SQuAD-format sets: (data file under shared/eval, question language, file prefix)
WIKI = {"piaf": ("piaf/piaf-v1.0.json", "fr", "piaf"), "squad": ("squad-en/dev-v1.1.json", "en", "squad")}


def shared_dir() -> Path:
    return Path(os.environ.get("QA_SHARED") or REPO.parent / "shared")


def default_workdir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bilingual-qa-eval"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    lang: str
    answerable: bool
    gold: tuple[str, ...]  # file names that count as a hit
    gold_lang: str | None  # the language a hit must be in (bilingual files only), else None
    answers: tuple[str, ...]  # an answer is correct when it contains one of these
    crosslingual: bool
    article: str = ""  # the key of its split (splits.split_of): article title, document name or id

    def hit(self, p: Passage) -> bool:
        return p.name in self.gold and (self.gold_lang is None or p.lang == self.gold_lang)


@dataclass(frozen=True)
class EvalSet:
    name: str
    paths: tuple[Path, ...]
    questions: tuple[Question, ...]
    split: str = "all"
    note: str = ""  # which questions were kept, e.g. "test split: 853 of 3835 questions (52 of 191 articles)"


def read_questions(path: Path, cross_lang: str | None = None, lang_gold_prefix: str | None = None) -> list[Question]:
    """Questions of a .jsonl in the seeds or Paris Call format. `cross_lang`: questions in this language
    are cross-lingual (the corpus lacks it); `lang_gold_prefix`: gold files whose passages must be in gold_lang."""
    out = []
    for n, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        gold_file = r.get("gold_file") or r.get("gold_doc")
        gold = tuple(r.get("gold_docs") or ([gold_file] if gold_file else []))
        bilingual = bool(gold_file and lang_gold_prefix and gold_file.startswith(lang_gold_prefix))
        gold_lang = r.get("gold_lang") if bilingual else None
        out.append(Question(r.get("id", f"q{n}"), r["question"], r["lang"], r.get("answerable", bool(gold)), gold,
                            gold_lang, tuple(r.get("answers", [])) + tuple(r.get("answers_other_lang", [])),
                            bool(r.get("crosslingual")) or r["lang"] == cross_lang, r.get("id", f"q{n}")))
    return out


def wiki(name: str, workdir: Path, long: bool = False, md: bool = False) -> tuple[Path, list[Question]]:
    """A SQuAD-format set (piaf, squad) as files in WORKDIR, written once: each paragraph a file
    (WORKDIR/NAME-paragraphs/NAME-001.txt...), or with `long` each article's paragraphs joined in order,
    separated by a blank line (WORKDIR/NAME-articles/NAME-article-001.txt...). A question's gold file is
    its paragraph's, or its article's: a passage of the long file anywhere counts as the right document,
    and the answer metrics further ask for the gold answer inside the passage's text. With `md`, each
    article is a Markdown file under its Wikipedia title as a heading (WORKDIR/NAME-markdown/...md):
    the -long documents as they would come with a title, to measure what the title brings."""
    data_file, lang, prefix = WIKI[name]
    data = json.loads(need(shared_dir() / "eval" / data_file).read_text("utf-8"))
    long = long or md
    folder = workdir / (f"{prefix}-markdown" if md else f"{prefix}-articles" if long else f"{prefix}-paragraphs")
    suffix = "md" if md else "txt"
    folder.mkdir(parents=True, exist_ok=True)
    questions, n = [], 0
    for a, article in enumerate(data["data"], 1):
        if long:
            text = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
            title = article["title"].replace("_", " ")
            _write(folder / f"{prefix}-article-{a:03d}.{suffix}", f"# {title}\n\n{text}" if md else text)
        for para in article["paragraphs"]:
            n += 1
            f = folder / (f"{prefix}-article-{a:03d}.{suffix}" if long else f"{prefix}-{n:03d}.txt")
            if not long:
                _write(f, para["context"])
            questions += [Question(q["id"], q["question"], lang, True, (f.name,), None,
                                   tuple(x["text"] for x in q["answers"]), False, article["title"])
                          for q in para["qas"]]
    return folder, questions


def absent(name: str, workdir: Path) -> tuple[Path, list[Question]]:
    """A SQuAD-format set (piaf, squad) with about half of its articles left out of the documents (by a
    hash of the title, apart from the train/test split's): the questions about them have no answer in
    the collection, so they count as unanswerable, and the others as in `wiki`. It is what abstention is
    calibrated on (their train split) and measured on (test), in both languages; a question about a
    left-out article that another article happens to answer is counted unanswerable all the same."""
    folder, questions = wiki(name, workdir)
    kept = workdir / f"{WIKI[name][2]}-absent-paragraphs"
    kept.mkdir(parents=True, exist_ok=True)
    out = []
    for q in questions:
        if split_of("absent:" + q.article, share=ABSENT_SHARE) == "test":
            out.append(replace(q, answerable=False, gold=(), answers=()))
            continue
        _write(kept / q.gold[0], (folder / q.gold[0]).read_text("utf-8"))
        out.append(q)
    return kept, out


def _write(f: Path, text: str) -> None:
    if not f.exists() or f.read_text("utf-8") != text:
        f.write_text(text, "utf-8", newline="")


def default_split(name: str) -> str:
    """'test' for the sets we tune on (PIAF, SQuAD and their -long variants), 'all' for the others."""
    return "test" if name in HELD_OUT_BY_DEFAULT else "all"


def load_set(name: str, workdir: Path, docs=(), full: bool = False, split: str | None = None) -> EvalSet:
    """The set's documents and its questions of `split` (train | test | all; None: default_split).

    piaf and piaf-long ask a fixed random sample of up to 1,000 of the split's questions (the same
    ones for both; `full`: every question of the split), drawn after the split is applied: the test
    split has 853 PIAF questions, so its sample is all of them. squad asks every question of the split
    (test: 1,268 questions of 8 of the 24 articles)."""
    split = default_split(name) if split is None else split
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}. Currently, split is {split!r}")
    es = _load(name, workdir, docs)
    questions = [q for q in es.questions if split == "all" or split_of(q.article) == split]
    note = ""
    if split != "all":
        keys = {q.article for q in questions}, {q.article for q in es.questions}
        unit = "articles" if name in HELD_OUT_BY_DEFAULT else "documents" if name.startswith("paris-call") else ""
        note = f"{split} split: {len(questions)} of {len(es.questions)} questions" + (
            f" ({len(keys[0])} of {len(keys[1])} {unit})" if unit else "")
    if name.startswith("piaf") and not full and len(questions) > PIAF_SAMPLE:
        note = ", ".join(x for x in (note, f"a fixed sample of {PIAF_SAMPLE} of {len(questions)} questions") if x)
        questions = random.Random(PIAF_SEED).sample(questions, PIAF_SAMPLE)
    return replace(es, name=es.name + ("-full" if full and name.startswith("piaf") else ""),
                   questions=tuple(questions), split=split, note=note)


def _load(name: str, workdir: Path, docs) -> EvalSet:
    pc, paris_questions = shared_dir() / "eval" / "paris-call", REPO / "tests" / "data" / "paris_call.jsonl"
    if name == "seeds":
        qs = read_questions(REPO / "tests" / "data" / "seeds_dev.jsonl", lang_gold_prefix=BILINGUAL_SEED)
        return EvalSet(name, (SEEDS_DIR,), tuple(qs))
    if name.startswith("paris-call"):  # -en-only / -fr-only: one version indexed, the other language's questions cross
        only = {"paris-call": None, "paris-call-en-only": "en", "paris-call-fr-only": "fr"}.get(name, "?")
        if only == "?":
            raise ConfigError(f"unknown evaluation set {name!r}: use one of {', '.join(SETS)}")
        qs = read_questions(need(paris_questions), cross_lang={"en": "fr", "fr": "en"}.get(only))
        qs = [replace(q, article=q.gold[0]) if q.gold else q for q in qs]  # split by document
        return EvalSet(name, tuple(need(pc / lang) for lang in ("en", "fr") if only in (None, lang)), tuple(qs))
    if name.endswith("-absent") and name.removesuffix("-absent") in WIKI:
        folder, qs = absent(name.removesuffix("-absent"), workdir)
        return EvalSet(name, (folder,), tuple(qs))
    base = name.removesuffix("-long").removesuffix("-md")
    if base in WIKI:
        folder, qs = wiki(base, workdir, long=name.endswith("-long"), md=name.endswith("-md"))
        return EvalSet(name, (folder,), tuple(qs))
    if name.endswith(".jsonl") and Path(name).is_file():
        if not docs:
            raise ConfigError(f"{name} is a questions file: say which documents it is about (docs=, --docs PATH...)")
        paths = tuple(Path(d).expanduser().resolve() for d in docs)
        return EvalSet(Path(name).stem, paths, tuple(read_questions(Path(name))))
    raise ConfigError(f"unknown evaluation set {name!r}: use one of {', '.join(SETS)} or a questions .jsonl file")


def need(path: Path) -> Path:
    if not path.exists():
        raise SourceError(f"evaluation data not found: {path}. Put the shared data beside the checkout "
                          f"(../shared) or point QA_SHARED at it")
    return path
