"""``data update`` with one source failing: the others are stored (through the one writer's
folder, which otherwise drops its files on an error) and recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.errors import KnowledgeBaseError
from appveto.kb.load import read_data_manifest
from appveto.kb.update import DEFAULT_SOURCES, update
from tests import hostile_world as hw


def test_the_sources_that_downloaded_are_stored(tmp_path: Path) -> None:
    def fetch(url: str, timeout: float) -> bytes:
        if "aosp_permissions" in url:
            raise KnowledgeBaseError("download failed: " + url)
        return hw.fetch(url, timeout)

    with pytest.raises(KnowledgeBaseError) as info:
        update(tmp_path, now=datetime(2024, 1, 1, tzinfo=UTC), sources=DEFAULT_SOURCES, fetcher=fetch)
    assert info.value.message == "1 of 3 downloads failed" and "aosp_permissions" in str(info.value)
    stored = {d.name for d in read_data_manifest(tmp_path)}
    assert stored == {"exodus-trackers", "androguard-api-permission-map-25"}
    assert (tmp_path / "exodus_trackers.json").read_bytes() == hw.EXODUS
    assert not list(tmp_path.glob(".appveto-*.tmp"))
