"""Secondary indexes through the official driver: maintenance, builds, reads, restarts."""

from __future__ import annotations

import threading

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlOpFailedError

from reqlite.storage import Store, layout
from serverproc import start_server


def _ids(cursor) -> list:
    return sorted(d["id"] for d in cursor)


def test_index_is_maintained_by_every_kind_of_write(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("color").run(conn)
    t.index_create("tags", multi=True).run(conn)
    t.index_wait().run(conn)
    t.insert([{"id": 1, "color": "red", "tags": ["a", "b"]}, {"id": 2, "color": "blue", "tags": ["b"]}]).run(conn)
    assert _ids(t.get_all("red", index="color").run(conn)) == [1]
    assert _ids(t.get_all("b", index="tags").run(conn)) == [1, 2]
    t.get(1).update({"color": "blue", "tags": ["c"]}).run(conn)
    assert _ids(t.get_all("red", index="color").run(conn)) == []
    assert _ids(t.get_all("blue", index="color").run(conn)) == [1, 2]
    assert _ids(t.get_all("b", index="tags").run(conn)) == [2]
    assert _ids(t.get_all("c", index="tags").run(conn)) == [1]
    t.get(2).replace({"id": 2}).run(conn)
    assert _ids(t.get_all("blue", index="color").run(conn)) == [1]
    t.get(1).delete().run(conn)
    assert _ids(t.get_all("blue", index="color").run(conn)) == []
    assert _ids(t.get_all("c", index="tags").run(conn)) == []


def test_between_and_ordering_by_index(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i, "score": (i * 7) % 10} for i in range(10)]).run(conn)
    t.index_create("score").run(conn)
    t.index_wait("score").run(conn)
    rows = list(t.between(3, 6, index="score").run(conn))
    assert [d["score"] for d in rows] == [3, 4, 5]
    rows = list(t.between(3, 6, index="score", left_bound="open", right_bound="closed").run(conn))
    assert [d["score"] for d in rows] == [4, 5, 6]
    assert t.between(r.minval, r.maxval, index="score").count().run(conn) == 10
    assert t.between(5, 5, index="score").count().run(conn) == 0
    assert t.between(3, 6, index="score").type_of().run(conn) == "TABLE_SLICE"


def test_build_over_existing_documents_and_status(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i, "g": i % 5} for i in range(3000)]).run(conn)
    t.index_create("g").run(conn)
    status = t.index_wait("g").run(conn)[0]
    assert status["ready"] is True and status["index"] == "g"
    assert t.get_all(3, index="g").count().run(conn) == 600
    # the function blob recreates the same index
    blob = t.index_status("g").nth(0)["function"].run(conn)
    t.index_create("g2", blob).run(conn)
    t.index_wait("g2").run(conn)
    assert t.get_all(3, index="g2").count().run(conn) == 600
    assert t.index_list().run(conn) == ["g", "g2"]


def test_writes_during_a_build_are_indexed(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i, "v": 0} for i in range(5000)]).run(conn)
    errors = []

    def writer():
        c = r.connect("127.0.0.1", conn.port)
        try:
            for i in range(0, 5000, 7):
                t.get(i).update({"v": 1}).run(c)
            t.insert([{"id": 10_000 + i, "v": 1} for i in range(100)]).run(c)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        c.close()

    th = threading.Thread(target=writer)
    th.start()
    t.index_create("v").run(conn)
    th.join()
    t.index_wait("v").run(conn)
    assert not errors
    expected = t.filter({"v": 1}).count().run(conn)
    assert expected == len(range(0, 5000, 7)) + 100
    assert t.get_all(1, index="v").count().run(conn) == expected
    assert t.get_all(0, index="v").count().run(conn) == 5000 - len(range(0, 5000, 7))


def test_long_values_are_truncated_but_found_exactly(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("s").run(conn)
    t.index_wait("s").run(conn)
    base = "x" * 400
    t.insert([{"id": 1, "s": base + "a"}, {"id": 2, "s": base + "b"}, {"id": 3, "s": "short"}]).run(conn)
    assert _ids(t.get_all(base + "a", index="s").run(conn)) == [1]
    assert _ids(t.get_all(base + "b", index="s").run(conn)) == [2]
    assert _ids(t.between(base + "a", base + "b", index="s").run(conn)) == [1]
    assert _ids(t.between(base + "a", base + "b", index="s", right_bound="closed").run(conn)) == [1, 2]


def test_index_errors(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("a").run(conn)
    with pytest.raises(ReqlOpFailedError, match=f"Index `a` already exists on table `{db}.t`."):
        t.index_create("a").run(conn)
    with pytest.raises(ReqlOpFailedError, match=f"Index `nope` was not found on table `{db}.t`."):
        t.get_all(1, index="nope").run(conn)
    with pytest.raises(ReqlOpFailedError, match=f"Index `nope` does not exist on table `{db}.t`."):
        t.index_drop("nope").run(conn)
    assert t.index_drop("a").run(conn) == {"dropped": 1}


def test_drop_removes_entries_and_restart_keeps_indexes(tmp_path):
    data = str(tmp_path / "data")
    s = start_server(data)
    c = r.connect("127.0.0.1", s.port)
    r.table_create("t").run(c)
    t = r.table("t")
    t.insert([{"id": i, "a": i % 3, "b": i} for i in range(100)]).run(c)
    t.index_create("a").run(c)
    t.index_create("b").run(c)
    t.index_wait().run(c)
    t.index_drop("b").run(c)
    c.close()
    assert s.stop() == 0

    store = Store(data)
    try:
        cfg = store.catalog.get_table("test", "t")
        assert list(cfg.indexes) == ["a"]
        live = layout.sindex_prefix(cfg.database_id, cfg.id, cfg.indexes["a"]["id"])
        table_prefix = layout.table_prefix(cfg.database_id, cfg.id) + b"sindex:"
        with store.read() as txn:
            index_keys = [k for k, _ in txn.cursor() if k.startswith(table_prefix)]
        assert len(index_keys) == 100 and all(k.startswith(live) for k in index_keys)
    finally:
        store.close()

    s2 = start_server(data)
    c = r.connect("127.0.0.1", s2.port)
    assert r.table("t").get_all(1, index="a").count().run(c) == 33
    c.close()
    s2.stop()
