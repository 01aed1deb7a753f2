"""Which files an indexing run reads: the paths given, folders walked, each entry judged on its own.

A folder's unsupported files are reported as skipped; a missing path given by the user is an error
(nothing is indexed), since it is most likely a typo.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import SourceError
from .readers import SUFFIXES
from .report import Report


def collect(paths: list[str | Path], report: Report, suffixes=SUFFIXES) -> list[Path]:
    """Expand folders into supported files. A missing path is an error (nothing is indexed)."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise SourceError(f"no such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    f = Path(root) / n
                    if n.startswith("."):
                        continue
                    if f.suffix.lower() in suffixes:
                        files.append(f)
                    else:
                        report.skipped.append((str(f), f"unsupported file type {f.suffix or '(none)'}"))
        elif p.suffix.lower() in suffixes:
            files.append(p)
        else:
            report.failed.append((str(p), f"unsupported file type {p.suffix or '(none)'}; "
                                          f"supported: {', '.join(sorted(suffixes))}"))
    return list(dict.fromkeys(f.resolve() for f in files))
