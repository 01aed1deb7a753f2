"""Keeping the index current: re-indexing, pruning, duplicates, `qa list`/`qa remove`, a run killed
with SIGKILL and completed, catalog migration. (The Documents tab's uploads: test_documents_tab.py.)

Real parts throughout: Chroma in temporary folders, the use-v3 embedder, the `qa` command in a
subprocess for the kill test. After every operation the three views of the index hold the same chunk
ids: the catalog, the Chroma collection and the BM25 index.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import bm25, ingest
from index.catalog import Catalog
from index.chunker import chunk
from index.loader import read_text
from qa import Index
from qa.cli import main as qa_main

from .conftest import ROOT, SHARED
from .test_formats import PARIS, paris_call_pdf

EMBEDDER = "use-v3"
PIAF = SHARED / "eval" / "piaf" / "piaf-v1.0.json"


def consistent(idx: Index) -> set[str]:
    """The catalog, Chroma and BM25 know exactly the same chunk ids; returns them."""
    ids = {r.id for r in idx.collection.catalog.chunks()}
    assert set(idx.collection.rows) == ids
    assert idx.collection.store.count() == len(ids) and idx.collection.store.existing(sorted(ids)) == ids
    assert set(idx.collection.bm25.pos) == ids
    return ids


def expected_ids(files, chunk_chars: int = 450) -> set[str]:
    return {c.id for f in files for c in chunk(read_text(f), chunk_chars)}


def copy_case_studies(folder: Path, numbers=(1, 3, 4, 5)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in numbers:
        f = folder / f"principle-{n}.md"
        f.write_bytes((PARIS / "en" / f"case-study-principle-{n}.md").read_bytes())
        out.append(f)
    return out


@pytest.fixture
def env_use(monkeypatch):
    monkeypatch.setenv("QA_EMBEDDER", EMBEDDER)


# -- re-indexing -------------------------------------------------------------------------------------

def test_reindexing_adds_updates_removes_and_skips(tmp_path):
    src = tmp_path / "docs"
    one, three, four, five = copy_case_studies(src)
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    first = idx.add([src])
    assert sorted(first.added) == sorted(map(str, (one, three, four, five)))
    consistent(idx)

    again = idx.add([src])
    assert len(again.unchanged) == 4 and again.chunks == 0 and not (again.added or again.updated or again.removed)

    three.write_text(three.read_text(encoding="utf-8") + "\nA paragraph added later about election integrity.\n",
                     encoding="utf-8")
    four.unlink()
    seven = src / "sub" / "principle-7.md"
    seven.parent.mkdir()
    seven.write_bytes((PARIS / "en" / "case-study-principle-7.md").read_bytes())
    report = idx.add([src])
    assert report.updated == [str(three)] and report.added == [str(seven)] and report.removed == [str(four)]
    assert sorted(report.unchanged) == sorted(map(str, (one, five)))
    assert "1 added, 1 updated, 1 removed, 2 unchanged" in report.summary()
    assert f"removed: {four}" in report.summary()
    assert consistent(idx) == expected_ids([one, three, five, seven])
    assert all(p.name != "principle-4.md" for p in idx.retrieve("open source licenses Linux Foundation", k=10))
    assert any("added later" in p.text for p in idx.retrieve("paragraph added later election integrity", k=5))

    reopened = Index(tmp_path / "home", embedder=EMBEDDER)  # what the next process sees
    assert consistent(reopened) == expected_ids([one, three, five, seven])


def test_bm25_built_at_start_scores_as_the_one_kept_in_place(tmp_path):
    """A restart builds BM25 at once from the catalog (BM25.build); after adds, an update and a
    removal it ranks and scores as the index that was updated in place."""
    src = tmp_path / "docs"
    one, three, four, five = copy_case_studies(src)
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    idx.add([src])
    three.write_text(three.read_text(encoding="utf-8") + "\nA paragraph added later about election integrity.\n",
                     encoding="utf-8")
    idx.add([src])
    idx.remove(four)
    reopened = Index(tmp_path / "home", embedder=EMBEDDER)
    for q in ("election integrity paragraph", "open source licenses", "Qui protège les infrastructures ?", "zzz"):
        terms = bm25.query_terms(q)
        live, built = idx.collection.bm25.search(terms, 20), reopened.collection.bm25.search(terms, 20)
        assert [c for c, _ in live] == [c for c, _ in built]
        assert [s for _, s in live] == pytest.approx([s for _, s in built], rel=1e-5)
        assert all(idx.collection.bm25.knows(t) == reopened.collection.bm25.knows(t) for t in terms)


def test_bm25_kept_beside_the_catalog_is_loaded_by_the_next_open_and_rebuilt_after_a_change(tmp_path, monkeypatch):
    src = tmp_path / "docs"
    one, three, four, five = copy_case_studies(src)
    Index(tmp_path / "home", embedder=EMBEDDER).add([src])
    first = Index(tmp_path / "home", embedder=EMBEDDER)  # builds and keeps it
    kept = list((tmp_path / "home").glob("catalog-*.bm25.npz"))
    assert len(kept) == 1
    built = bm25.BM25._build
    monkeypatch.setattr(bm25.BM25, "_build", classmethod(lambda *a, **k: pytest.fail("built again")))
    loaded = Index(tmp_path / "home", embedder=EMBEDDER)  # the same chunks: loaded, not built
    for q in ("open source licenses", "Qui protège les infrastructures ?"):
        terms = bm25.query_terms(q)
        assert loaded.collection.bm25.search(terms, 20) == first.collection.bm25.search(terms, 20)
    monkeypatch.setattr(bm25.BM25, "_build", built)
    loaded.remove(four)  # a change: the next open builds again, from the catalog as it is now
    after = Index(tmp_path / "home", embedder=EMBEDDER)
    terms = bm25.query_terms("open source licenses")
    assert [c for c, _ in after.collection.bm25.search(terms, 20)] == [c for c, _ in loaded.collection.bm25.search(terms, 20)]
    assert len(after.collection.bm25) == len(loaded.collection.bm25) < len(first.collection.bm25)
    kept[0].write_bytes(b"not an npz")  # damaged: built again, never an error
    assert len(Index(tmp_path / "home", embedder=EMBEDDER).collection.bm25) == len(after.collection.bm25)


def test_translations_are_paired_across_runs(tmp_path):
    """A chunk and its translation are linked both ways, also when the translation comes in a later run."""
    en, fr = tmp_path / "en.md", tmp_path / "fr.md"
    en.write_bytes((PARIS / "en" / "case-study-principle-5.md").read_bytes())
    fr.write_bytes((PARIS / "fr" / "case-study-principle-5.md").read_bytes())
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    idx.add([en])
    assert not any(r.twin for r in idx.collection.catalog.chunks())
    idx.add([fr])
    rows = {r.id: r for r in idx.collection.catalog.chunks()}
    pairs = {(r.id, r.twin) for r in rows.values() if r.twin}
    assert pairs and all((b, a) in pairs and rows[a].lang != rows[b].lang for a, b in pairs)
    assert len({b for _, b in pairs}) == len(pairs)  # nobody's translation twice


def test_keep_missing_keeps_documents_of_deleted_files(tmp_path):
    src = tmp_path / "docs"
    one, three = copy_case_studies(src, (1, 3))
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    idx.add([src])
    three.unlink()
    kw = dict(chunk_chars=450, max_bytes=10**7)
    kept = ingest.add([src], idx.collection.catalog, idx.collection.store, idx.collection.embedder, idx.collection.bm25, prune=False, **kw)
    assert kept.removed == [] and len(idx.documents()) == 2
    pruned = ingest.add([src], idx.collection.catalog, idx.collection.store, idx.collection.embedder, idx.collection.bm25, **kw)
    assert pruned.removed == [str(three)] and [d.path for d in idx.documents()] == [str(one)]


def test_the_same_content_twice_is_indexed_once_and_reported_as_a_duplicate(tmp_path):
    src = tmp_path / "docs"
    src.mkdir()
    data = (PARIS / "fr" / "case-study-principle-5.md").read_bytes()
    (src / "a-principe-5.md").write_bytes(data)
    (src / "b-copie.md").write_bytes(data)
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    report = idx.add([src])
    assert report.added == [str(src / "a-principe-5.md")]
    assert report.skipped == [(str(src / "b-copie.md"),
                               f"duplicate: same content as {src / 'a-principe-5.md'}, which is indexed; "
                               "not indexed twice")]
    # the same passage is never retrieved twice, from two files
    names = [p.name for p in idx.retrieve("programmes de Bug Bounty YesWeHack", k=5)]
    assert "b-copie.md" not in names
    # once the first copy is gone, the second is indexed in its place
    (src / "a-principe-5.md").unlink()
    report = idx.add([src])
    assert report.removed == [str(src / "a-principe-5.md")] and report.added == [str(src / "b-copie.md")]
    consistent(idx)


def test_vectors_left_by_a_killed_write_are_deleted_by_the_next_run(tmp_path):
    """The state a SIGKILL between Chroma's upsert and the catalog's commit leaves, made with the real parts."""
    src = tmp_path / "docs"
    one, three = copy_case_studies(src, (1, 3))
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    idx.add([one])
    doc = read_text(three)
    chunks = chunk(doc, 450)
    orphan = [c.id + "-stale" for c in chunks]  # as if the file changed before the next run
    idx.collection.catalog.pend(orphan)
    idx.collection.store.upsert(orphan, idx.collection.embedder.embed([c.embedded for c in chunks], "passage"),
                     [{"path": doc.path, "lang": c.lang} for c in chunks])
    assert idx.collection.store.count() == len(idx) + len(orphan)
    idx.add([src])
    consistent(idx)


def test_an_existing_catalog_gains_the_location_column(tmp_path):
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE documents (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, encoding TEXT, langs TEXT,
            n_chunks INTEGER, size INTEGER, indexed_at REAL);
        CREATE TABLE chunks (id TEXT PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER, start INTEGER, end INTEGER,
            line_first INTEGER, line_last INTEGER, lang TEXT, text TEXT, terms TEXT, twin TEXT);
        INSERT INTO documents VALUES ('/d/a.txt', 'abc', 'utf-8', 'en', 1, 12, 1.0);
        INSERT INTO documents VALUES ('/d/b.MD', 'def', 'utf-8', 'en', 0, 12, 1.0);
        INSERT INTO chunks VALUES ('c1', '/d/a.txt', 0, 0, 12, 1, 1, 'en', 'Hello world.', 'hello world', NULL);
    """)
    db.commit()
    db.close()
    cat = Catalog(path)
    [row] = cat.chunks()
    assert row.id == "c1" and row.text == "Hello world." and row.where == ""
    assert cat.document("/d/a.txt").sha256 == ""  # so the next `qa index` re-reads it and fills locations in
    Catalog(path)  # opening it again is harmless
    cols = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(chunks)")]
    assert cols.count("location") == 1 and cols.count("context") == 1


