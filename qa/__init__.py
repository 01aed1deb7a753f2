"""Bilingual (English/French) question answering over your documents, with verbatim citations.

    >>> from qa import ask, retrieve
    >>> retrieve("Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?", k=3)
    >>> ask("Who chaired the Working Group on Internet Governance?")   # renders as HTML in Jupyter
"""
from . import config as _config  # noqa: F401  (sets offline / no-telemetry environment first)
from .errors import ConfigError, QAError, QuestionError, SourceError, StoreError
from .types import Answer, Citation, Passage

_API = {"Index", "ask", "retrieve", "default_index"}


def __getattr__(name):
    # qa.api pulls in the document side (index/), whose modules import qa.errors: loading it lazily
    # lets either package be imported first.
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")

__all__ = ["ask", "retrieve", "Index", "default_index", "Answer", "Citation", "Passage",
           "QAError", "ConfigError", "QuestionError", "SourceError", "StoreError"]
