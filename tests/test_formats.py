"""File formats: .txt, .md, .html, .pdf, .docx become text we can cite, with where each passage is.

Real inputs: the UDHR HTML files and the Paris Call Markdown of ../shared/eval. The PDF and DOCX
fixtures are built here from that real text (reportlab, python-docx), not committed as binaries.
Bad files each have a test: the message names the file and says why, and the rest of the batch is indexed.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from index.loader import Unreadable, read_text
from qa import Index

from .conftest import ROOT, SHARED

EVAL = SHARED / "eval"
UDHR = EVAL / "udhr-en-fr"
PARIS = EVAL / "paris-call"
EMBEDDER = "use-v3"  # a real multilingual model, several times faster than e5-small on this CPU


def udhr_articles(lang: str = "eng") -> dict[str, list[str]]:
    """{"Article 1": [paragraph, ...], ...} from the real UDHR HTML (read with BeautifulSoup directly)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((UDHR / f"udhr.{lang}.html").read_bytes(), "html.parser")
    return {a.h2.get_text(" ", strip=True): [" ".join(p.get_text().split()) for p in a.find_all("p")]
            for a in soup.find_all("article")}


def markdown_paragraphs(path: Path) -> list[str]:
    """Paragraphs of a Markdown file without images, headings or list markers; composed (NFC): the
    French Paris Call files use combining accents, which a PDF's standard fonts cannot draw."""
    out = []
    for block in unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).split("\n\n"):
        block = block.strip()
        if block and not block.startswith(("!", "#")):
            out.append(" ".join(line.lstrip("- ").strip() for line in block.splitlines()))
    return out


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A real PDF with a text layer: one list of paragraphs per page, wrapped to the page width."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for paragraphs in pages:
        text = c.beginText(56, A4[1] - 64)
        text.setFont("Helvetica", 10)
        for para in paragraphs:
            for line in simpleSplit(para, "Helvetica", 10, A4[0] - 112):
                text.textLine(line)
            text.textLine("")
        c.drawText(text)
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A page with only a picture on it (a grey "scan"), no text layer."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), invariant=1)
    c.setFillGray(0.6)
    for y in range(100, 700, 14):
        c.rect(60, y, 400, 8, fill=1, stroke=0)
    c.showPage()
    c.save()
    return path


def make_docx(path: Path, title: str, sections: list[tuple[str, list[str]]], table: list[list[str]] = ()) -> Path:
    import docx

    d = docx.Document()
    d.add_heading(title, 0)
    for heading, paragraphs in sections:
        d.add_heading(heading, 1)
        for p in paragraphs:
            d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(t.rows, table):
            for cell, value in zip(row.cells, values):
                cell.text = value
    d.save(str(path))
    return path


def encrypt(src: Path, dest: Path, user_password: str) -> Path:
    import pypdf

    w = pypdf.PdfWriter(clone_from=pypdf.PdfReader(str(src)))
    w.encrypt(user_password, owner_password="owner", algorithm="AES-128")
    with open(dest, "wb") as f:
        w.write(f)
    return dest


def paris_call_pdf(path: Path) -> Path:
    """The French Paris Call on three pages (real text); the Berlin follow-up is on page 3."""
    paras = markdown_paragraphs(PARIS / "fr" / "paris-call.md")
    third = len(paras) // 3
    return make_pdf(path, [paras[:third], paras[third : 2 * third], paras[2 * third :]])


def charter_docx(path: Path) -> Path:
    """The English case study of principle 6 as a Word file: its ### headings become Heading 1."""
    text = (PARIS / "en" / "case-study-principle-6.md").read_text(encoding="utf-8")
    sections = []
    for part in re.split(r"(?m)^### ", text)[1:]:
        heading, _, body = part.partition("\n")
        sections.append((heading.strip(), [p for p in markdown_paragraphs_text(body)]))
    return make_docx(path, "Paris Call case studies: principle 6", sections,
                     table=[["Initiative", "Led by"], ["Charter of Trust", "Siemens and partners"]])


def markdown_paragraphs_text(body: str) -> list[str]:
    return [" ".join(b.split()) for b in body.split("\n\n") if b.strip() and not b.strip().startswith("[")]


