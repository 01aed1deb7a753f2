"""A progress bar on stderr for long work (indexing, evaluation): `update(done, total, what)`."""
from __future__ import annotations

import sys


def tqdm_progress(desc: str, unit: str = "file"):
    """(bar, update): call update(done, total, what) as work advances, bar.close() at the end."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int, what: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(what[:40])
        bar.n = int(done)  # files done (the indexer also reports a file's chunks, as a fraction)
        bar.refresh()

    return bar, update
