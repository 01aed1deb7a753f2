"""The document library behind the web page, without Gradio: uploads stored under safe names and
indexed, documents listed and removed. A notebook can call the same functions.

Files given to ``add_uploads`` are copied into ``<data folder>/uploads`` under a safe name
(``safe_name``: no folders, no "..", no control characters, at most NAME_CHARS characters) and indexed.
A file that cannot be indexed is not kept, and an earlier upload of the same name stays as it was;
uploading a new version of a file replaces it.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path

from index.loader import SUFFIXES, Unreadable, read_text
from index.report import Report

from .api import Index
from .labels import label

NAME_CHARS = 120  # longest name an uploaded file is stored under
MAX_UPLOAD_FILES = 100  # files one upload indexes; `qa index` has no such budget


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: "../../etc/passwd" -> "passwd", control and
    path characters replaced, leading dots dropped, cut to NAME_CHARS keeping the extension."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", str(name)))[-1]
    base = "".join("_" if unicodedata.category(ch)[0] == "C" or ch in '<>:"|?*' else ch for ch in base)
    base = base.strip().lstrip(".").strip() or "upload"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > 10:
        stem, suffix = base, ""
    suffix = f".{suffix}" if suffix else ""
    limit = NAME_CHARS - len(suffix)
    while len(stem.encode()) > limit:  # bytes: file systems cap names at 255 bytes, not characters
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix if stem.rstrip(" .") else "upload" + suffix


def shown_name(name) -> str:
    """An uploaded file's own name, to name it in a report: its last path part, control characters
    replaced, at most NAME_CHARS characters (the name it is stored under is `safe_name`'s)."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", str(getattr(name, "name", name))))[-1]
    base = "".join("_" if unicodedata.category(ch)[0] == "C" else ch for ch in base).strip() or "upload"
    return base if len(base) <= NAME_CHARS else base[: NAME_CHARS - 1] + "…"


def add_uploads(idx: Index, files, progress=None):
    """Copy uploaded files into <home>/uploads under safe names and index them.

    `files`: paths (Gradio's temporary copies) or (path, original name) pairs. Returns the indexing
    Report, with files that could not even be stored or read listed under ``failed``. A file that is
    not indexed is not kept; a new version of an uploaded name replaces the old one only if it reads.
    """
    folder = idx.settings.home / "uploads"
    staging = folder / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    max_bytes = int(idx.settings.max_file_mb * 1e6)
    early, ready = Report(), []
    files = list(files or [])
    for item in files[MAX_UPLOAD_FILES:]:  # a budget per upload: the rest is reported, not silently dropped
        original = item[1] if isinstance(item, (tuple, list)) else item
        early.failed.append((safe_name(str(getattr(original, "name", original))),
                             f"not indexed: an upload takes at most {MAX_UPLOAD_FILES} files; add the rest again"))
    for item in files[:MAX_UPLOAD_FILES]:
        src, original = (item if isinstance(item, (tuple, list)) else (item, item))
        src = Path(src if isinstance(src, (str, os.PathLike)) else src.name)  # a path, or a tempfile object
        name = safe_name(str(original))
        if Path(name).suffix.lower() not in SUFFIXES:  # named as uploaded: ".bashrc" is not stored as "bashrc"
            early.failed.append((shown_name(original), f"unsupported file type {Path(name).suffix or '(none)'}; "
                                                       f"supported: {', '.join(sorted(SUFFIXES))}"))
            continue
        tmp = staging / name
        try:
            if src.stat().st_size > max_bytes:  # before copying a huge file anywhere
                raise Unreadable(f"is {src.stat().st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB "
                                 "limit (QA_MAX_FILE_MB)")
            shutil.copyfile(src, tmp)
            read_text(tmp, max_bytes)  # a bad file must not replace a good earlier upload of that name
        except (Unreadable, OSError) as e:
            early.failed.append((name, str(e) if isinstance(e, Unreadable) else f"cannot be stored: {e}"))
            tmp.unlink(missing_ok=True)
            continue
        except Exception as e:  # a reader's bug on a strange file: report it, keep the batch going
            early.failed.append((name, f"cannot be read: {type(e).__name__}: {e}"))
            tmp.unlink(missing_ok=True)
            continue
        dest = folder / name
        tmp.replace(dest)
        ready.append(dest)
    report = idx.add(ready, progress=progress) if ready else early
    if report is not early:
        report.failed[:0] = early.failed
    indexed = {d.path for d in idx.documents()}
    for p in ready:  # duplicates and failures are not kept
        if str(p.resolve()) not in indexed:
            p.unlink(missing_ok=True)
    return report


def documents_table(idx: Index | None) -> list[list]:
    """(title, name, languages, chunks, when indexed) for each indexed document; the name is the one
    `document_names` gives it."""
    if idx is None:
        return []
    names = {path: name for name, path in document_names(idx).items()}
    return [[d.title or Path(d.path).name, names.get(d.path, Path(d.path).name), d.langs, d.n_chunks,
             datetime.fromtimestamp(d.indexed_at).strftime("%Y-%m-%d %H:%M")] for d in idx.documents()]


LANG_NAMES = {"en": {"en": "English", "fr": "French"}, "fr": {"en": "anglais", "fr": "français"}}


def describe(idx: Index | None, lang: str = "en", most: int = 5) -> str:
    """The collection in a sentence: how many documents, in which languages, and the first titles."""
    if idx is None:
        return ""
    docs = idx.documents()
    if not docs:
        return "Aucun document n’est indexé." if lang == "fr" else "No document is indexed yet."
    names = LANG_NAMES["fr" if lang == "fr" else "en"]
    langs = sorted({x for d in docs for x in (d.langs or "").split(",") if x})
    said = (" et " if lang == "fr" else " and ").join(names.get(x, x) for x in langs)
    titles = [f"“{d.title or Path(d.path).name}”" if lang != "fr" else f"« {d.title or Path(d.path).name} »"
              for d in docs[:most]]
    more = len(docs) - len(titles)
    listed = "; ".join(titles) + ((f" et {more} autres" if lang == "fr" else f" and {more} more") if more else "")
    if lang == "fr":
        return f"Vous interrogez {len(docs)} document{'s' * (len(docs) > 1)} en {said} : {listed}."
    return f"You are asking {len(docs)} document{'s' * (len(docs) > 1)} in {said}: {listed}."


def document_names(idx: Index | None) -> dict[str, str]:
    """The name each indexed document is shown by -> its path. The file name, or with its folders
    when two documents share one ("a/notes.md", "b/notes.md"): no server path is ever shown."""
    if idx is None:
        return {}
    paths = [Path(d.path) for d in idx.documents()]
    names: dict[str, str] = {}
    for p in paths:
        depth = 1
        while depth < len(p.parts) and sum(q.parts[-depth:] == p.parts[-depth:] for q in paths) > 1:
            depth += 1
        names["/".join(p.parts[-depth:])] = str(p)
    return names


def remove_document(idx: Index, path: str, lang: str = "en") -> str:
    """Remove a document from the index; an uploaded file is deleted too (it is our copy).
    `path`: as indexed, or the name `document_names` shows."""
    path = document_names(idx).get(path, path)
    n = idx.remove(path)
    p = Path(path)
    if p.parent == (idx.settings.home / "uploads").resolve():
        p.unlink(missing_ok=True)
    return label(lang, "removed", name=p.name, n=n)


def document_view(idx: Index, path: str) -> str:
    """A document's whole text as HTML (qa.render.file_html), as the file is now. `path`: as indexed,
    or the name `document_names` shows; a document not indexed raises ConfigError."""
    from index.loader import Sources

    from .errors import ConfigError
    from .render import CSS, file_html

    names = document_names(idx)
    path = names.get(path, path)
    doc = next((d for d in idx.documents() if d.path == path), None)
    if doc is None:
        raise ConfigError(f"{path!r} is not an indexed document")
    name = next((n for n, p in names.items() if p == path), Path(path).name)
    return CSS + file_html(doc.title or "", name, doc.langs or "", Sources().text(path))


def reindex_document(idx: Index, path: str, lang: str = "en", progress=None) -> str:
    """Read a document's file again and index what changed (nothing when it did not: the report says
    it is unchanged). A file that is gone or unreadable now leaves the document as it was indexed,
    and says so. `path`: as indexed, or the name `document_names` shows. Returns Markdown."""
    path = document_names(idx).get(path, path)
    if not Path(path).is_file():
        return label(lang, "reindex_gone", name=Path(path).name)
    return report_markdown(idx.add([path], progress=progress, prune=False), lang)


def report_markdown(report, lang: str = "en") -> str:
    """An indexing Report as a Markdown list, one line per file and why, in the page's language `lang`
    (the reasons are the indexer's, in English)."""
    from .labels import label
    from .render import markdown_literal as md  # a file named "*x*.md" is shown as named

    def n(p):
        return md(Path(p).name)

    counts = {k: len(getattr(report, k)) for k in ("added", "updated", "removed", "unchanged", "skipped", "failed")}
    lines = [f"**{label(lang, 'report', chunks=report.chunks, **counts)}**"]
    lines += [f"- ✓ {label(lang, 'report_added', name=n(p))}" for p in report.added]
    lines += [f"- 🔄 {label(lang, 'report_updated', name=n(p))}" for p in report.updated]
    lines += [f"- ○ {label(lang, 'report_unchanged', name=n(p))}" for p in report.unchanged]
    lines += [f"- 🗑️ {label(lang, 'report_removed', name=n(p))}" for p in report.removed]
    lines += [f"- ↷ {n(p)}: {md(why)}" for p, why in report.skipped]
    lines += [f"- ⚠️ {n(p)} {md(why)}" for p, why in report.failed]
    return "\n".join(lines)
