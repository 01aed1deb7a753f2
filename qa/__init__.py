"""Bilingual (English/French) question answering over your documents, with verbatim citations.

    >>> from qa import ask, retrieve
    >>> retrieve("Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?", k=3)
    >>> ask("Who chaired the Working Group on Internet Governance?")   # renders as HTML in Jupyter
"""
from index import offline as _offline  # noqa: F401  (offline, no telemetry: before any model import)

from .api import Index, ask, default_index, retrieve
from .errors import ConfigError, QAError, QuestionError, SourceError, StoreError
from .types import Answer, Citation, Passage

__all__ = ["ask", "retrieve", "Index", "default_index", "Answer", "Citation", "Passage",
           "QAError", "ConfigError", "QuestionError", "SourceError", "StoreError"]
