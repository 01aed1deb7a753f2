"""Finding and reading files when indexing: one bad entry is reported with its reason, the rest is indexed.

Real files in tmp_path: zip bombs built as real .docx archives, symbolic link loops and links out of the
folder, a FIFO, a link to /dev/zero, a name that is not UTF-8, folders 1,100 deep, UTF-16/32 files with
a byte-order mark, a UTF-8 file with a few bad bytes. A real index (use-v3) and the real `qa index`.
"""
from __future__ import annotations

import codecs
import io
import os
import random
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from index.loader import Unreadable, read_text
from index.report import Report
from index import walk
from index.walk import collect
from qa import Index

from .conftest import ROOT
from .test_formats import EMBEDDER, make_docx

NOTE = "The Working Group on Internet Governance met in Geneva on 23 November 2004. Mr. Nitin Desai chaired it.\n"
FRENCH = ("Le Groupe de travail sur la gouvernance de l’Internet s’est réuni à Genève le 23 novembre 2004. "
          "Il était présidé par M. Nitin Desai ; « l’accès pour tous » demeure une priorité.\n")


def folder_with_note(tmp_path: Path, name: str = "docs") -> tuple[Path, Path]:
    src = tmp_path / name
    src.mkdir()
    good = src / "note.txt"
    good.write_text(NOTE, encoding="utf-8")
    return src, good


@pytest.fixture
def deep_tree():
    """make(root, depth): `depth` nested folders with a text file at the bottom, removed after the test
    from the bottom up (os.makedirs and shutil.rmtree, hence pytest's clean-up, recurse too deep)."""
    made = []

    def make(root: Path, depth: int) -> Path:
        root.mkdir()
        cur = str(root)
        for _ in range(depth):
            cur = os.path.join(cur, "d")
            os.mkdir(cur)
        Path(cur, "bottom.txt").write_text(NOTE, encoding="utf-8")
        made.append((root, cur))
        return Path(cur)

    yield make
    for root, cur in made:
        os.unlink(os.path.join(cur, "bottom.txt"))
        while cur != str(root):
            os.rmdir(cur)
            cur = os.path.dirname(cur)


def rezip(src: Path, dest: Path, replace: dict[str, bytes] = {}, add: dict[str, bytes] = {}) -> Path:
    """A copy of a .docx with some members replaced or added, deflated as Word does."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in add.items():
            zout.writestr(name, data)
    return dest


def small_docx(path: Path) -> Path:
    return make_docx(path, "Working Group", [("Meeting", [NOTE.strip()])])


# -- 1. zip bombs: limits on what an archive inflates to, from its directory, before inflating -------------

def test_a_docx_zip_bomb_is_refused_from_its_directory_before_inflating_and_the_batch_is_indexed(tmp_path):
    src, good = folder_with_note(tmp_path)
    plain = small_docx(tmp_path / "plain.docx")
    with zipfile.ZipFile(plain) as z:
        xml = z.read("word/document.xml")
    decl, _, rest = xml.partition(b"?>")
    # valid XML (whitespace may follow the declaration) that inflates 60 MB from a few tens of KB
    bomb = rezip(plain, src / "bomb.docx", replace={"word/document.xml": decl + b"?>" + b" " * 60_000_000 + rest})
    assert bomb.stat().st_size < 200_000
    fine = rezip(plain, src / "fine.docx")

    tracemalloc.start()
    try:
        with pytest.raises(Unreadable, match=r"member 'word/document.xml' would unzip [\d,]+ times its size.*"
                                             r"over the 100:1 compression ratio limit"):
            read_text(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak / 1e6:.0f} MB allocated: the bomb was inflated"

    report = Index(tmp_path / "home", embedder=EMBEDDER).add([src])
    assert sorted(report.added) == sorted([str(good), str(fine)]), report.summary()
    assert "zip bomb" in dict(report.failed)[str(bomb)]


def lie_about(path: Path, member: str, size: int, crc: int) -> None:
    """Rewrite a member's size and CRC in its local header and in the zip directory, as a forger would."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local, at = z.getinfo(member).header_offset, z.start_dir
    struct.pack_into("<L", data, local + 14, crc)  # the sizes that follow: compressed (kept), then inflated
    struct.pack_into("<L", data, local + 22, size)
    while data[at : at + 4] == b"PK\x01\x02":  # central directory records
        n, m, k = struct.unpack_from("<3H", data, at + 28)
        if data[at + 46 : at + 46 + n].decode() == member:
            struct.pack_into("<L", data, at + 16, crc)
            struct.pack_into("<L", data, at + 24, size)
        at += 46 + n + m + k
    path.write_bytes(bytes(data))


