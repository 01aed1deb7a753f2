"""The errors a user can catch: the tree is drawn in ``index.errors`` (the document side raises them
too, and imports nothing from ``qa``); this module re-exports it so ``qa.QAError`` catches everything."""
from index.errors import (BusyError, ConfigError, MissingDependencyError, QAError, QuestionError, SourceError,  # noqa: F401
                          StaleSourceError, StoreError)

__all__ = ["QAError", "ConfigError", "QuestionError", "SourceError", "StaleSourceError", "StoreError", "BusyError",
           "MissingDependencyError"]
