"""Bytes to text, deterministically: the same bytes always give the same string (every offset we store
points into it, and a quote is checked against the file again by decoding it again).

In order:
1. a byte-order mark says the encoding: UTF-8, UTF-16 LE/BE, UTF-32 LE/BE (the mark is not in the text);
2. valid UTF-8;
3. UTF-8 but for a few bad bytes (at most BAD_SHARE of the non-ASCII bytes; a pasted Windows-1252
   quote, a truncated character): read as UTF-8, each bad byte one U+FFFD, and the encoding recorded
   as "utf-8 (3 invalid bytes replaced)". A legacy file (Latin-1, Windows-1252) has almost no valid
   UTF-8 sequences, so it does not pass for this;
4. charset-normalizer's best guess, if its text is plausible; between equally good guesses, a Western
   encoding (the documents are English and French: "Genève" in Windows-1252 also reads as Windows-1250).

    >>> decode("café".encode("utf-16"))
    ('café', 'utf-16-le (BOM)')
"""
from __future__ import annotations

import codecs

BAD_SHARE = 0.1  # bad bytes / non-ASCII bytes under which a file is UTF-8 with a few bad bytes
_ASCII = bytes(range(128))
WESTERN = ("cp1252", "iso8859_15", "latin_1")  # English and French, when charset-normalizer cannot tell
_PER_BYTE = "index-decode-per-byte"  # error handler: one U+FFFD per undecodable byte
codecs.register_error(_PER_BYTE, lambda e: ("\ufffd" * (e.end - e.start), e.end))
# longest first: the UTF-32 LE mark begins with the UTF-16 LE one
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class Undecodable(ValueError):
    """The bytes cannot be turned into text (no encoding fits, an archive over a limit); the message says
    why in a user's words."""


def bom_of(data: bytes) -> tuple[str, int] | None:
    """(codec, length of the mark) if the data starts with a byte-order mark whose encoding fits it."""
    for mark, codec in BOMS:
        if data.startswith(mark):
            # FF FE 00 00 may also be UTF-16 LE text that starts with a NUL: then it is binary anyway
            if "32" not in codec or (len(data) - len(mark)) % 4 == 0:
                return codec, len(mark)
    return None


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB: not a text file (a UTF-16 or UTF-32 file
    with its byte-order mark is text)."""
    bom = bom_of(data)
    if bom:  # its characters, not its bytes (every other byte of English UTF-16 is NUL)
        codec, skip = bom
        head = [ord(c) for c in data[skip : skip + 8192].decode(codec, "ignore")]
    else:
        head = data[:8192]
    if 0 in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and controls / len(head) > 0.05


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of the bytes of a text file; raise Undecodable when nothing fits (see the module)."""
    bom = bom_of(data)
    if bom:
        codec, skip = bom
        text, bad = _replacing(data[skip:], codec)
        label = "utf-8-sig" if codec == "utf-8" else f"{codec} (BOM)"
        return text, label + _replaced(bad)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text, bad = _replacing(data, "utf-8")
    if bad <= BAD_SHARE * len(data.translate(None, _ASCII)):
        return text, "utf-8" + _replaced(bad)
    from charset_normalizer import from_bytes

    found = from_bytes(data)
    best = found.best()
    if best is not None:  # a tie (French in cp1252 reads as well in cp1250): the Western encodings first
        tied = [m for m in found if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
        best = next((m for m in tied if m.encoding in WESTERN), best)
    if best is not None and best.encoding and best.chaos < 0.3:
        return str(best), best.encoding.replace("_", "-")
    raise Undecodable("cannot decode it as text (not UTF-8, and no other encoding fits)")


def _replacing(data: bytes, codec: str) -> tuple[str, int]:
    """The text with each byte that does not decode replaced by U+FFFD (one per byte, so the count is
    of bytes), and how many bytes were replaced (U+FFFD already in the file not counted)."""
    try:
        return data.decode(codec), 0
    except UnicodeDecodeError:
        pass
    text = data.decode(codec, _PER_BYTE)
    return text, text.count("\ufffd") - data.decode(codec, "ignore").count("\ufffd")


def _replaced(bad: int) -> str:
    return "" if not bad else f" ({bad} invalid byte{'s' if bad > 1 else ''} replaced)"
