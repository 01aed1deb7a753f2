"""The web UI's Documents tab: upload names made safe, uploads stored under the data folder and
indexed (a damaged new version never replaces a good one), and its endpoints over the real Gradio server.

Real parts: Chroma in temporary folders, the use-v3 embedder, the Gradio app on a free loopback port.
"""
from __future__ import annotations

import html
from pathlib import Path

import pytest

import app
from qa import library
from qa import Index
from qa.errors import ConfigError

from .test_formats import PARIS, paris_call_pdf
from .test_incremental import EMBEDDER, consistent


@pytest.mark.parametrize("name,stored", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..", "upload"),
    (".bashrc", "bashrc"),
    ("notes\x00.txt", "notes_.txt"),
    ("rapport d’activité 2024.pdf", "rapport d’activité 2024.pdf"),
    ("é" * 400 + ".docx", "é" * 57 + ".docx"),  # 120 bytes at most: é is 2 bytes in UTF-8
])
def test_upload_names_are_made_safe(name, stored):
    got = library.safe_name(name)
    assert got == stored
    assert "/" not in got and "\\" not in got and not got.startswith(".") and len(got.encode()) <= library.NAME_CHARS


def test_uploads_are_stored_under_the_data_folder_and_indexed(tmp_path):
    incoming = tmp_path / "browser"
    incoming.mkdir()
    good = incoming / "good.md"
    good.write_bytes((PARIS / "en" / "case-study-principle-1.md").read_bytes())
    long_name = "x" * 300 + ".pdf"
    payloads = [
        (good, "../../etc/passwd.md"),
        (good, "../../etc/passwd"),
        (paris_call_pdf(incoming / "appel.pdf"), long_name),
        (incoming / "empty.txt", "empty.txt"),
    ]
    (incoming / "empty.txt").write_bytes(b"")
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    report = library.add_uploads(idx, payloads)
    uploads = (tmp_path / "home" / "uploads").resolve()
    assert sorted(Path(p).name for p in report.added) == sorted(["passwd.md", library.safe_name(long_name)])
    assert all(Path(p).parent == uploads for p in report.added)
    failed = dict(report.failed)
    assert "unsupported file type (none)" in failed["passwd"] and failed["empty.txt"] == "is empty"
    assert sorted(p.name for p in uploads.iterdir() if not p.name.startswith(".")) == sorted(
        ["passwd.md", library.safe_name(long_name)])  # failures are not kept
    assert not (tmp_path / "etc").exists()
    markdown = library.report_markdown(report)
    assert "⚠️ passwd unsupported file type" in markdown and "⚠️ empty.txt is empty" in markdown
    assert [row[1] for row in library.documents_table(idx)] == sorted(["passwd.md", library.safe_name(long_name)])

    # a damaged new version of an uploaded name does not replace the good one
    broken = incoming / "broken.md"
    broken.write_bytes(b"\x00\x01 not text")
    again = library.add_uploads(idx, [(broken, "passwd.md")])
    assert "binary" in dict(again.failed)["passwd.md"]
    assert (uploads / "passwd.md").read_bytes() == good.read_bytes()
    consistent(idx)

    view = library.document_view(idx, "passwd.md")
    title = next(d.title for d in idx.documents() if d.path.endswith("passwd.md"))
    assert html.escape(title) in view and "passwd.md" in view and "eena.org" in view  # the title, the file, to its end
    with pytest.raises(ConfigError, match="not an indexed document"):
        library.document_view(idx, "nowhere.md")
    assert "1 unchanged" in library.reindex_document(idx, "passwd.md")
    (uploads / "passwd.md").write_text(good.read_text(encoding="utf-8") + "\nA paragraph added since about zebras.\n",
                                       encoding="utf-8")
    again = library.reindex_document(idx, "passwd.md")
    assert "1 updated" in again and "updated passwd.md" in again
    assert any("zebras" in r.text for r in idx.collection.rows.values()) and idx.collection.bm25.knows("zebra")
    kept = len(idx)
    (uploads / "passwd.md").rename(incoming / "away.md")
    assert "no longer where it was indexed" in library.reindex_document(idx, "passwd.md") and len(idx) == kept
    (incoming / "away.md").rename(uploads / "passwd.md")
    consistent(idx)

    message = library.remove_document(idx, str(uploads / "passwd.md"))
    assert message.startswith("Removed passwd.md") and not (uploads / "passwd.md").exists()
    consistent(idx)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_documents_tab_uploads_lists_and_removes_over_http(tmp_path):
    """The Documents tab's endpoints, called as a browser's upload is: through the real Gradio server."""
    import socket

    from gradio_client import Client, handle_file

    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    doc = tmp_path / "principe-5.md"
    doc.write_bytes((PARIS / "fr" / "case-study-principle-5.md").read_bytes())
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    demo = app.create_app(lambda progress=None: idx)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False, download_files=str(tmp_path / "dl"))
        outcome, table, choices, status, about = client.predict([handle_file(str(doc)), handle_file(str(bad))],
                                                         api_name="/upload")
        assert "1 added" in outcome and "principe-5.md" in outcome and "⚠️ scan.pdf is not a readable PDF" in outcome
        assert [row[1] for row in table["data"]] == ["principe-5.md"] and "from 1 documents" in status
        assert "1 document in French" in about
        stored = str((tmp_path / "home" / "uploads" / "principe-5.md").resolve())
        assert Path(stored).exists() and [d.path for d in idx.documents()] == [stored]
        outcome, _, chosen, _, _ = client.predict("principe-5.md", api_name="/reindex")
        assert "1 unchanged" in outcome and "principe-5.md" in outcome
        outcome, _, _, _, _ = client.predict(stored, api_name="/reindex")  # a server path is not a name shown
        assert "not an indexed document" in outcome
        outcome, _, _, _, _ = client.predict(stored, api_name="/remove")
        assert "not an indexed document" in outcome and len(idx) > 0
        outcome, table, _, _, _ = client.predict("principe-5.md", api_name="/remove")
        assert outcome.startswith("Removed principe-5.md") and table["data"] in ([], [[]], [[""] * 5])
        assert len(idx) == 0 and idx.collection.store.count() == 0
        client.close()
    finally:
        demo.close()


