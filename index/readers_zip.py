"""Limits for zip-based formats (.docx, and any later one: .odt, .epub, .pptx), checked before inflating.

QA_MAX_FILE_MB limits the compressed file; a zip bomb is small. Its directory says what each member
inflates to, so it is read first and the archive refused, with the reason, when a member or the whole
would inflate to more than MAX_BYTES, or inflates more than MAX_RATIO times its compressed size (past
RATIO_FROM: small parts of a document often compress that well).

The directory may lie: zipfile cuts a member to the size its entry declares, but its read() inflates the
whole member first (a 1,000-byte entry inflated 100 MB), and python-docx reads parts that way. So, once
the directory passes, each deflated member is also inflated once in CHUNK pieces, and the archive refused
as soon as one gives more than its entry says. Only stored and deflated members are accepted (zipfile
inflates bzip2 and LZMA members in one piece; Word writes neither).

Word's XML usually compresses 5 to 20 times (the test fixture's document.xml: under 20), images and
fonts hardly at all; Apache POI's default limit for .docx members is the same 100:1.
"""
from __future__ import annotations

import io
import zipfile
import zlib

from .decode import Undecodable

MAX_BYTES = 200_000_000  # inflated size of all members together
MAX_RATIO = 100  # inflated / compressed, for a member or the whole archive
RATIO_FROM = 1_000_000  # inflated size under which a member's ratio is not checked
MAX_MEMBERS = 10_000  # the directory itself costs memory to read: ~0.5 KB per member
CHUNK = 1 << 20  # bytes inflated at a time when checking that a member is the size its entry says


class ZipRefused(Undecodable):
    """The archive would inflate to too much; the message says how much and which limit."""


def check_zip(data: bytes, what: str = "zip archive") -> None:
    """Raise ZipRefused if the zip in `data` breaks a limit; zipfile.BadZipFile if it is not a zip."""
    members = _directory_count(data)
    if members is not None and members > MAX_MEMBERS:
        raise ZipRefused(f"is a {what} of {members:,} zip members, over the limit of {MAX_MEMBERS:,} "
                         "(a zip bomb?); not opened")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ZipRefused(f"is a {what} of {len(infos):,} zip members, over the limit of {MAX_MEMBERS:,} "
                         "(a zip bomb?); not opened")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_BYTES:
        raise ZipRefused(f"is a {what} that would unzip to {total / 1e6:,.0f} MB, over the {MAX_BYTES / 1e6:g} MB "
                         f"limit for an archive's uncompressed content (a zip bomb?); not unzipped")
    for i in sorted(infos, key=lambda i: -i.file_size):
        if i.file_size > RATIO_FROM and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            times = _ratio(i.file_size, i.compress_size)
            raise ZipRefused(f"is a {what} whose member {i.filename!r} would unzip {times} "
                             f"times its size ({i.compress_size:,} to {i.file_size:,} bytes), over the "
                             f"{MAX_RATIO}:1 compression ratio limit (a zip bomb?); not unzipped")
    if total > RATIO_FROM and total > MAX_RATIO * max(packed, 1):
        raise ZipRefused(f"is a {what} that would unzip {_ratio(total, packed)} times its size ({packed:,} to "
                         f"{total:,} bytes), over the {MAX_RATIO}:1 compression ratio limit (a zip bomb?); "
                         "not unzipped")
    for i in infos:
        if i.compress_type == zipfile.ZIP_DEFLATED and not i.flag_bits & 1:  # an encrypted one is not read
            if _inflates_past(data, i):
                raise ZipRefused(f"is a {what} whose member {i.filename!r} unzips to more than the {i.file_size:,} "
                                 "bytes its zip directory says (a zip bomb?); not read")
        elif i.compress_type != zipfile.ZIP_STORED:
            raise ZipRefused(f"is a {what} whose member {i.filename!r} is compressed with zip method "
                             f"{i.compress_type}; only stored and deflated members are read")


def _inflates_past(data: bytes, info: zipfile.ZipInfo) -> bool:
    """Whether the member inflates to more than its entry's file_size, inflating at most CHUNK at a time.
    A damaged member is left to zipfile, which then reports it."""
    at = info.header_offset
    if data[at : at + 4] != b"PK\x03\x04":
        return False
    name, extra = int.from_bytes(data[at + 26 : at + 28], "little"), int.from_bytes(data[at + 28 : at + 30], "little")
    start = at + 30 + name + extra  # the local header, then the member's bytes
    inflater, feed, size = zlib.decompressobj(-15), memoryview(data)[start : start + info.compress_size], 0
    try:
        while True:
            piece = inflater.decompress(feed, CHUNK)
            size += len(piece)
            if size > info.file_size:
                return True
            feed = inflater.unconsumed_tail
            if inflater.eof or not (feed or piece):
                return False
    except zlib.error:
        return False


def _ratio(big: int, small: int) -> str:
    return f"{big / max(small, 1):,.0f}"


def _directory_count(data: bytes) -> int | None:
    """The member count in the end-of-directory record (before zipfile reads the whole directory), or
    None if there is none (zipfile then says it is not a zip) or it says 0xFFFF: see the Zip64 record."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))  # the record is 22 bytes + a comment < 64 KB
    if end < 0 or end + 22 > len(data):
        return None
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    return None if count == 0xFFFF else count