def test_a_docx_whose_zip_directory_understates_a_member_is_refused_without_inflating_it_whole(tmp_path):
    """zipfile cuts a member at the size its entry says, but inflates all of it first: the entry may lie."""
    plain = small_docx(tmp_path / "plain.docx")
    with zipfile.ZipFile(plain) as z:
        xml = z.read("word/document.xml")
    liar = rezip(plain, tmp_path / "liar.docx", replace={"word/document.xml": xml + b"\0" * 60_000_000})
    lie_about(liar, "word/document.xml", len(xml), zlib.crc32(xml))  # the real XML, then 60 MB unsaid
    tracemalloc.start()
    try:
        with pytest.raises(Unreadable, match=r"member 'word/document.xml' unzips to more than the [\d,]+ bytes "
                                             r"its zip directory says"):
            read_text(liar)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak / 1e6:.0f} MB allocated: the member was inflated whole"


def test_a_docx_that_would_unzip_past_the_limit_is_refused_though_each_member_compresses_normally(tmp_path):
    rnd = random.Random(7)
    block = bytearray(b"a" * 6_000_000)
    block[::150] = bytes(rnd.randrange(256) for _ in range(len(block[::150])))  # deflates ~40:1, under 100:1
    big = tmp_path / "big.docx"
    with zipfile.ZipFile(small_docx(tmp_path / "plain.docx")) as zin, \
            zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        with zout.open("word/media/filler.bin", "w") as f:  # 210 MB from a ~5 MB file
            for _ in range(35):
                f.write(block)
    assert big.stat().st_size < 10_000_000
    with pytest.raises(Unreadable, match=r"would unzip to 21\d MB, over the 200 MB limit for an archive's "
                                         r"uncompressed content"):
        read_text(big)


def test_a_word_document_compressing_like_a_real_one_is_read(tmp_path):
    """The limits leave real documents alone: the fixture's text XML compresses well under 100:1."""
    doc = small_docx(tmp_path / "plain.docx")
    with zipfile.ZipFile(doc) as z:
        info = z.getinfo("word/document.xml")
    assert info.file_size / info.compress_size < 20
    assert "Nitin Desai" in read_text(doc).text


# -- 2. one bad entry does not abort the run --------------------------------------------------------------

def test_a_symlink_loop_is_skipped_with_its_reason_and_the_rest_is_indexed(tmp_path):
    src, good = folder_with_note(tmp_path)
    (src / "loop.txt").symlink_to("loop.txt")
    (src / "a.md").symlink_to("b.md")
    (src / "b.md").symlink_to("a.md")
    report = Index(tmp_path / "home", embedder=EMBEDDER).add([src])
    assert report.added == [str(good)], report.summary()
    skipped = dict(report.skipped)
    for name in ("loop.txt", "a.md", "b.md"):
        assert "symbolic link loop" in skipped[str(src / name)], skipped


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_is_indexed(tmp_path):
    src, good = folder_with_note(tmp_path)
    bad = os.path.join(os.fsencode(src), b"caf\xe9.txt")  # Latin-1 "café.txt": not a UTF-8 name
    with open(bad, "wb") as f:
        f.write(NOTE.replace("Geneva", "Tunis").encode())
    report = Index(tmp_path / "home", embedder=EMBEDDER).add([src])
    assert report.added == [str(good)], report.summary()
    assert "not valid UTF-8" in dict(report.failed)[f"{src}/caf\\xe9.txt"]
    report.summary().encode("utf-8")  # printable: the bad byte is shown as \xe9, not a lone surrogate


