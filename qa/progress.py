"""A progress bar on stderr for long work (indexing, evaluation): `update(done, total, what)`."""
from __future__ import annotations

import sys


def tqdm_progress(desc: str, unit: str = "file", lazy: bool = False):
    """(bar, update): call update(done, total, what) as work advances, bar.close() at the end. `lazy`:
    the bar appears at the first update only (work that may have nothing to do prints nothing)."""
    from tqdm import tqdm

    if lazy:
        shown: list = []

        def first(done: int, total: int, what: str) -> None:
            if not shown:
                shown.append(tqdm_progress(desc, unit))
            shown[0][1](done, total, what)

        class Pending:
            def close(self) -> None:
                if shown:
                    shown[0][0].close()

        return Pending(), first
    bar = tqdm(total=0, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int, what: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(what[:40])
        bar.n = int(done)  # files done (the indexer also reports a file's chunks, as a fraction)
        bar.refresh()

    return bar, update
