"""Read a file into text we can cite: decoded robustly, nothing rewritten.

Every offset in the project points into ``SourceText.text`` — the decoded file, exactly.
Whitespace is normalised only in the copies we embed and tokenise (see ``chunker``), never here,
so a quote taken at its offsets is verbatim from the file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}


class Unreadable(Exception):
    """The file cannot be indexed; the message says why in a user's words."""


@dataclass(frozen=True)
class SourceText:
    path: str  # absolute path as indexed
    text: str  # the decoded file
    encoding: str  # "utf-8", "utf-8-sig", "cp1252", ...
    sha256: str  # of the raw bytes: unchanged files are skipped on re-index


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB: not a text file."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and controls / len(head) > 0.05


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 first (with or without BOM); then the best guess of charset-normalizer; then cp1252.

    Returns (text, encoding). Raises Unreadable when no decoding gives plausible text.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding and best.chaos < 0.3:
        return str(best), best.encoding.replace("_", "-")
    raise Unreadable("cannot decode it as text (not UTF-8, and no other encoding fits)")


def read_text(path: Path, max_bytes: int | None = None) -> SourceText:
    """Read and decode one text file; raise Unreadable with the reason if it cannot be indexed."""
    path = Path(path)
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise Unreadable(f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (QA_MAX_FILE_MB)")
    data = path.read_bytes()
    if not data.strip():
        raise Unreadable("is empty")
    if looks_binary(data):
        raise Unreadable("looks like a binary file, not text")
    text, encoding = decode(data)
    return SourceText(str(path.resolve()), text, encoding, file_hash(data))


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
