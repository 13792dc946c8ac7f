"""Workspaces: a folder with ``appveto.toml``, ``policies/`` and the store.

``appveto.toml``::

    [workspace]
    name = "Federal administration"

    [policies]
    dir = "policies"            # relative to the workspace

    [store]
    path = "appveto.db"         # SQLite file, relative to the workspace (the default)
    # url = "postgresql://appveto@db.example/appveto"   # or a PostgreSQL server

``url`` wins over ``path``. :func:`init_workspace` never overwrites a file that exists.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appveto.errors import Diagnostic, FleetError, OutputError
from appveto.fleet.store import Store, normalize_url, sqlite_url
from appveto.outputs.files import write_file

CONFIG_NAME = "appveto.toml"
DEFAULT_STORE_PATH = "appveto.db"
DEFAULT_POLICIES_DIR = "policies"


@dataclass(frozen=True, slots=True)
class Workspace:
    root: Path
    name: str
    config_path: Path
    policies_dir: Path
    store_url: str
    """A SQLAlchemy URL: ``sqlite:////abs/path`` or ``postgresql+psycopg://...``."""

    def open_store(self) -> Store:
        """Open (and migrate) the workspace's store."""
        return Store.open(self.store_url)


def _err(file: Path, message: str, line: int | None = None) -> FleetError:
    diag = Diagnostic(message, file=str(file), line=line)
    return FleetError(str(diag), diagnostics=(diag,))


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def init_workspace(
    root: Path, *, db: str | None = None, store_path: str | None = None, name: str | None = None
) -> Workspace:
    """Create a workspace in ``root`` (created if missing) and its store; refuse an existing one.

    ``db`` is a database URL (PostgreSQL); otherwise the store is the SQLite file
    ``store_path`` (default ``appveto.db``) inside the workspace. The store is created
    (migrated) before ``appveto.toml`` is written, so a failing database leaves no half
    workspace behind.
    """
    config = root / CONFIG_NAME
    if config.exists():
        raise _err(config, "a workspace already exists here; nothing was changed")
    if db is not None and store_path is not None:
        raise FleetError("give either a database URL or a store path, not both")
    if root.exists() and not root.is_dir():
        raise _err(root, "exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    name = name or root.resolve().name
    lines = [
        "# appveto workspace (see docs/fleet.md)",
        "[workspace]",
        f"name = {_toml_str(name)}",
        "",
        "[policies]",
        f"dir = {_toml_str(DEFAULT_POLICIES_DIR)}",
        "",
        "[store]",
    ]
    if db is not None:
        lines.append(f"url = {_toml_str(db)}")
    else:
        path = store_path or DEFAULT_STORE_PATH
        if Path(path).is_absolute():
            raise FleetError(f"store path {path!r} must be relative to the workspace")
        lines += [
            '# SQLite file relative to this folder; set url = "postgresql://..." for a server',
            f"path = {_toml_str(path)}",
        ]
    text = "\n".join(lines) + "\n"
    ws = _parse(root, config, tomllib.loads(text))
    if db is None:
        store_file = root / (store_path or DEFAULT_STORE_PATH)
        if store_file.is_symlink():  # SQLite would write through it
            raise _err(store_file, "is a symbolic link; appveto never writes through one")
        store_file.parent.mkdir(parents=True, exist_ok=True)
    ws.open_store().close()
    (root / DEFAULT_POLICIES_DIR).mkdir(exist_ok=True)
    try:  # the one writer; exclusive: never overwrite, even in a race
        write_file(config, text, exclusive=True)
    except OutputError as exc:
        raise _err(config, f"{exc.diagnostics()[0].message}; a workspace may already exist here") from None
    return ws


def load_workspace(root: Path) -> Workspace:
    """Read ``root/appveto.toml``; a missing or invalid file raises :class:`FleetError`."""
    config = root / CONFIG_NAME
    try:
        raw = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _err(
            root, f"not an appveto workspace (no {CONFIG_NAME}); create one with 'appveto init'"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _err(config, f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        line = None
        msg = str(exc)
        if "(at line " in msg:
            try:
                line = int(msg.split("(at line ", 1)[1].split(",", 1)[0])
            except ValueError:
                line = None
        raise _err(config, f"invalid TOML: {msg}", line) from None
    return _parse(root, config, data)


def _table(config: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _err(config, f"[{key}] must be a table")
    return value


def _string(config: Path, table: dict[str, Any], section: str, key: str, default: str | None) -> str | None:
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        raise _err(config, f"[{section}] {key} must be a string")
    return value


def _parse(root: Path, config: Path, data: dict[str, Any]) -> Workspace:
    ws = _table(config, data, "workspace")
    pol = _table(config, data, "policies")
    store = _table(config, data, "store")
    unknown = sorted(set(store) - {"url", "path"})
    if unknown:
        raise _err(
            config,
            f"[store] unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: url, path)",
        )
    name = _string(config, ws, "workspace", "name", None) or root.resolve().name
    policies = _string(config, pol, "policies", "dir", DEFAULT_POLICIES_DIR) or DEFAULT_POLICIES_DIR
    url = _string(config, store, "store", "url", None)
    if url is None:
        path = _string(config, store, "store", "path", DEFAULT_STORE_PATH) or DEFAULT_STORE_PATH
        url = sqlite_url((root / path).resolve())
    return Workspace(
        root=root.resolve(),
        name=name,
        config_path=config.resolve(),
        policies_dir=(root / policies).resolve(),
        store_url=normalize_url(url),
    )