def test_folders_nested_too_deep_are_reported_and_the_rest_is_walked(tmp_path, deep_tree):
    src, good = folder_with_note(tmp_path)
    bottom = deep_tree(src / "deep", 1_100)
    report = Report()
    files = collect([src], report)
    assert files == [good]
    (path, why), = report.failed
    assert path == str(src / "deep" / os.path.join(*["d"] * walk.MAX_DEPTH)) and "nested more than" in why
    assert not any(str(bottom) in p for p, _ in report.skipped)


def test_qa_index_reports_each_bad_entry_and_indexes_the_rest(tmp_path, deep_tree):
    """The real command over a folder with one bad entry of each kind: no traceback, no hang, exit 1."""
    src, good = folder_with_note(tmp_path)
    (src / "loop.txt").symlink_to("loop.txt")
    with open(os.path.join(os.fsencode(src), b"caf\xe9.txt"), "wb") as f:
        f.write(b"Le groupe s'est reuni a Tunis.\n")
    deep_tree(src / "deep", 1_100)
    os.mkfifo(src / "pipe.txt")
    (src / "zero.txt").symlink_to("/dev/zero")
    outside = tmp_path / "outside.txt"
    outside.write_text("A private note outside the folder.\n", encoding="utf-8")
    (src / "link.txt").symlink_to(outside)
    home = tmp_path / "home"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "index", "--home", str(home), str(src)], cwd=ROOT,
                       env={**os.environ, "QA_EMBEDDER": EMBEDDER}, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, r.stdout + r.stderr  # some entries could not be indexed; each is listed
    assert r.stdout.startswith("1 added,"), r.stdout
    for line in (f"skipped: {src}/loop.txt: a symbolic link loop", f"failed: {src}/caf\\xe9.txt: its name is not",
                 f"failed: {src}/deep/d/", f"skipped: {src}/pipe.txt: is a named pipe (FIFO), not a regular file",
                 f"skipped: {src}/zero.txt: a symbolic link (to /dev/zero), not followed",
                 f"skipped: {src}/link.txt: a symbolic link (to {outside}), not followed"):
        assert line in r.stdout, (line, r.stdout)
    assert [d.path for d in Index(home, embedder=EMBEDDER).documents()] == [str(good)]


# -- 3. links: nothing outside the folder given is read unless asked ---------------------------------------

def test_a_link_to_a_file_outside_the_folder_is_not_read_and_is_reported(tmp_path):
    src, good = folder_with_note(tmp_path)
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("The budget is secret.\n", encoding="utf-8")
    (src / "secret.txt").symlink_to(outside / "secret.txt")
    (src / "private").symlink_to(outside)
    idx = Index(tmp_path / "home", embedder=EMBEDDER)
    report = idx.add([src])
    assert report.added == [str(good)], report.summary()
    assert [d.path for d in idx.documents()] == [str(good)]
    skipped = dict(report.skipped)
    for link in ("secret.txt", "private"):
        assert "not followed: nothing outside the folder given is read" in skipped[str(src / link)]
        assert "--follow-links" in skipped[str(src / link)]


def test_links_are_followed_when_asked_and_what_they_lead_to_is_under_the_folder(tmp_path):
    src, good = folder_with_note(tmp_path)
    outside = tmp_path / "shared"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "minutes.md").write_text("# Minutes\n\nThe group met in Tunis.\n", encoding="utf-8")
    (outside / "sub" / "again").symlink_to(outside)  # a loop through a folder link
    (src / "shared").symlink_to(outside)
    (src / "same.txt").symlink_to(good)  # the folder's own file: indexed under its own name, once
    (src / "gone.txt").symlink_to(tmp_path / "nothing-here.txt")

    report = Report()
    files = collect([src], report, follow_links=True)
    minutes = src / "shared" / "sub" / "minutes.md"
    assert files == [good, minutes]
    skipped = dict(report.skipped)
    assert f"the same file as {good}" in skipped[str(src / "same.txt")]
    assert "broken symbolic link" in skipped[str(src / "gone.txt")]
    assert "the same folder as" in skipped[str(src / "shared" / "sub" / "again")]
    doc = read_text(minutes)
    assert doc.path == str(minutes)  # under the folder: removing the folder or the link removes it

    report = Report()
    assert collect([src], report) == [good]  # not asked: nothing behind a link is read
    assert all("symbolic link" in why for _, why in report.skipped) and len(report.skipped) == 3