def test_a_catalog_before_headings_reads_its_headed_files_again(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE chunks DROP COLUMN context")
    db.executemany("INSERT INTO documents (path, sha256, n_chunks) VALUES (?, ?, 0)",
                   [("/d/a.txt", "abc"), ("/d/b.md", "def"), ("/d/c.PDF", "ghi")])
    db.commit()
    db.close()
    cat = Catalog(path)  # the next `qa index` chunks b.md and c.PDF again, under their headings
    assert [(d.path, d.sha256) for d in cat.documents()] == [("/d/a.txt", "abc"), ("/d/b.md", ""), ("/d/c.PDF", "")]


# -- the command line --------------------------------------------------------------------------------

def test_qa_index_list_and_remove(tmp_path, capsys, env_use):
    src = tmp_path / "docs"
    one, three = copy_case_studies(src, (1, 3))
    pdf = paris_call_pdf(src / "appel.pdf")
    (src / "empty.txt").write_bytes(b"")
    home = str(tmp_path / "home")
    assert qa_main(["index", "--home", home, str(src)]) == 1  # one file failed: exit 1, the rest indexed
    out = capsys.readouterr().out
    assert "3 added" in out and f"failed: {src / 'empty.txt'}: is empty" in out

    assert qa_main(["list", "--home", home]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith(str(pdf)))
    path, langs, chunks, when = row.split("\t")
    assert langs == "fr" and chunks.endswith(" chunks") and time.strptime(when, "%Y-%m-%d %H:%M")
    assert lines[-1].startswith("3 documents")

    assert qa_main(["remove", "--home", home, str(pdf)]) == 0
    assert f"removed {pdf}:" in capsys.readouterr().out
    assert qa_main(["remove", "--home", home, str(pdf)]) == 2
    assert "is not in the index" in capsys.readouterr().err
    assert qa_main(["remove", "--home", home, str(src)]) == 0  # a folder: everything under it
    assert "2 documents removed" in capsys.readouterr().out
    consistent(Index(home))


def test_qa_index_help_documents_pruning_and_duplicates(capsys):
    with pytest.raises(SystemExit):
        qa_main(["index", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "no longer exist are removed from the index" in text and "--keep-missing" in text
    assert "duplicate" in text and ".pdf" in text


def test_qa_help_lists_every_setting_with_its_default_once(capsys):
    from qa.config import help_table

    with pytest.raises(SystemExit):
        qa_main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    for name, default, _ in help_table():
        line = next(ln for ln in lines if ln.strip().startswith(name + " "))
        assert line.count("default") <= 2 and "(default: None)" not in line and "(default: )" not in line, line
        if name == "QA_K":
            assert line.endswith(f"(default: {default})"), line


# -- killed with SIGKILL in the middle, then completed -----------------------------------------------

def piaf_folder(folder: Path, n_files: int = 40, per_file: int = 4) -> list[Path]:
    data = json.loads(PIAF.read_text(encoding="utf-8"))["data"]
    contexts = [p["context"] for article in data for p in article["paragraphs"]]
    folder.mkdir()
    files = []
    for i in range(n_files):
        f = folder / f"piaf-{i:02d}.txt"
        f.write_text("\n\n".join(contexts[i * per_file : (i + 1) * per_file]) + "\n", encoding="utf-8")
        files.append(f)
    return files


def _committed(catalog: Path) -> int:
    if not catalog.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created
        return 0


@pytest.mark.slow
def test_a_run_killed_with_sigkill_leaves_an_answering_index_and_the_next_run_completes_it(tmp_path):
    files = piaf_folder(tmp_path / "piaf")
    home = tmp_path / "home"
    env = {**os.environ, "QA_EMBEDDER": EMBEDDER}
    cmd = [sys.executable, "-m", "qa.cli", "index", "--home", str(home), str(tmp_path / "piaf")]
    catalog = home / f"catalog-{EMBEDDER}.sqlite"

    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while _committed(catalog) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    at_kill = _committed(catalog)
    assert 3 <= at_kill < len(files), f"{at_kill} documents committed when killed"

    # the interrupted index still answers, from the documents it committed
    idx = Index(home, embedder=EMBEDDER)
    assert len(idx.documents()) == at_kill and len(idx) > 0
    first = files[0].read_text(encoding="utf-8").split("\n\n")[0]
    passages = idx.retrieve(" ".join(first.split()[:25]), k=3)
    assert passages and passages[0].name == files[0].name
    del idx

    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{len(files) - at_kill} added" in done.stdout and f"{at_kill} unchanged" in done.stdout

    idx = Index(home, embedder=EMBEDDER)
    assert [Path(d.path).name for d in idx.documents()] == [f.name for f in files]  # none missing
    rows = idx.collection.catalog.chunks()
    assert len({(r.path, r.start) for r in rows}) == len(rows)  # no chunk twice
    assert consistent(idx) == expected_ids(files)  # Chroma holds exactly the catalog's chunks
