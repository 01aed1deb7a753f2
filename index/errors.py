"""Errors a user can see. Every message names the bad value and says what to do.

    QAError                      base: catch this to catch everything of ours
    ├── ConfigError              a setting or argument is invalid
    ├── QuestionError            the question cannot be asked (empty, too long)
    ├── SourceError              a path to index is missing or unreadable
    │   └── StaleSourceError     a cited file changed or vanished since it was indexed
    ├── StoreError               the Chroma store (local folder or server) cannot be used
    │   └── BusyError            another process is writing to the same data folder
    └── MissingDependencyError   an optional package is not installed (message has the pip command)
"""


class QAError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(QAError, ValueError):
    pass


class QuestionError(QAError, ValueError):
    pass


class SourceError(QAError, FileNotFoundError):
    pass


class StaleSourceError(SourceError):
    pass


class StoreError(QAError, RuntimeError):
    pass


class BusyError(StoreError):
    pass


class MissingDependencyError(QAError, ImportError):
    pass