def test_an_upload_over_the_file_budget_reports_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(library, "MAX_UPLOAD_FILES", 2)
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    files = []
    for i in range(3):
        f = tmp_path / f"note-{i}.md"
        f.write_text(f"Note {i} : la gouvernance de l'Internet, réunion numéro {i} à Genève.\n", "utf-8")
        files.append(str(f))
    report = library.add_uploads(idx, files)
    assert len(report.added) == 2 and [p for p, _ in report.failed] == ["note-2.md"]
    assert "at most 2 files" in report.failed[0][1]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_documents_tab_in_a_browser_reports_every_rejected_file_and_removes_after_a_confirmation(tmp_path):
    """Upload from the page: a good file, a dot-named file and an unsupported type; every file is in
    the report, which stays; a row of the list is removed only once confirmed."""
    from playwright.sync_api import expect, sync_playwright

    from .test_ui import CHROMIUM, CHROMIUM_ARGS, _free_port

    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "principe-5.md"
    good.write_bytes((PARIS / "fr" / "case-study-principle-5.md").read_bytes())
    (incoming / ".bashrc").write_text("export PATH=$PATH:~/bin\n")
    (incoming / "setup.exe").write_bytes(b"MZ\x90\x00")
    demo = app.create_app(lambda progress=None: idx)
    demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1366, "height": 900})
            pg.goto(demo.local_url)
            expect(pg.locator("#status")).to_contain_text("Ready", timeout=30_000)
            expect(pg.locator("button.gallery-item")).to_have_count(0)  # no example about the seeds: not indexed
            pg.get_by_role("tab", name="Documents").click()
            expect(pg.locator("#remove")).to_be_disabled()  # nothing chosen: nothing to remove
            pg.locator("#upload input[type=file]").set_input_files(
                [str(good), str(incoming / ".bashrc"), str(incoming / "setup.exe")])
            report = pg.locator("#upload-report")
            expect(report).to_contain_text("added principe-5.md", timeout=60_000)
            expect(report).to_contain_text(".bashrc unsupported file type (none)")
            expect(report).to_contain_text("setup.exe unsupported file type .exe")
            table = pg.locator("#documents")
            title = idx.documents()[0].title
            expect(table).to_contain_text(title)
            pg.wait_for_timeout(3000)
            expect(report).to_contain_text(".bashrc unsupported")  # the report stays, unlike a toast

            table.get_by_test_id("cell-0-1").click()  # a row: chosen for the actions, its removal asked first
            expect(pg.locator("#reindex")).to_be_enabled()
            pg.locator("#reindex").click()  # the file did not change: nothing to do, and the report says so
            expect(report).to_contain_text("1 unchanged")
            pg.locator("#open-file").click()  # the whole document under the list
            view = pg.locator("#file-view")
            expect(view).to_contain_text(title)
            expect(view).to_contain_text(" ".join(good.read_text(encoding="utf-8").split()[-6:]))  # to its end
            pg.locator("#file-close").click()
            expect(view).to_be_hidden()
            pg.locator("#remove").click()
            confirm = pg.locator("#remove-confirm")
            expect(confirm).to_contain_text(f"Remove “{title}” (principe-5.md) from the index?")
            pg.get_by_role("button", name="Cancel").click()
            expect(confirm).to_be_hidden()
            assert len(idx) > 0
            table.get_by_test_id("cell-0-0").click()
            pg.locator("#remove").click()
            pg.get_by_role("button", name="Yes, remove").click()
            expect(report).to_contain_text("Removed principe-5.md")
            expect(confirm).to_be_hidden()
            expect(table).not_to_contain_text("principe-5.md")
            assert len(idx) == 0 and not (tmp_path / "home" / "uploads" / "principe-5.md").exists()
            browser.close()
    finally:
        demo.close()
