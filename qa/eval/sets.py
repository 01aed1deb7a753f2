"""The evaluation sets of `qa eval` (listed in qa/eval/harness.py): where their questions and documents
are, read into Questions; the shared data is ../shared beside the checkout, or QA_SHARED. The sentence-
pair sets (tatoeba, un) are read in qa/eval/pairs.py."""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from ..config import SEEDS_DIR
from ..errors import ConfigError, SourceError
from ..types import Passage

REPO = Path(__file__).resolve().parents[2]
SETS = ("seeds", "paris-call", "paris-call-en-only", "piaf", "tatoeba", "un")
PIAF_SAMPLE, PIAF_SEED = 1000, 0
BILINGUAL_SEED = "000_"  # the seed holding an English and a French text: a hit must match gold_lang


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

    def hit(self, p: Passage) -> bool:
        return p.name in self.gold and (self.gold_lang is None or p.lang == self.gold_lang)


@dataclass(frozen=True)
class EvalSet:
    name: str
    paths: tuple[Path, ...]
    questions: tuple[Question, ...]


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
                            bool(r.get("crosslingual")) or r["lang"] == cross_lang))
    return out


def piaf(workdir: Path, full: bool = False) -> EvalSet:
    """PIAF with each paragraph written to its own file (once) in WORKDIR/piaf-paragraphs."""
    data = json.loads(need(shared_dir() / "eval" / "piaf" / "piaf-v1.0.json").read_text("utf-8"))
    folder = workdir / "piaf-paragraphs"
    folder.mkdir(parents=True, exist_ok=True)
    questions, n = [], 0
    for article in data["data"]:
        for para in article["paragraphs"]:
            n += 1
            f = folder / f"piaf-{n:03d}.txt"
            if not f.exists() or f.read_text("utf-8") != para["context"]:
                f.write_text(para["context"], "utf-8", newline="")
            questions += [Question(q["id"], q["question"], "fr", True, (f.name,), None,
                                   tuple(a["text"] for a in q["answers"]), False) for q in para["qas"]]
    if not full:
        questions = random.Random(PIAF_SEED).sample(questions, min(PIAF_SAMPLE, len(questions)))
    return EvalSet("piaf" if not full else "piaf-full", (folder,), tuple(questions))


def load_set(name: str, workdir: Path, docs=(), full: bool = False) -> EvalSet:
    pc, paris_questions = shared_dir() / "eval" / "paris-call", REPO / "tests" / "data" / "paris_call.jsonl"
    if name == "seeds":
        qs = read_questions(REPO / "tests" / "data" / "seeds_dev.jsonl", lang_gold_prefix=BILINGUAL_SEED)
        return EvalSet(name, (SEEDS_DIR,), tuple(qs))
    if name == "paris-call":
        return EvalSet(name, (need(pc / "en"), need(pc / "fr")), tuple(read_questions(paris_questions)))
    if name == "paris-call-en-only":
        return EvalSet(name, (need(pc / "en"),), tuple(read_questions(paris_questions, cross_lang="fr")))
    if name == "piaf":
        return piaf(workdir, full)
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
