"""Limits for zip-based formats (.docx, and any later one: .odt, .epub, .pptx), checked before inflating.

QA_MAX_FILE_MB limits the compressed file; a zip bomb is small. Its directory says what each member
inflates to, so it is read first and the archive refused, with the reason, when a member or the whole
would inflate to more than MAX_BYTES, or inflates more than MAX_RATIO times its compressed size (past
RATIO_FROM: small parts of a document often compress that well). The directory cannot lie to us: Python's
zipfile stops inflating a member at the size its directory entry declares (and then fails its CRC), so
no member gives more bytes than were checked here.

Measured on real files: text-only Word XML compresses 5-20 times, images and fonts not at all; Apache
POI, which opens most of the .docx files read by Java programs, refuses members over 100:1 too.
"""
from __future__ import annotations

import io
import zipfile

from .decode import Undecodable

MAX_BYTES = 200_000_000  # inflated size of all members together
MAX_RATIO = 100  # inflated / compressed, for a member or the whole archive
RATIO_FROM = 1_000_000  # inflated size under which a member's ratio is not checked
MAX_MEMBERS = 10_000  # the directory itself costs memory to read: ~0.5 KB per member


class ZipRefused(Undecodable):
    """The archive would inflate to too much; the message says how much and which limit."""


def check_zip(data: bytes, what: str = "archive") -> None:
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
            raise ZipRefused(f"is a {what} whose member {i.filename!r} would unzip {_ratio(i.file_size, i.compress_size)} "
                             f"times its size ({i.compress_size:,} to {i.file_size:,} bytes), over the "
                             f"{MAX_RATIO}:1 compression ratio limit (a zip bomb?); not unzipped")
    if total > RATIO_FROM and total > MAX_RATIO * max(packed, 1):
        raise ZipRefused(f"is a {what} that would unzip {_ratio(total, packed)} times its size ({packed:,} to "
                         f"{total:,} bytes), over the {MAX_RATIO}:1 compression ratio limit (a zip bomb?); "
                         "not unzipped")


def _ratio(big: int, small: int) -> str:
    return f"{big / max(small, 1):,.0f}"


def _directory_count(data: bytes) -> int | None:
    """The member count in the end-of-directory record (before zipfile reads the whole directory), or
    None if there is none (zipfile then says it is not a zip). Zip64 archives write 0xFFFF there."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))  # the record is 22 bytes + a comment < 64 KB
    if end < 0 or end + 22 > len(data):
        return None
    return int.from_bytes(data[end + 10 : end + 12], "little")
