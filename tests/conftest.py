"""Shared fixtures: a real reqlite server process on a free port, and driver connections to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from serverproc import ServerProcess, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = start_server(str(tmp_path_factory.mktemp("server") / "data"))
    yield s
    s.stop()


@pytest.fixture
def conn(server: ServerProcess):
    from rethinkdb import r

    c = r.connect("127.0.0.1", server.port)
    yield c
    c.close()


@pytest.fixture
def db(conn):
    """A fresh database for one test, dropped afterwards; yields its name."""
    from rethinkdb import r

    name = "t_" + uuid.uuid4().hex[:12]
    r.db_create(name).run(conn)
    yield name
    r.db_drop(name).run(conn)
