"""Answerers: the ways a question gets its cited answer. ``Settings.answerer`` chooses one by name.

    extractive   quotes the sentences that answer (no language model; the default)
"""
from __future__ import annotations

from ..errors import ConfigError
from .base import Answerer, Query, verify
from .extractive import ExtractiveAnswerer

ANSWERERS: dict[str, type[Answerer]] = {"extractive": ExtractiveAnswerer}


def make(name: str, collection, settings) -> Answerer:
    """The answerer `name` over `collection`, configured from `settings` (a qa.config.Settings)."""
    if name not in ANSWERERS:
        raise ConfigError(f"unknown answerer {name!r}: use one of {', '.join(ANSWERERS)} (QA_ANSWERER)")
    return ANSWERERS[name].from_settings(collection, settings)


__all__ = ["Answerer", "Query", "verify", "ANSWERERS", "make", "ExtractiveAnswerer"]
