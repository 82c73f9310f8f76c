"""The embedded engine: the official driver's ``r`` on an in-process engine, no socket."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from rethinkdb import r
from rethinkdb.errors import (
    ReqlAuthError,
    ReqlDriverError,
    ReqlNonExistenceError,
    ReqlOpFailedError,
    ReqlQueryLogicError,
    ReqlTimeoutError,
)

import reqlite.embedded as embedded
from reqlite.storage import StorageError


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data")


@pytest.fixture
def conn(path):
    c = embedded.connect(path)
    yield c
    c.close()


def test_crud_with_the_official_driver(conn) -> None:
    assert r.db_list().run(conn) == ["rethinkdb", "test"]
    assert r.table_create("users").run(conn)["tables_created"] == 1
    users = r.table("users")
    res = users.insert([{"id": 1, "name": "ann", "age": 31}, {"id": 2, "name": "bob", "age": 25}]).run(conn)
    assert res["inserted"] == 2
    assert users.get(1).run(conn) == {"id": 1, "name": "ann", "age": 31}
    assert list(users.filter(r.row["age"] > 30).run(conn)) == [{"id": 1, "name": "ann", "age": 31}]
    assert users.get(2).update({"age": r.row["age"] + 1}).run(conn)["replaced"] == 1
    assert users.get(2)["age"].run(conn) == 26
    assert users.get(1).delete().run(conn)["deleted"] == 1
    assert users.count().run(conn) == 1
    assert users.map(lambda u: u["name"].upcase()).coerce_to("array").run(conn) == ["BOB"]


def test_run_options_use_and_noreply(conn) -> None:
    r.db_create("shop").run(conn)
    r.db("shop").table_create("items").run(conn)
    assert r.table("items").count().run(conn, db="shop") == 0
    conn.use("shop")
    for i in range(20):
        r.table("items").insert({"id": i}).run(conn, noreply=True, durability="soft")
    conn.noreply_wait()
    assert r.table("items").count().run(conn) == 20
    info = conn.server()
    assert set(info) == {"id", "name", "proxy"}


def test_cursor_over_many_documents(conn) -> None:
    r.table_create("big").run(conn)
    docs = [{"id": i, "pad": "x" * 50} for i in range(3000)]
    r.table("big").insert(docs).run(conn, durability="soft")
    seen = [d["id"] for d in r.table("big").run(conn)]
    assert sorted(seen) == list(range(3000))
    # Small batches: many CONTINUEs over the pipe.
    cursor = r.table("big").order_by(index="id").run(conn, max_batch_rows=7)
    assert [next(cursor)["id"] for _ in range(50)] == list(range(50))
    cursor.close()  # STOP in the middle of the stream
    assert r.table("big").count().run(conn) == 3000
    assert sum(1 for _ in r.range(10000).run(conn, max_batch_rows=500)) == 10000


def test_changefeed(path, conn) -> None:
    r.table_create("t").run(conn)
    feed = r.table("t").changes().run(conn)
    with pytest.raises(ReqlTimeoutError):
        feed.next(wait=0.05)
    other = embedded.connect(path)
    try:
        r.table("t").insert({"id": 1}).run(other)
        r.table("t").get(1).update({"v": 2}).run(other)
        assert feed.next(wait=5) == {"new_val": {"id": 1}, "old_val": None}
        assert feed.next(wait=5) == {"new_val": {"id": 1, "v": 2}, "old_val": {"id": 1}}
    finally:
        feed.close()
        other.close()
    assert r.table("t").count().run(conn) == 1


def test_two_connections_share_one_engine(path) -> None:
    a = embedded.connect(path)
    b = embedded.connect(path)
    assert a.engine is b.engine
    r.table_create("t").run(a)
    r.table("t").insert({"id": "from-a"}).run(a)
    assert r.table("t").get("from-a").run(b) == {"id": "from-a"}
    engine = a.engine
    a.close()
    assert not engine.closed
    assert r.table("t").count().run(b) == 1
    b.close()
    assert engine.closed  # the last connection closed the store
    # The directory is free again, and the data is there.
    c = embedded.connect(path)
    try:
        assert c.engine is not engine
        assert r.table("t").get("from-a").run(c) == {"id": "from-a"}
    finally:
        c.close()


def test_connections_from_several_threads(path) -> None:
    conns = [embedded.connect(path) for _ in range(3)]
    r.table_create("t").run(conns[0])
    errors: list[BaseException] = []

    def work(c, base: int) -> None:
        try:
            for i in range(50):
                r.table("t").insert({"id": base + i}).run(c, durability="soft")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c, k * 1000)) for k, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert r.table("t").count().run(conns[1]) == 150
    for c in conns:
        c.close()


def test_errors_are_the_servers(conn) -> None:
    with pytest.raises(ReqlQueryLogicError) as info:
        r.expr(1).add("a").run(conn)
    assert info.value.message == "Expected type NUMBER but found STRING."
    assert info.value.frames == []
    with pytest.raises(ReqlOpFailedError, match="Table `test.nope` does not exist."):
        r.table("nope").run(conn)
    with pytest.raises(ReqlNonExistenceError) as info:
        r.expr({"a": 1})["b"].run(conn)
    assert info.value.message == "No attribute `b` in object:\n{\n\t\"a\":\t1\n}"
    # An error mid-stream reaches the cursor.
    cursor = r.range(5).map(lambda x: r.branch(x < 3, x, r.error("late"))).run(conn, max_batch_rows=1)
    assert next(cursor) == 0
    with pytest.raises(Exception, match="late"):
        list(cursor)
    # The connection carries on.
    assert r.expr(2).run(conn) == 2


def test_closed_connection_and_reconnect(conn) -> None:
    conn.close()
    with pytest.raises(ReqlDriverError, match="Connection is closed."):
        r.expr(1).run(conn)
    conn.reconnect()
    assert r.expr(1).run(conn) == 1


def test_open_engine_and_close_it(path) -> None:
    with embedded.open(path) as engine:
        c1 = engine.connect()
        c2 = engine.connect(db="test")
        r.table_create("t").run(c1)
        c1.close()
        assert not engine.closed  # opened explicitly: stays up without connections
        assert r.table("t").count().run(c2) == 0
    assert engine.closed
    with pytest.raises(ReqlDriverError):
        r.expr(1).run(c2)


def test_passwords(path) -> None:
    c = embedded.connect(path, initial_password="s3cret", password="s3cret")
    try:
        with pytest.raises(ReqlAuthError, match="Wrong password"):
            embedded.connect(path, password="nope")
        assert r.expr(1).run(c) == 1  # a failed login leaves the engine alone
    finally:
        c.close()


def test_directory_held_by_another_process(path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from reqlite.storage import Store; s = Store(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read(); s.close()", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        start = time.monotonic()
        with pytest.raises(embedded.EmbeddedError) as info:
            embedded.connect(path)
        assert time.monotonic() - start < 5
        assert "is in use by another reqlite process" in str(info.value.message)
        assert isinstance(info.value, ReqlDriverError) and isinstance(info.value, StorageError)
        assert path not in embedded._ENGINES
    finally:
        holder.stdin.close()
        holder.wait(10)
    embedded.connect(path).close()  # free again
