"""Answerers: the ways a question gets its cited answer. ``Settings.answerer`` chooses one by name.

    extractive   quotes the sentences that answer (no language model; the default)
    llm          a language model on an OpenAI-compatible server writes claims, each kept only with a
                 quote verbatim in its file (QA_LLM_URL; qa.answerers.llm)

``ANSWERERS`` holds those that need nothing outside this process, and tests/test_structure.py's
contract test runs over each; ``NEEDS_SERVER`` those that need a server, imported when chosen
(tests/test_llm.py runs the same contract over a real llama.cpp server).
"""
from __future__ import annotations

from importlib import import_module

from ..errors import ConfigError
from .base import Answerer, Query, verify
from .extractive import ExtractiveAnswerer

ANSWERERS: dict[str, type[Answerer]] = {"extractive": ExtractiveAnswerer}
NEEDS_SERVER: dict[str, str] = {"llm": "qa.answerers.llm:LLMAnswerer"}  # name -> "module:class"


def answerer_class(name: str) -> type[Answerer]:
    """The Answerer subclass registered as `name` (ConfigError naming the choices if none is)."""
    if name in ANSWERERS:
        return ANSWERERS[name]
    if name in NEEDS_SERVER:
        module, cls = NEEDS_SERVER[name].split(":")
        return getattr(import_module(module), cls)
    raise ConfigError(f"unknown answerer {name!r}: use one of {', '.join([*ANSWERERS, *NEEDS_SERVER])} (QA_ANSWERER)")


def make(name: str, collection, settings) -> Answerer:
    """The answerer `name` over `collection`, configured from `settings` (a qa.config.Settings)."""
    return answerer_class(name).from_settings(collection, settings)


__all__ = ["Answerer", "Query", "verify", "ANSWERERS", "NEEDS_SERVER", "answerer_class", "make", "ExtractiveAnswerer"]
