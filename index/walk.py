"""Which files an indexing run reads: the paths given, folders walked, each entry judged on its own.

A missing path given by the user is an error (nothing is indexed), since it is most likely a typo. Any
other entry that is not indexed is reported with the reason, and the rest is indexed:

- hidden entries (a name starting with ".") are left out, silently;
- skipped: unsupported file types; anything that is not a regular file or a folder (a FIFO would
  block the run forever, /dev/zero fill the memory); symbolic links, unless ``follow_links``;
- failed: a name that is not valid UTF-8 (the catalog and the report are UTF-8: rename it), a folder
  that cannot be listed, a folder nested more than MAX_DEPTH deep (not walked further).

Nothing outside a folder given is read unless the user asks: a link inside it is not followed (a link
to a file anywhere would be read, and indexed under a path outside the folder) unless ``follow_links``.
Followed, what a link leads to is indexed under the link's path, inside the folder, so removing the
folder or deleting the link removes it from the index; the folder's own files come first, and a file or
folder already reached another way, or a link loop, is not walked twice. A path given by name is read
even if it is a link: the user named it.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import SourceError
from .readers import SUFFIXES, Unreadable
from .report import Report

MAX_DEPTH = 100  # folders below a folder given; deeper ones are reported, not walked (os.walk recursed)
FOLLOW_HINT = "follow_links=True, or qa index --follow-links, to follow links"


def collect(paths: list[str | Path], report: Report, suffixes=SUFFIXES, follow_links: bool = False) -> list[Path]:
    """Expand folders into supported regular files. A missing path is an error (nothing is indexed)."""
    missing = [shown(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise SourceError(f"no such file or folder: {', '.join(missing)}")
    walk = _Walk(report, suffixes, follow_links)
    for p in map(Path, paths):
        walk.given(p)
    walk.follow_links()
    return [Path(f) for f in walk.files]


def read_regular(path: str | Path, max_bytes: int | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and its stat; raise Unreadable for anything else (checked before it is
    opened, and again on the open file in case it was swapped), or over `max_bytes` (checked on the size,
    and on what is read, in case it grew)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(_not_regular(st.st_mode))
    # O_NONBLOCK: should it have become a FIFO since, opening it does not wait for a writer
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                 | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(_not_regular(st.st_mode))
        if max_bytes is not None and st.st_size > max_bytes:
            raise Unreadable(f"is {st.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (QA_MAX_FILE_MB)")
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise Unreadable(f"grew over the {max_bytes / 1e6:g} MB limit (QA_MAX_FILE_MB) while it was read")
    return data, st


def shown(path) -> str:
    """A path as the report prints it: a byte that is not UTF-8 as \\xff, not a lone surrogate that no
    terminal or JSON encoder accepts."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in a user's words."""
    for test, name in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:  # os.fsdecode's surrogates for bytes that are not UTF-8
        return False


BAD_NAME = "its name is not valid UTF-8 (the index stores names as UTF-8); rename it to index it"