def where_of(doc, needle: str) -> str:
    """Where `needle` is in the document; it may be wrapped over several lines (PDF)."""
    m = re.search(r"\s+".join(map(re.escape, needle.split())), doc.text)
    assert m, f"{needle!r} not in {doc.path}"
    return doc.where(m.start(), m.end())


# -- extraction: text, offsets and locations ---------------------------------------------------------

@pytest.mark.parametrize("lang,needle,article", [
    ("eng", "All human beings are born free and equal in dignity and rights.", "Article 1"),
    ("fra", "Tous les êtres humains naissent libres et égaux en dignité et en droits.", "Article premier"),
    ("eng", "Everyone has the right to freedom of opinion and expression;", "Article 19"),
    ("fra", "Tout individu a droit à la liberté d’opinion et d’expression,", "Article 19"),
])
def test_html_text_is_the_visible_text_with_its_article(lang, needle, article):
    doc = read_text(UDHR / f"udhr.{lang}.html")
    assert doc.kind == "html" and "<p>" not in doc.text and "data-number" not in doc.text
    assert where_of(doc, needle) == article
    assert len([m for m in doc.marks if m[1].startswith("Article")]) == 30
    # the page title (its only h1) is left out of the sections' paths: the file name says which document
    assert not any("›" in label for _, label in doc.marks)


def test_extraction_is_deterministic_so_offsets_stay_valid(tmp_path):
    pdf = paris_call_pdf(tmp_path / "appel.pdf")
    docx_file = charter_docx(tmp_path / "charter.docx")
    for original in (UDHR / "udhr.fra.html", pdf, docx_file):
        copy = tmp_path / f"copy-{original.name}"  # another path: extracted again, not served from the cache
        copy.write_bytes(original.read_bytes())
        a, b = read_text(original), read_text(copy)
        assert a.text == b.text and a.marks == b.marks and a.sha256 == b.sha256


def test_markdown_keeps_the_file_verbatim_and_knows_its_headings():
    path = PARIS / "en" / "case-study-principle-2.md"
    doc = read_text(path)
    assert doc.text == path.read_text(encoding="utf-8")  # Markdown offsets point into the file itself
    assert where_of(doc, "Organizations interested in joining the Public Core CoI").startswith("Public Core CoI: the Hague")
    assert where_of(doc, "Cornerstone of the Web").startswith("Protecting the Domain Name System")
    # no heading at all: the line numbers are what a reader needs
    call = read_text(PARIS / "en" / "paris-call.md")
    assert re.fullmatch(r"lines? \d+(–\d+)?", where_of(call, "We condemn malicious cyber activities"))


def test_markdown_headings_inside_code_fences_are_not_headings(tmp_path):
    f = tmp_path / "notes.md"
    f.write_text("# Guide\n\n## Install\n\n```sh\n# not a heading\npip install x\n```\n\nRun it.\n\n"
                 "Usage\n-----\n\nAsk away.\n", encoding="utf-8")
    doc = read_text(f)
    assert [label for _, label in doc.marks] == ["Guide", "Install", "Usage"]
    assert where_of(doc, "pip install x") == "Install" and where_of(doc, "Ask away.") == "Usage"


def test_pdf_text_carries_page_numbers(tmp_path):
    doc = read_text(paris_call_pdf(tmp_path / "appel.pdf"))
    assert doc.kind == "pdf" and [label for _, label in doc.marks] == ["1", "2", "3"]
    assert where_of(doc, "Forum sur la gouvernance de l’Internet") == "p. 3"
    assert where_of(doc, "Le cyberespace joue désormais un rôle capital") == "p. 1"
    page2 = doc.marks[1][0]
    assert doc.where(page2 - 10, page2 + 10) == "pp. 1–2"


def test_docx_text_carries_heading_paths_and_tables(tmp_path):
    doc = read_text(charter_docx(tmp_path / "charter.docx"))
    assert doc.kind == "docx"
    assert where_of(doc, "partners from industry have joined forces").startswith("Charter of Trust")
    assert where_of(doc, "Kaspersky").startswith("Global Transparency Initiative")
    assert "Charter of Trust | Siemens and partners" in doc.text  # a table row, cells in order


