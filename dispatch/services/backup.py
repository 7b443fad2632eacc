"""Backups of the database and their restore.

SQLite: the sqlite3 online backup API copies a consistent snapshot while the app runs.
PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore --clean``); the tools
are found on PATH or in /usr/lib/postgresql/<version>/bin, and the password goes in the
environment (PGPASSWORD), never on a command line that ``ps`` shows.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PG_BIN_ROOT = Path("/usr/lib/postgresql")


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


def backup(database_url: str | URL, target: Path) -> Path:
    """Write a backup of the database to ``target`` (which must not exist yet)."""
    url = make_url(database_url)
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    elif url.get_backend_name() == "postgresql":
        _run_pg("pg_dump", url, ["--format=custom", f"--file={target}"])
    else:
        raise BackupError(f"no backup method for {url.get_backend_name()}")
    return target


def restore(database_url: str | URL, source: Path) -> None:
    """Replace the database's content with the backup in ``source`` (stop the app first)."""
    url = make_url(database_url)
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(source, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        options = ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)]
        _run_pg("pg_restore", url, options)
    else:
        raise BackupError(f"no restore method for {url.get_backend_name()}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Page-by-page online copy: readers and writers of ``source`` may carry on meanwhile."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program: PATH first, then the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(PG_BIN_ROOT.glob(f"*/bin/{name}"), key=_major_version, reverse=True)
    if not versions:
        raise BackupError(f"{name} not found: install postgresql-client")
    return str(versions[0])


def _major_version(path: Path) -> int:
    version = path.parent.parent.name
    return int(version) if version.isdigit() else 0


def _run_pg(tool: str, url: URL, options: list[str]) -> None:
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run(
        [pg_tool(tool), f"--dbname={libpq}", *options],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()}")
