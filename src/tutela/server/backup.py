"""Backup and restore of an embedded platform: its SQLite database and its platform key file.

A backup is a folder: ``tutela.db``, copied online with SQLite's backup API (a consistent
snapshot while the platform keeps serving), ``platform.key`` when the key lives in a file, and
``tutela-backup.json``, the manifest (schema revision, when, each file's SHA-256). Report bodies
are sealed under data keys that the platform key wraps: a backup restored without the key it
was taken with reads no report. A key given in the environment (``TUTELA_PLATFORM_KEY``) is not
copied; the manifest says so and the operator keeps it. PostgreSQL is backed up with its own
tools (``pg_dump``, docs/backup.md); these functions refuse it with that pointer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tutela.server.config import Settings

MANIFEST: Final = "tutela-backup.json"
DATABASE: Final = "tutela.db"
KEY: Final = "platform.key"
FORMAT: Final = 1


class BackupError(Exception):
    """A backup or restore that cannot be done, in one line."""


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str
    revision: str | None
    platform_key: bool  # whether the key file is in the backup
    sha256: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "revision": self.revision,
            "platform_key": self.platform_key,
            "sha256": self.sha256,
        }


def _sqlite_path(settings: Settings) -> Path:
    if not settings.is_sqlite:
        raise BackupError(
            "the database is PostgreSQL: back it up with pg_dump and restore it with pg_restore "
            "(docs/backup.md); keep the platform key with the dump"
        )
    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections write."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def backup(settings: Settings, destination: Path) -> Manifest:
    """Write a backup of the platform into ``destination`` (a new or empty folder)."""
    from tutela.server.migrate import current_revision

    database = _sqlite_path(settings)
    if not database.is_file():
        raise BackupError(f"no database at {database}: nothing to back up")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} exists and is not an empty folder")
    destination.mkdir(parents=True, exist_ok=True)
    _copy_database(database, destination / DATABASE)
    digests = {DATABASE: _digest(destination / DATABASE)}
    key_file = settings.resolved_platform_key_file
    in_backup = settings.platform_key is None and key_file.is_file()
    if in_backup:
        shutil.copyfile(key_file, destination / KEY)
        os.chmod(destination / KEY, 0o600)
        digests[KEY] = _digest(destination / KEY)
    manifest = Manifest(
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        revision=current_revision(f"sqlite:///{destination / DATABASE}"),
        platform_key=in_backup,
        sha256=digests,
    )
    (destination / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The backup's manifest, its files checked against their digests."""
    try:
        document = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a Tutela backup") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a backup manifest of format {FORMAT}")
    digests = document.get("sha256")
    if not isinstance(digests, dict) or DATABASE not in digests:
        raise BackupError(f"{source / MANIFEST} names no database")
    for name, expected in digests.items():
        if name not in (DATABASE, KEY):
            raise BackupError(f"{source / MANIFEST} names an unknown file {name!r}")
        path = source / name
        if not path.is_file() or _digest(path) != expected:
            raise BackupError(f"{path} is missing or does not match the manifest")
    return Manifest(
        created_at=str(document.get("created_at")),
        revision=document.get("revision"),
        platform_key=KEY in digests,
        sha256=digests,
    )


def restore(settings: Settings, source: Path, *, force: bool = False) -> Manifest:
    """Restore the backup in ``source`` as this platform's database (and key file), then bring
    its schema up to date. An existing database or a different key file is replaced only with
    ``force``; run it with the platform stopped."""
    from tutela.server.migrate import upgrade

    manifest = read_manifest(source)
    database = _sqlite_path(settings)
    if database.exists() and not force:
        raise BackupError(f"a database exists at {database}: add --force to replace it")
    key_file = settings.resolved_platform_key_file
    if manifest.platform_key:
        if settings.platform_key is not None:
            raise BackupError(
                "TUTELA_PLATFORM_KEY is set: unset it to restore the backup's key file, or "
                "restore a backup taken without one"
            )
        same = key_file.is_file() and _digest(key_file) == manifest.sha256[KEY]
        if key_file.exists() and not same and not force:
            raise BackupError(f"a different platform key is at {key_file}: add --force")
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".restoring")
    partial.unlink(missing_ok=True)
    _copy_database(source / DATABASE, partial)
    partial.replace(database)
    for suffix in ("-wal", "-shm"):  # a replaced database's journal must not be replayed
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    if manifest.platform_key:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / KEY, key_file)
        os.chmod(key_file, 0o600)
    upgrade(settings.resolved_database_url)
    return manifest
