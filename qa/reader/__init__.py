"""A small cross-encoder that reads a question and a candidate sentence together and scores how well
the sentence answers it (``Reader.score``); trained by ``python -m qa.reader.train``."""
from .model import Reader

__all__ = ["Reader"]
