"""A throwaway PostgreSQL cluster for the tests (PLATFORM_NOTES: initdb as postgres), one per
session, with a fresh database per test; ``db_url`` runs a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

REQUIRE_POSTGRES = os.environ.get("DISPATCH_REQUIRE_POSTGRES") == "1"
BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15")]


def _bin(name: str) -> str | None:
    for directory in BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    directory: Path
    port: int
    user: str
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> Server:
        directory = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        data = directory / "data"
        subprocess.run(
            _as_postgres(
                [
                    _bin("initdb"),
                    "-D",
                    str(data),
                    "-A",
                    "trust",
                    "-U",
                    user,
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        port = _free_port()
        options = (
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(directory / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return cls(directory, port, user)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url("postgres", "postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    if not available():
        if REQUIRE_POSTGRES:
            pytest.fail(
                "PostgreSQL is required (DISPATCH_REQUIRE_POSTGRES=1) but initdb is missing"
            )
        pytest.skip("PostgreSQL server not installed")
    server = Server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: Server) -> str:
    """A fresh, empty database on the throwaway server."""
    return pg_server.create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path: Path) -> str:
    """Both databases, for the tests whose behaviour depends on the engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.db'}"
    if not request.node.get_closest_marker("postgres"):
        request.applymarker(pytest.mark.postgres)
    return request.getfixturevalue("pg_url")
