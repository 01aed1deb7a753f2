"""Readers: one small class per file format, each turning bytes into the text we cite.

A reader's only job is ``extract(data) -> Extracted``: the text (deterministic, so extracting the same
file again gives the same string and every stored offset stays valid) and a structure map, ``marks``:
``(offset, label)`` pairs in order, meaning "from this offset on, the text is on page <label>" (PDF) or
"under heading <label>" (Markdown, HTML, DOCX). ``loader.SourceText.where`` turns them into what a
reader needs to find a quote: "p. 3", "Article 3 › Paragraph 2", "lines 12–18".

    .txt .text        the decoded file itself
    .md .markdown     the decoded file itself; ATX and setext headings outside code fences
    .html .htm        BeautifulSoup (html.parser); one paragraph per block element; h1–h6
    .pdf              pypdf, page by page; pages joined by a blank line
    .docx             python-docx: body paragraphs and tables in order; "Heading N"/"Title" styles;
                      its zip directory checked first against readers_zip's limits (zip bombs)

Text is decoded by ``decode`` (byte-order marks, UTF-8 with a few bad bytes replaced, legacy encodings).

Extracted text is whitespace-tidied per block (runs of spaces collapsed, blocks separated by a blank
line) so the paragraph splitter sees the structure; quotes are verbatim from that text. Known limits:
PDF text comes out in pypdf's reading order (columns and tables may interleave), a scanned PDF has no
text at all (OCR it first), AES-encrypted PDFs need the cryptography package, and a newer pypdf may
extract a PDF differently: the answer then says the file changed since it was indexed, and `qa index`
again fixes it. Word headers, footers, footnotes and text boxes are not read; neither are old .doc files.
"""
from __future__ import annotations

import importlib
import io
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from .decode import Undecodable, bom_of, looks_binary
from .decode import decode as _decode
from .readers_zip import check_zip

Marks = tuple[tuple[int, str], ...]
SEP = " › "  # between the headings of a path: "Chapter 2 › Article 3"
TITLE_CHARS = 60  # a heading longer than this is cut in the location label
DOC_TITLE_CHARS = 100  # a document's title (document_title) is cut to this


class Unreadable(Exception):
    """The file cannot be indexed; the message says why in a user's words."""


@dataclass(frozen=True)
class Extracted:
    text: str
    encoding: str  # the text encoding for text formats; the format for extracted ones ("pdf", "docx")
    marks: Marks = ()
    title: str = ""  # the title the file states (Markdown's first heading, HTML <title>, PDF/Word metadata)


class Reader(ABC):
    kind: str = "text"  # recorded with each document: "text", "markdown", "html", "docx", "pdf"
    # how SourceText.where names a place: "pages" (the marks are page numbers), else the heading path
    # of the marks, and where a text has none, its line numbers ("lines") or nothing ("")
    locates: str = "lines"
    suffixes: tuple[str, ...] = ()

    @abstractmethod
    def extract(self, data: bytes) -> Extracted:
        """The text of a non-empty file and its marks; raise Unreadable with the reason otherwise."""


def _require(module: str, package: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        from .errors import MissingDependencyError

        raise MissingDependencyError(f"reading {what} needs {package}: pip install {package}") from e


# -- text ------------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): a byte-order mark, else UTF-8 (a few bad bytes replaced and counted in the
    encoding), else charset-normalizer's guess; see ``decode``. Raises Unreadable when nothing fits."""
    try:
        return _decode(data)
    except Undecodable as e:
        raise Unreadable(str(e)) from None


class TextReader(Reader):
    kind, suffixes = "text", (".txt", ".text")

    def extract(self, data):
        if looks_binary(data):
            raise Unreadable("looks like a binary file, not text")
        text, encoding = decode(data)
        return Extracted(text, encoding)


_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


class MarkdownReader(TextReader):
    """The file as it is (quotes are verbatim Markdown), with its headings as marks."""

    kind, suffixes = "markdown", (".md", ".markdown")

    def extract(self, data):
        base = super().extract(data)
        headings = markdown_headings(base.text)
        return Extracted(base.text, base.encoding, heading_marks(headings), headings[0][2] if headings else "")


def markdown_headings(text: str) -> list[tuple[int, int, str]]:
    """(offset, level, title) of each heading, code fences skipped."""
    out, fence, pos, prev = [], None, 0, None  # prev: (offset, line) of the previous non-blank line
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        m = _FENCE.match(bare)
        if fence:
            fence = None if m and m.group(1) == fence else fence
        elif m:
            fence = m.group(1)
        elif (h := _ATX.match(bare)) and h.group(2):
            out.append((pos, len(h.group(1)), _md_inline(h.group(2))))
        elif _SETEXT.match(bare) and prev and not re.match(r"\s*([-*+>#|`~]|\d+[.)])", prev[1]):
            out.append((prev[0], 1 if bare.strip()[0] == "=" else 2, _md_inline(prev[1])))
        prev = (pos, bare) if bare.strip() and not fence else None
        pos += len(line)
    return out


