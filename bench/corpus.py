"""The benchmark corpus: real French and English text written as .txt files, and questions about it.

Files, in this order until the project's own chunker has cut ``size`` chunks from them:

- one file per PIAF v1.0 paragraph (761 French Wikipedia paragraphs, each with its people-written
  questions), interleaved with
- one file per ~5 consecutive sentences of one document of the UN Parallel Corpus dev set, written
  as an English file and its French translation (4,000 aligned sentences per language).

Real text runs out near 4,700 chunks. Beyond it the UN sentences are used again, each further copy
shuffled with its own seed and regrouped by 5 (English and French files stay translations of each
other), so every file and nearly every chunk is new text that must really be embedded; the PIAF
paragraphs are never repeated, so each PIAF question has exactly one gold file. A concession: the
shuffled files are not coherent prose, though each sentence is.

Questions: PIAF questions whose paragraph is in the corpus (French, with a gold file), plus a fifth
from the seeds dev set (English, about other documents: they time the English path, no gold).
"""
from __future__ import annotations

import json
import random
from collections import OrderedDict
from pathlib import Path

EVAL = Path("/work/shared/eval")
PIAF = EVAL / "piaf" / "piaf-v1.0.json"
UN = EVAL / "un-parallel-devset"  # UNv1.0.devset.{en,fr,ids}
SEEDS_DEV = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeds_dev.jsonl"
UN_GROUP = 5  # sentences per UN file
ENGLISH_SHARE = 0.2  # of the timed questions


def piaf_paragraphs() -> list[dict]:
    data = json.loads(PIAF.read_text(encoding="utf-8"))["data"]
    return [{"text": p["context"], "questions": [q["question"] for q in p["qas"]]}
            for article in data for p in article["paragraphs"]]


def un_groups(copy: int) -> list[tuple[str, str]]:
    """(English, French) texts of ~UN_GROUP sentences each. Copy 0 keeps each document's sentences in
    order, never across documents; copy r > 0 is a seeded shuffle of all sentences."""
    en = (UN / "UNv1.0.devset.en").read_text(encoding="utf-8").splitlines()
    fr = (UN / "UNv1.0.devset.fr").read_text(encoding="utf-8").splitlines()
    docs = [line.split()[0] for line in (UN / "UNv1.0.devset.ids").read_text(encoding="utf-8").splitlines()]
    if copy == 0:
        by_doc: OrderedDict[str, list[int]] = OrderedDict()
        for i, d in enumerate(docs):
            by_doc.setdefault(d, []).append(i)
        runs = [ids[j : j + UN_GROUP] for ids in by_doc.values() for j in range(0, len(ids), UN_GROUP)]
    else:
        order = list(range(len(en)))
        random.Random(copy).shuffle(order)
        runs = [order[j : j + UN_GROUP] for j in range(0, len(order), UN_GROUP)]
    return [(" ".join(en[i] for i in run), " ".join(fr[i] for i in run)) for run in runs]


def _stream():
    """(name, text, questions) for each file, in corpus order: PIAF and UN interleaved, then UN copies."""
    paras = piaf_paragraphs()
    copy = 0
    while True:
        groups = un_groups(copy)
        for i, (en, fr) in enumerate(groups):
            if copy == 0 and i < len(paras):
                yield f"piaf/piaf-{i:04d}.txt", paras[i]["text"], paras[i]["questions"]
            yield f"un/c{copy:02d}/un-{i:04d}.en.txt", en, []
            yield f"un/c{copy:02d}/un-{i:04d}.fr.txt", fr, []
        if copy == 0:  # fewer UN groups than PIAF paragraphs would leave some out
            for i in range(len(groups), len(paras)):
                yield f"piaf/piaf-{i:04d}.txt", paras[i]["text"], paras[i]["questions"]
        copy += 1


def build(root: Path, size: int, chunk_chars: int = 450) -> dict:
    """Write the corpus of ``size`` chunks under root/<size>/ (once) and return its manifest."""
    from index.chunker import chunk
    from index.loader import read_text

    folder = root / str(size)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return json.loads(manifest_path.read_text())
    files, gold, chunks, chars = 0, [], 0, 0
    for name, text, questions in _stream():
        path = folder / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        n = len(chunk(read_text(path), chunk_chars))
        files, chunks, chars = files + 1, chunks + n, chars + len(text)
        gold += [{"q": q, "gold": str(path.resolve()), "lang": "fr"} for q in questions]
        if chunks >= size:
            break
    manifest = {"size": size, "folder": str((folder / "files").resolve()), "files": files,
                "chunks_estimated": chunks, "chars": chars, "piaf_questions": gold}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False))
    return manifest


def questions(manifest: dict, n: int, seed: int = 0, seen=lambda q: False) -> dict[str, list[dict]]:
    """Disjoint question sets: ``retrieve`` and ``ask`` (n each) and ``cold`` (3), each asked once, so
    no timed question finds its embedding already cached. ``seen(q)``: asked before on this index (a
    rerun on a kept index must not time cached questions); such questions are left out."""
    fr = [q for q in {q["q"]: q for q in manifest["piaf_questions"]}.values() if not seen(q["q"])]
    seeds = [json.loads(line) for line in SEEDS_DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    en = [{"q": s["question"], "gold": None, "lang": "en"} for s in seeds if s["lang"] == "en" and not seen(s["question"])]
    rng = random.Random(seed)
    rng.shuffle(fr)
    rng.shuffle(en)
    n_en = min(len(en) // 2, round(n * ENGLISH_SHARE))
    n_fr = n - n_en

    def mixed(part_fr: list[dict], part_en: list[dict]) -> list[dict]:
        both = part_fr + part_en
        return rng.sample(both, len(both))

    return {"retrieve": mixed(fr[:n_fr], en[:n_en]),
            "ask": mixed(fr[n_fr : 2 * n_fr], en[n_en : 2 * n_en]),
            "cold": fr[2 * n_fr : 2 * n_fr + 3]}

