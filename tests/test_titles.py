"""Documents people can recognise: each document's title (the one the file states, else its first
line), computed when it is indexed, stored in the catalog, on every passage, and filled in for a
catalog written before titles existed."""
from __future__ import annotations

import sqlite3

import pytest

from index.loader import read_text
from index.readers import DOC_TITLE_CHARS, document_title
from qa import Index
from qa.library import describe, documents_table

from .test_formats import make_docx
from .test_incremental import EMBEDDER


def _pdf(path, title):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), invariant=1)
    c.setTitle(title)
    c.drawString(60, 700, "Les signataires de l'Appel de Paris se réuniront à nouveau en 2019.")
    c.showPage()
    c.save()
    return path


@pytest.mark.parametrize("name, make, title", [
    ("notes.md", lambda p: p.write_text("Intro line\n\n# Appel de **Paris** pour la confiance\n\n## Principe 1\n\nTexte.\n",
                                        "utf-8"), "Appel de Paris pour la confiance"),
    ("page.html", lambda p: p.write_text("<html><head><title> Déclaration\n universelle </title></head>"
                                         "<body><h1>Préambule</h1><p>Considérant que…</p></body></html>", "utf-8"),
     "Déclaration universelle"),
    ("bare.html", lambda p: p.write_text("<body><p>x</p><h2>Article 1</h2><p>Tous les êtres humains…</p></body>",
                                         "utf-8"), "Article 1"),
    ("appel.pdf", lambda p: _pdf(p, "Appel de Paris (PDF)"), "Appel de Paris (PDF)"),
    ("charte.docx", lambda p: make_docx(p, "Charter of Trust", [("Principle 6", ["Secure by default."])]),
     "Charter of Trust"),
    ("letter.txt", lambda p: p.write_text("\n\n   Le 11 juillet 2005  \n\nMonsieur le Secrétaire général,\n", "utf-8"),
     "Le 11 juillet 2005"),
], ids=["markdown-heading", "html-title", "html-heading", "pdf-metadata", "docx", "text-first-line"])
def test_each_format_gives_its_title(tmp_path, name, make, title):
    path = tmp_path / name
    make(path)
    assert read_text(path).title == title


def test_a_docx_title_in_its_properties_wins_over_its_first_heading(tmp_path):
    import docx

    path = make_docx(tmp_path / "c.docx", "Heading title", [("Part", ["Body."])])
    d = docx.Document(str(path))
    d.core_properties.title = "Stated title"
    d.save(str(path))
    assert read_text(path).title == "Stated title"


def test_a_long_first_line_is_cut_at_a_word():
    line = "DECLARATION SUR LE GROUPE DE TRAVAIL DU SECRETAIRE GENERAL SUR LA GOUVERNANCE INTERNET, PRESENTEE PAR LE CAUCUS"
    got = document_title("", line + "\n\nBody")
    assert len(got) <= DOC_TITLE_CHARS and got.endswith("…") and line.startswith(got[:-1])
    assert got[:-1].split()[-1] in line.split()


def test_titles_are_stored_shown_on_passages_and_filled_in_for_an_old_catalog(tmp_path):
    md = tmp_path / "docs" / "principe.md"
    md.parent.mkdir()
    md.write_text("# Principe 5 : la non-prolifération\n\nLes signataires empêchent la prolifération des "
                  "outils malveillants dans le cyberespace.\n", "utf-8")
    home = tmp_path / "home"
    idx = Index(home, embedder=EMBEDDER)
    idx.add([md.parent])
    assert [d.title for d in idx.documents()] == ["Principe 5 : la non-prolifération"]
    p = idx.retrieve("Que font les signataires contre la prolifération ?", k=1)[0]
    assert p.title == "Principe 5 : la non-prolifération" and p.name == "principe.md"
    assert documents_table(idx)[0][:2] == ["Principe 5 : la non-prolifération", "principe.md"]
    assert describe(idx) == "You are asking 1 document in French: “Principe 5 : la non-prolifération”."
    assert describe(idx, "fr") == "Vous interrogez 1 document en français : « Principe 5 : la non-prolifération »."

    # a catalog written before titles: no column; opening it adds the column, listing fills it in
    catalog = next(home.glob("catalog-*.sqlite"))
    del idx
    db = sqlite3.connect(catalog)
    db.execute("ALTER TABLE documents DROP COLUMN title")
    db.commit()
    db.close()
    old = Index(home, embedder=EMBEDDER)
    assert [d.title for d in old.documents()] == ["Principe 5 : la non-prolifération"]
    assert old.retrieve("Que font les signataires contre la prolifération ?", k=1)[0].title.startswith("Principe 5")
    db = sqlite3.connect(catalog)
    assert db.execute("SELECT title FROM documents").fetchall() == [("Principe 5 : la non-prolifération",)]
    db.close()


GUIDE = """# Visitor guide to the Museum

Welcome. This guide explains how to visit.

## Opening hours

The museum opens at nine and closes at six, every day except Monday.

## Fees

Adults pay twelve euros. Children under ten enter free of charge.

### Groups

A group of more than twenty people gets a reduction of a third.
"""


def test_a_chunk_is_embedded_and_indexed_under_its_title_and_heading_path(tmp_path):
    from index.chunker import chunk

    md = tmp_path / "docs" / "guide.md"
    md.parent.mkdir()
    md.write_text(GUIDE, "utf-8")
    (tmp_path / "docs" / "other.txt").write_text(
        "The museum shop sells postcards and books about the museum and its collections.\n", "utf-8")
    doc = read_text(md)
    chunks = chunk(doc, 450)
    # a chunk ends where a heading starts; its context leaves out what its first words already say
    assert [(c.text.split("\n")[0], c.context) for c in chunks] == [
        ("# Visitor guide to the Museum", ""),
        ("## Opening hours", "Visitor guide to the Museum"),
        ("## Fees", "Visitor guide to the Museum"),
        ("### Groups", "Visitor guide to the Museum › Fees")]
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)  # offsets stay the file's
    assert chunks[3].embedded.startswith("Visitor guide to the Museum › Fees — ### Groups A group")

    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    idx.add([md.parent])
    # BM25 finds the Groups passage by its parent heading (it never says "fees") and the title
    assert any(p.text.startswith("### Groups") for p in idx.collection.lexical_search("fees", 5))
    assert {p.text.split("\n")[0] for p in idx.collection.lexical_search("visitor", 5)} == {
        "# Visitor guide to the Museum", "## Opening hours", "## Fees", "### Groups"}  # the title, in every section
    p = idx.retrieve("What do groups pay at the museum?", k=1)[0]
    assert p.text.startswith("### Groups") and GUIDE[p.start:p.end] == p.text and p.context.endswith("› Fees")
    a = idx.ask("What do groups pay at the museum?")
    assert a.answered and "reduction of a third" in a.text


def test_a_word_processor_file_name_is_not_a_title_to_embed():
    from index.readers import stated_title

    assert stated_title("Microsoft Word - draft 3.docx") == "" and stated_title("Untitled") == ""
    assert stated_title("  Charter of\n Trust ") == "Charter of Trust"