# -- 4. only regular files are read ------------------------------------------------------------------------

def _read_in_a_subprocess(path: Path) -> subprocess.CompletedProcess:
    """read_text(path) in a child with 1 GB of address space and a timeout: reading /dev/zero or
    blocking on a FIFO must not take the test run down with it."""
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))\n"
            "from index.loader import Unreadable, read_text\n"
            "try:\n"
            "    read_text(sys.argv[1], 50_000_000)\n"
            "except Unreadable as e:\n"
            "    print('Unreadable:', e)\n")
    return subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("make,kind", [
    (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    (lambda p: p.symlink_to("/dev/zero"), "a character device"),
])
def test_a_special_file_named_txt_is_refused_before_it_is_read(tmp_path, make, kind):
    f = tmp_path / "x.txt"
    make(f)
    try:
        r = _read_in_a_subprocess(f)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {kind} did not return")
    assert r.stdout.strip() == f"Unreadable: is {kind}, not a regular file; only regular files are read", \
        r.stdout + r.stderr[-2000:]


def test_special_files_in_a_folder_are_skipped_even_when_following_links(tmp_path):
    src, good = folder_with_note(tmp_path)
    os.mkfifo(src / "pipe.md")
    (src / "zero.txt").symlink_to("/dev/zero")
    report = Report()
    assert collect([src], report, follow_links=True) == [good]
    skipped = dict(report.skipped)
    assert "is a named pipe (FIFO)" in skipped[str(src / "pipe.md")]
    assert "is a character device" in skipped[str(src / "zero.txt")]


# -- 5. decoding: byte-order marks; UTF-8 with a few bad bytes ---------------------------------------------

@pytest.mark.parametrize("codec,bom,label", [
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le (BOM)"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be (BOM)"),
    ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le (BOM)"),
    ("utf-32-be", codecs.BOM_UTF32_BE, "utf-32-be (BOM)"),
    ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
])
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_a_text_file_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path, codec, bom, label, suffix):
    f = tmp_path / f"note{suffix}"
    text = NOTE + FRENCH
    f.write_bytes(bom + text.encode(codec))
    doc = read_text(f)
    assert (doc.text, doc.encoding) == (text, label)  # the mark is not in the text: offsets start after it
    start = doc.text.index("présidé par M. Nitin Desai")
    assert doc.text[start : start + 26] == "présidé par M. Nitin Desai"


def test_an_html_page_in_utf16_with_a_byte_order_mark_is_read(tmp_path):
    f = tmp_path / "page.html"
    page = f"<html><body><h1>Genève</h1><p>{FRENCH}</p></body></html>"
    f.write_bytes(codecs.BOM_UTF16_LE + page.encode("utf-16-le"))
    doc = read_text(f)
    assert "« l’accès pour tous »" in doc.text and doc.encoding == "html (utf-16-le (BOM))"


def test_a_utf8_file_with_a_few_bad_bytes_is_read_as_utf8_with_them_replaced_and_counted(tmp_path):
    good = (FRENCH * 3).encode("utf-8")
    # a Windows-1252 “quote” pasted in, and a stray byte: three bytes that are not UTF-8
    data = good + b"Il a dit \x93oui\x94 \xff.\n" + good
    f = tmp_path / "notes.txt"
    f.write_bytes(data)
    doc = read_text(f)
    assert doc.encoding == "utf-8 (3 invalid bytes replaced)"
    assert doc.text == FRENCH * 3 + "Il a dit \ufffdoui\ufffd \ufffd.\n" + FRENCH * 3  # no mojibake
    # the same string every time: a quote found at its offsets is still there when checked again
    f.write_bytes(data)
    again = read_text(f)
    assert again.text == doc.text
    report = Index(tmp_path / "home", embedder=EMBEDDER).add([f])
    assert report.added == [str(f)], report.summary()


def test_a_legacy_file_is_still_decoded_by_its_charset_not_as_utf8(tmp_path):
    f = tmp_path / "ancien.txt"
    text = FRENCH.replace("’", "'") * 5
    f.write_bytes(text.encode("cp1252"))
    doc = read_text(f)
    assert doc.text == text and not doc.encoding.startswith("utf-8")