def _md_inline(s: str) -> str:
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)  # links and images: their text
    return re.sub(r"[*_`]+", "", s).strip()


# -- structured documents: blocks of text separated by a blank line ---------------------------------

class Blocks:
    """Accumulates blocks into one text, separated by a blank line; remembers where headings start."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0
        self.headings: list[tuple[int, int, str]] = []

    def add(self, text: str, heading: int | None = None) -> None:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        block = "\n".join(line for line in lines if line)
        if not block:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.size += 2
        if heading is not None:
            self.headings.append((self.size, heading, " ".join(block.split())))
        self.parts.append(block)
        self.size += len(block)

    def result(self, encoding: str, title: str = "") -> Extracted:
        """`title`: the file's stated title, else its first top-level heading."""
        top = min((level for _, level, _ in self.headings), default=None)
        first = next((t for _, level, t in self.headings if level == top), "")
        return Extracted("".join(self.parts), encoding, heading_marks(self.headings), title or first)


def document_title(stated: str, text: str) -> str:
    """A document's title: the one it states, else its first non-empty line; whitespace collapsed,
    cut to DOC_TITLE_CHARS at a word."""
    title = " ".join((stated or "").split()) or next((" ".join(line.split()) for line in text.splitlines()
                                                     if line.strip()), "")
    if len(title) <= DOC_TITLE_CHARS:
        return title
    cut = title.rfind(" ", DOC_TITLE_CHARS // 2, DOC_TITLE_CHARS)
    return title[: cut if cut > 0 else DOC_TITLE_CHARS - 1].rstrip(" ,;:–-") + "…"


_NOT_A_TITLE = re.compile(r"^(microsoft (word|powerpoint) - |untitled\b|sans titre\b|document\d*$)|\.(docx?|pdf|odt|rtf|txt)$", re.I)


def stated_title(stated: str) -> str:
    """The title a file states, as context for its chunks (SourceText.context): whitespace collapsed,
    cut as document_title; "" for the file-name-like titles word processors leave in metadata
    ("Microsoft Word - draft.docx", "Untitled")."""
    stated = " ".join((stated or "").split())
    return "" if not stated or _NOT_A_TITLE.search(stated) else document_title(stated, "")


def heading_marks(headings: list[tuple[int, int, str]]) -> Marks:
    """Heading paths from (offset, level, title). A document's single top heading (its title) is left
    out of its sections' paths: the file name already says which document it is."""
    if not headings:
        return ()
    top = min(level for _, level, _ in headings)
    titled = [h for h in headings if h[1] == top]
    drop_title = len(titled) == 1 and titled[0] is headings[0] and len(headings) > 1
    marks, stack = [], []
    for i, (offset, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, _cut(title)))
        path = [t for lv, t in stack] if not (drop_title and i > 0) else [t for lv, t in stack[1:]]
        marks.append((offset, SEP.join(path)))
    return tuple(marks)


def _cut(title: str) -> str:
    if len(title) <= TITLE_CHARS:
        return title
    cut = title.rfind(" ", TITLE_CHARS // 2, TITLE_CHARS)
    return title[: cut if cut > 0 else TITLE_CHARS - 1].rstrip(" ,;:–-") + "…"


_HTML_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot",
    "thead", "tr", "ul", "html",
}
_HTML_SKIP = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "button",
              "select", "textarea"}


class HtmlReader(Reader):
    kind, suffixes, locates = "html", (".html", ".htm", ".xhtml"), ""

    def extract(self, data):
        _require("bs4", "beautifulsoup4", "HTML")
        from bs4 import BeautifulSoup, NavigableString
        from bs4.element import PreformattedString, Tag

        if looks_binary(data):
            raise Unreadable("looks like a binary file, not HTML")
        # a byte-order mark decides, as it does for text (bs4 would let a <meta charset> overrule it)
        markup, declared = decode(data) if bom_of(data) else (data, None)
        soup = BeautifulSoup(markup, "html.parser")
        out, buf = Blocks(), []

        def flush(heading=None):
            out.add("".join(buf), heading)
            buf.clear()

        def walk(node):
            for child in node.children:
                if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                    continue
                if isinstance(child, NavigableString):
                    buf.append(str(child))
                    continue
                if not isinstance(child, Tag) or child.name in _HTML_SKIP:
                    continue
                name = child.name
                if name == "br":
                    buf.append("\n")
                elif name in ("td", "th"):
                    if buf and "".join(buf).strip():
                        buf.append(" | ")
                    walk(child)
                elif name in _HTML_BLOCKS:
                    flush()
                    walk(child)
                    flush(int(name[1]) if re.fullmatch(r"h[1-6]", name) else None)
                else:
                    walk(child)

        walk(soup)
        flush()
        if not out.parts:
            raise Unreadable("has no text to index (an HTML page with no visible text)")
        stated = soup.title.get_text() if soup.title else ""
        return out.result(f"html ({declared or soup.original_encoding or 'utf-8'})", stated)


