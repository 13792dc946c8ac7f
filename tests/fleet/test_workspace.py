"""Workspaces: init, load, never overwrite, PostgreSQL selected by URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from appveto.errors import FleetError
from appveto.fleet.workspace import CONFIG_NAME, init_workspace, load_workspace


def test_init_creates_config_policies_and_store(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", name="Federal administration")
    root = tmp_path / "ws"
    assert (root / CONFIG_NAME).is_file() and (root / "policies").is_dir() and (root / "appveto.db").is_file()
    loaded = load_workspace(root)
    assert loaded == ws and loaded.name == "Federal administration"
    assert loaded.store_url == f"sqlite:///{(root / 'appveto.db').resolve()}"
    with loaded.open_store() as store:
        assert store.counts().people == 0


def test_init_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "policies").mkdir()
    (root / "policies" / "be.yaml").write_text("keep me\n")
    init_workspace(root, store_path="data/fleet.sqlite")
    before = (root / CONFIG_NAME).read_bytes()
    with pytest.raises(FleetError, match="a workspace already exists here"):
        init_workspace(root)
    assert (root / CONFIG_NAME).read_bytes() == before
    assert (root / "policies" / "be.yaml").read_text() == "keep me\n"
    assert load_workspace(root).store_url.endswith("/ws/data/fleet.sqlite")


def test_store_path_must_be_relative(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="must be relative"):
        init_workspace(tmp_path / "w", store_path="/abs/x.db")


def test_postgres_workspace(tmp_path: Path, pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    ws = init_workspace(tmp_path / "pgws", db=plain)
    assert ws.store_url == pg_url
    assert 'url = "postgresql://' in (tmp_path / "pgws" / CONFIG_NAME).read_text()
    with load_workspace(tmp_path / "pgws").open_store() as store:
        assert store.dialect == "postgresql"


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="not an appveto workspace"):
        load_workspace(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("[store]\nurl = 3\n")
    with pytest.raises(FleetError, match=r"\[store\] url must be a string"):
        load_workspace(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("[store]\nurl = \n")
    with pytest.raises(FleetError, match=rf"{CONFIG_NAME}:2: invalid TOML"):
        load_workspace(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("[store]\ndatabase = 'x'\n")
    with pytest.raises(FleetError, match="unknown key database"):
        load_workspace(tmp_path)


def test_init_never_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    from appveto.errors import FleetError
    from appveto.fleet.workspace import init_workspace

    victim = tmp_path / "victim"
    victim.write_bytes(b"")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "appveto.db").symlink_to(victim)
    with pytest.raises(FleetError, match="symbolic link"):
        init_workspace(ws)
    (ws / "appveto.db").unlink()
    (ws / "appveto.toml").symlink_to(victim)
    with pytest.raises(FleetError):
        init_workspace(ws)
    assert victim.read_bytes() == b""
