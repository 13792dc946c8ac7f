"""Reference data with provenance: typed loaders, the offline baseline, ``data update``."""

from __future__ import annotations

from appveto.kb.load import default_data_dir, load_baseline, load_kb
from appveto.kb.model import DatasetInfo, KnowledgeBase

__all__ = ["DatasetInfo", "KnowledgeBase", "default_data_dir", "load_baseline", "load_kb"]