class DocxReader(Reader):
    kind, suffixes, locates = "docx", (".docx",), ""

    def extract(self, data):
        docx = _require("docx", "python-docx", "Word files")
        from docx.table import Table

        try:
            check_zip(data, "Word document")  # from the zip directory, before anything is inflated
            document = docx.Document(io.BytesIO(data))
            out = Blocks()
            for item in document.iter_inner_content():
                if isinstance(item, Table):
                    out.add("\n".join(" | ".join(_unique_cells(row)) for row in item.rows))
                else:
                    out.add(item.text, _docx_heading_level(item.style.name if item.style is not None else ""))
        except Unreadable:
            raise
        except Undecodable as e:  # over a limit of readers_zip
            raise Unreadable(str(e)) from None
        except Exception as e:  # zipfile.BadZipFile, KeyError for a missing part, lxml errors...
            raise Unreadable(f"is not a readable Word document (.docx): {type(e).__name__}: {e}") from None
        if not out.parts:
            raise Unreadable("has no text to index (an empty Word document)")
        return out.result("docx", document.core_properties.title or "")


def _unique_cells(row) -> list[str]:
    """Cell texts of a table row; a merged cell is listed once, not once per grid column."""
    seen, out = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(" ".join(cell.text.split()))
    return out


def _docx_heading_level(style: str) -> int | None:
    """"Heading 2" -> 2, "Title" -> 0 (also the French names Word gives them); body text -> None."""
    s = style.strip().lower()
    if s in ("title", "titre"):
        return 0
    m = re.fullmatch(r"(?:heading|titre)\s*(\d)", s)
    return int(m.group(1)) if m else None


class PdfReader(Reader):
    kind, suffixes, locates = "pdf", (".pdf",), "pages"

    def extract(self, data):
        import logging

        pypdf = _require("pypdf", "pypdf", "PDF")
        logging.getLogger("pypdf").setLevel(logging.ERROR)  # its recoverable-damage warnings are noise here
        try:
            pdf = pypdf.PdfReader(io.BytesIO(data))
            if pdf.is_encrypted and not pdf.decrypt(""):
                raise Unreadable("is an encrypted (password-protected) PDF; save an unprotected copy to index it")
            pages = [page.extract_text() or "" for page in pdf.pages]
            stated = str((pdf.metadata or {}).get("/Title") or "")
        except Unreadable:
            raise
        except pypdf.errors.FileNotDecryptedError:
            raise Unreadable("is an encrypted (password-protected) PDF; save an unprotected copy to index it") from None
        except pypdf.errors.DependencyError as e:  # AES encryption without the cryptography package
            raise Unreadable(f"is an encrypted PDF that needs the cryptography package: pip install cryptography "
                             f"({e})") from None
        except Exception as e:  # pypdf raises PdfReadError, but also ValueError/KeyError on damaged files
            raise Unreadable(f"is not a readable PDF (damaged or not a PDF): {type(e).__name__}: {e}") from None
        out: list[str] = []
        marks: list[tuple[int, str]] = []
        size = 0
        for number, page in enumerate(pages, 1):
            body = "\n".join(" ".join(line.split()) for line in page.split("\n"))
            body = re.sub(r"\n{3,}", "\n\n", body).strip()
            if not body:
                continue
            if out:
                out.append("\n\n")
                size += 2
            marks.append((size, str(number)))
            out.append(body)
            size += len(body)
        if not out:
            raise Unreadable(f"has no extractable text ({len(pages)} page(s), no text layer: a scanned PDF? "
                             "run OCR on it first)")
        return Extracted("".join(out), "pdf", tuple(marks), stated)


READERS: tuple[Reader, ...] = (TextReader(), MarkdownReader(), HtmlReader(), PdfReader(), DocxReader())
BY_SUFFIX = {s: r for r in READERS for s in r.suffixes}
SUFFIXES = frozenset(BY_SUFFIX)