# -- bad files ---------------------------------------------------------------------------------------

def _corrupt_pdf(tmp):
    good = paris_call_pdf(tmp / "good.pdf").read_bytes()
    return good[: len(good) // 3]  # cut short, as by a failed download


BAD = {
    "corrupt.pdf": (_corrupt_pdf, "not a readable PDF"),
    "not-really.pdf": (lambda tmp: b"%PDF-1.4\nthis is not a pdf at all\n%%EOF\n", "not a readable PDF"),
    "encrypted.pdf": (lambda tmp: encrypt(paris_call_pdf(tmp / "p.pdf"), tmp / "e.pdf", "secret").read_bytes(),
                      "encrypted"),
    "scanned.pdf": (lambda tmp: make_scanned_pdf(tmp / "s.pdf").read_bytes(), "no extractable text"),
    "empty.txt": (lambda tmp: b"", "is empty"),
    "empty.pdf": (lambda tmp: b"", "is empty"),
    "blank.md": (lambda tmp: b"\n   \n\t\n", "is empty"),
    "image.txt": (lambda tmp: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary"),
    "broken.docx": (lambda tmp: b"PK\x03\x04 this zip is broken", "not a readable Word document"),
    "empty.html": (lambda tmp: b"<html><head><title>t</title><script>var x=1;</script></head><body> </body></html>",
                   "no text"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_file_says_why(tmp_path, name):
    make, reason = BAD[name]
    f = tmp_path / name
    f.write_bytes(make(tmp_path))
    with pytest.raises(Unreadable, match=reason):
        read_text(f)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("Le Groupe de travail s'est réuni à Genève. " * 30_000, encoding="utf-8")  # ~1.3 MB
    with pytest.raises(Unreadable, match=r"over the 1 MB limit \(QA_MAX_FILE_MB\)"):
        read_text(f, max_bytes=1_000_000)


def test_a_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path):
    f = encrypt(paris_call_pdf(tmp_path / "p.pdf"), tmp_path / "owner-only.pdf", "")
    assert "Forum de Paris sur la paix" in " ".join(read_text(f).text.split())


def test_a_batch_with_bad_files_indexes_the_rest_and_names_each_bad_file(tmp_path):
    src = tmp_path / "batch"
    src.mkdir()
    for name, (make, _) in BAD.items():
        (src / name).write_bytes(make(tmp_path))
    (src / "big.md").write_text("# Big\n\n" + "Le Groupe de travail s'est réuni. " * 40_000, encoding="utf-8")
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not indexed")
    good = src / "case-study-principle-1.md"
    good.write_bytes((PARIS / "en" / "case-study-principle-1.md").read_bytes())
    idx = Index(tmp_path / "home", embedder=EMBEDDER, max_file_mb=1)
    report = idx.add([src])
    assert report.added == [str(good)]
    failed = dict(report.failed)
    for name, (_, reason) in BAD.items():
        assert re.search(reason, failed[str(src / name)]), (name, failed[str(src / name)])
    assert "over the 1 MB limit" in failed[str(src / "big.md")]
    assert dict(report.skipped)[str(src / "photo.jpg")] == "unsupported file type .jpg"
    assert f"failed: {src / 'encrypted.pdf'}: is an encrypted" in report.summary()
    assert len(idx.documents()) == 1 and len(idx) == idx.collection.store.count() > 0

    # the good file turns bad: it is reported, and what was indexed from it is kept
    before = {r.id for r in idx.collection.catalog.chunks()}
    good.write_bytes(b"\x00\x01\x02 binary now")
    again = idx.add([src])
    assert "binary" in dict(again.failed)[str(good)]
    assert {r.id for r in idx.collection.catalog.chunks()} == before and idx.collection.store.count() == len(before)


# -- end to end: every format indexed together, cited with where the quote is -------------------------

@pytest.fixture(scope="module")
def formats_index(tmp_path_factory):
    src = tmp_path_factory.mktemp("formats")
    for name in ("udhr.eng.html", "udhr.fra.html"):
        (src / name).write_bytes((UDHR / name).read_bytes())
    (src / "principle-2.en.md").write_bytes((PARIS / "en" / "case-study-principle-2.md").read_bytes())
    (src / "principle-2.fr.md").write_bytes((PARIS / "fr" / "case-study-principle-2.md").read_bytes())
    paris_call_pdf(src / "appel-de-paris.pdf")
    charter_docx(src / "principle-6.docx")
    (src / "note.txt").write_text("Meeting notes.\n\nThe Working Group met in Geneva on 23 November 2004.\n"
                                  "Mr. Nitin Desai chaired it.\n", encoding="utf-8")
    # abstention is calibrated for e5-small; here only the citations matter, so answer on weaker evidence
    idx = Index(tmp_path_factory.mktemp("formats-home"), embedder=EMBEDDER, abstain_below=0.2)
    report = idx.add([src])
    assert not report.failed and len(report.added) == 7, report.summary()
    return idx


def _passage_for(idx: Index, question: str, needle: str, k: int = 5):
    passages = idx.retrieve(question, k=k)
    hits = [p for p in passages if needle in " ".join(p.text.split())]
    assert hits, f"{needle!r} not in the top {k} for {question!r}: {[p.name for p in passages]}"
    return hits[0]


@pytest.mark.parametrize("question,name,needle,where", [
    ("Tout individu a-t-il droit à la liberté d'opinion et d'expression ?", "udhr.fra.html",
     "liberté d’opinion et d’expression", "Article 19"),
    ("Is everyone entitled to freedom of opinion and expression?", "udhr.eng.html",
     "freedom of opinion and expression", "Article 19"),
    ("Où les signataires de l'Appel de Paris se réuniront-ils en 2019 ?", "appel-de-paris.pdf",
     "Forum sur la gouvernance de l’Internet", "p. 3"),
    ("Which partners joined forces in the Charter of Trust?", "principle-6.docx",
     "joined forces with the Charter of Trust", "Charter of Trust"),
    ("Who protects the Domain Name System with resilient DNS infrastructures?", "principle-2.en.md",
     "Nameshield", "Protecting the Domain Name System"),
    ("When did the Working Group meet in Geneva?", "note.txt", "23 November 2004", "line"),
])
def test_each_format_is_retrieved_with_where_the_passage_is(formats_index, question, name, needle, where):
    p = _passage_for(formats_index, question, needle)
    assert p.name == name
    row = formats_index.collection.rows[p.id]
    assert where in row.where, row.where
    assert p.where == row.where
    text = read_text(Path(p.source)).text  # what verify() and the source viewer read
    assert text[p.start : p.end] == p.text


def test_a_pdf_answer_quotes_verbatim_and_the_viewer_highlights_it(formats_index):
    from qa.render import citation_html

    ans = formats_index.ask("Où les signataires de l'Appel de Paris conviennent-ils de se réunir en 2019 ?")
    assert ans.answered, ans.text
    cites = [c for c in ans.citations if c.passage.name == "appel-de-paris.pdf"]
    assert cites, [c.passage.name for c in ans.citations]
    c = cites[0]
    text = read_text(Path(c.passage.source)).text
    assert text[c.start : c.end] == c.quote  # verbatim from the extracted text (ask() checked it too)
    assert formats_index.collection.rows[c.passage.id].where in ("p. 3", "pp. 2–3")
    html = citation_html(c, open_=True)
    assert "<mark>" in html and "qa-dim" in html  # shown in its context from the PDF, quote highlighted


def test_catalog_rows_carry_where_for_every_chunk(formats_index):
    rows = formats_index.collection.catalog.chunks()
    by_kind = {}
    for r in rows:
        by_kind.setdefault(Path(r.path).suffix, set()).add(r.where)
    assert all(w.startswith(("p. ", "pp. ")) for w in by_kind[".pdf"])
    assert "Article 1" in by_kind[".html"] and "Article premier" in by_kind[".html"]
    assert all(w for ws in by_kind.values() for w in ws), "a chunk without a location"
