"""The fixed train/test split of every set we tune or train on: decided once, by a hash of the article
(PIAF, SQuAD: the Wikipedia article's title; Paris Call: the document's name; the seeds dev set: the
question's id), so no setting or model ever sees a test article, and nothing reshuffles between runs.

    >>> split_of("Paris")        # 'train' or 'test', the same on every machine, forever
"""
from __future__ import annotations

import hashlib

TEST_SHARE = 0.3  # about 30% of the articles are held out


def split_of(key: str, share: float = TEST_SHARE) -> str:
    """'test' for about `share` of keys, else 'train'."""
    h = int(hashlib.sha256(key.strip().encode("utf-8")).hexdigest()[:8], 16) / 2**32
    return "test" if h < share else "train"
