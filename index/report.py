"""What an indexing run did, for the user: counts and every file's reason."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """What an indexing run did. ``failed`` and ``skipped`` carry (path, reason) for the user."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # gone from disk, or now a duplicate
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unsupported types, duplicates
    chunks: int = 0  # chunks written in this run

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
                 f"{len(self.unchanged)} unchanged", f"{len(self.skipped)} skipped", f"{len(self.failed)} failed",
                 f"{self.chunks} chunks written"]
        lines = [", ".join(parts)]
        lines += [f"  removed: {p}" for p in self.removed]
        lines += [f"  failed: {p}: {why}" for p, why in self.failed]
        lines += [f"  skipped: {p}: {why}" for p, why in self.skipped]
        return "\n".join(lines)
