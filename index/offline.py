"""The one place that changes the process environment: offline by design.

Nothing may be fetched from a model hub and no telemetry leaves the machine. These variables must be
set before sentence-transformers, transformers, Chroma or Gradio are imported, so ``index.embedders``
and ``index.store`` import this module first, and so do ``qa`` and ``app``. Each is only a default
(``setdefault``): a user's own value wins. No other module of ours touches ``os.environ``.
"""
import os

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
for _name, _value in OFFLINE.items():
    os.environ.setdefault(_name, _value)