class _Walk:
    def __init__(self, report: Report, suffixes, follow: bool):
        self.report, self.suffixes, self.follow = report, suffixes, follow
        self.files: dict[str, None] = {}  # in order, each once
        self.seen_files: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> path, when following links
        self.seen_dirs: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> path, when following links
        self.links: list[tuple[str, int]] = []  # links to follow once the folders' own entries are in
        self.root = Path("/")  # the folder given being walked

    def given(self, p: Path) -> None:
        if not _utf8(str(p)):
            return self.report.failed.append((shown(p), BAD_NAME))
        try:
            st = os.stat(p)
        except OSError as e:  # it exists (lexists): a broken link, or a loop
            return self.report.failed.append((shown(p), _link_problem(str(p), e)))
        if stat.S_ISDIR(st.st_mode):
            self.root = p.resolve()
            return self._tree(str(self.root), 0)
        if p.suffix.lower() not in self.suffixes:
            return self.report.failed.append((shown(p), f"unsupported file type {p.suffix or '(none)'}; "
                                                         f"supported: {', '.join(sorted(self.suffixes))}"))
        if not stat.S_ISREG(st.st_mode):
            return self.report.failed.append((shown(p), _not_regular(st.st_mode)))
        self._file(str(p.resolve()), st)

    def _file(self, path: str, st: os.stat_result | None, via_link: bool = False) -> None:
        if self.follow and st is not None:
            key = (st.st_dev, st.st_ino)
            if via_link and key in self.seen_files:
                return self.report.skipped.append((shown(path), f"the same file as {shown(self.seen_files[key])}, "
                                                                "which is indexed under that name"))
            self.seen_files.setdefault(key, path)
        self.files.setdefault(path, None)

    def _tree(self, root: str, depth: int, via_link: bool = False) -> None:
        """Walk a folder without recursion: os.walk's recursion failed past ~1,000 levels."""
        stack = [(root, depth)]
        while stack:
            folder, depth = stack.pop()
            if self.follow:
                try:
                    st = os.stat(folder)
                except OSError as e:
                    self.report.failed.append((shown(folder), f"folder cannot be read: {e.strerror or e}"))
                    continue
                seen = self.seen_dirs.setdefault((st.st_dev, st.st_ino), folder)
                if seen != folder:
                    if via_link:
                        self.report.skipped.append((shown(folder), f"the same folder as {shown(seen)}, which is "
                                                                   "walked under that name (a link loop?)"))
                    continue
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:  # permission denied, name too long...: os.walk skipped these silently
                self.report.failed.append((shown(folder), f"folder cannot be read: {e.strerror or e}"))
                continue
            below = []
            for e in entries:
                if e.name.startswith("."):
                    continue
                if not _utf8(e.name):
                    self.report.failed.append((shown(e.path), BAD_NAME))
                    continue
                try:
                    if e.is_symlink():
                        self._link(e, depth)
                    elif e.is_dir(follow_symlinks=False):
                        if depth + 1 > MAX_DEPTH:
                            self.report.failed.append((shown(e.path), f"is nested more than {MAX_DEPTH} folders "
                                                                      "deep; not walked further"))
                        else:
                            below.append((e.path, depth + 1))
                    else:  # a file, or a FIFO, socket or device: its stat only when it must be looked at
                        regular = e.is_file(follow_symlinks=False)
                        self._entry(e.path, e.stat(follow_symlinks=False) if self.follow or not regular else None,
                                    via_link)
                except OSError as err:  # gone since it was listed
                    self.report.failed.append((shown(e.path), f"cannot be read: {err.strerror or err}"))
            stack.extend(reversed(below))  # depth first, in name order, as os.walk listed them

    def _entry(self, path: str, st: os.stat_result | None, via_link: bool) -> None:
        """A file in a folder walked, with its stat if it may not be a regular file or links are followed."""
        suffix = os.path.splitext(path)[1]
        if suffix.lower() not in self.suffixes:
            return self.report.skipped.append((shown(path), f"unsupported file type {suffix or '(none)'}"))
        if st is not None and not stat.S_ISREG(st.st_mode):
            return self.report.skipped.append((shown(path), _not_regular(st.st_mode)))
        self._file(path, st, via_link)

    def _link(self, e: os.DirEntry, depth: int) -> None:
        if self.follow:
            return self.links.append((e.path, depth))
        target = shown(os.readlink(e.path))
        try:
            to_dir = stat.S_ISDIR(os.stat(e.path).st_mode)  # its type only: nothing is read
        except OSError as err:  # broken, or a loop
            return self.report.skipped.append((shown(e.path), _link_problem(e.path, err)))
        suffix = os.path.splitext(e.name)[1]
        if suffix.lower() not in self.suffixes and not to_dir:
            return self.report.skipped.append((shown(e.path), f"unsupported file type {suffix or '(none)'}"))
        if Path(os.path.realpath(e.path)).is_relative_to(self.root):
            why = "it leads inside the folder, whose files are indexed under their own names"
        else:
            why = "nothing outside the folder given is read"
        self.report.skipped.append((shown(e.path), f"a symbolic link (to {target}), not followed: {why} "
                                                   f"({FOLLOW_HINT})"))

    def follow_links(self) -> None:
        """Follow the links found, once every folder's own entries are in (so a file reached both ways is
        indexed under its own name), and the links found behind them."""
        while self.links:
            path, depth = self.links.pop(0)
            try:
                st = os.stat(path)
            except OSError as e:
                self.report.skipped.append((shown(path), _link_problem(path, e)))
                continue
            if stat.S_ISDIR(st.st_mode):
                self._tree(path, depth, via_link=True)
            else:
                self._entry(path, st, via_link=True)


def _not_regular(mode: int) -> str:
    return f"is {kind_of(mode)}, not a regular file; only regular files are read"


def _link_problem(path: str, e: OSError) -> str:
    try:
        target = shown(os.readlink(path))
    except OSError:
        target = "?"
    if e.errno == errno.ELOOP:
        return f"a symbolic link loop (to {target}, which leads back to itself); not followed"
    if e.errno == errno.ENOENT:
        return f"a broken symbolic link (to {target}, which does not exist)"
    return f"a symbolic link (to {target}) that cannot be followed: {e.strerror or e}"
