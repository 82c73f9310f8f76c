"""The official driver against a real reqlite socket: full CRUD with RethinkDB's result objects."""

from __future__ import annotations

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlOpFailedError, ReqlQueryLogicError


def test_create_insert_get_filter_update_replace_delete_drop(conn, db):
    assert r.db(db).table_create("people").run(conn)["tables_created"] == 1
    people = r.db(db).table("people")

    res = people.insert([{"id": 1, "name": "ada", "age": 36}, {"id": 2, "name": "bob", "age": 25}]).run(conn)
    assert res == {"deleted": 0, "errors": 0, "inserted": 2, "replaced": 0, "skipped": 0, "unchanged": 0}

    assert people.get(1).run(conn) == {"id": 1, "name": "ada", "age": 36}
    assert people.get(99).run(conn) is None
    assert sorted(d["id"] for d in people.filter(r.row["age"] > 30).run(conn)) == [1]
    assert list(people.filter({"name": "bob"}).run(conn)) == [{"id": 2, "name": "bob", "age": 25}]

    res = people.get(2).update({"age": r.row["age"] + 1}).run(conn)
    assert res["replaced"] == 1
    assert people.get(2)["age"].run(conn) == 26

    res = people.get(2).update({"age": 26}).run(conn)
    assert res["unchanged"] == 1

    res = people.get(1).replace({"id": 1, "name": "ada lovelace"}).run(conn)
    assert res["replaced"] == 1
    assert people.get(1).run(conn) == {"id": 1, "name": "ada lovelace"}

    res = people.get(1).delete().run(conn)
    assert res["deleted"] == 1
    assert people.count().run(conn) == 1

    res = r.db(db).table_drop("people").run(conn)
    assert res["tables_dropped"] == 1
    assert r.db(db).table_list().run(conn) == []


def test_generated_keys_and_conflicts(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    res = t.insert([{"a": 1}, {"a": 2}]).run(conn)
    assert res["inserted"] == 2 and len(res["generated_keys"]) == 2
    key = res["generated_keys"][0]
    assert t.get(key)["a"].run(conn) in (1, 2)

    res = t.insert({"id": key, "a": 3}).run(conn)
    assert res["errors"] == 1 and res["first_error"].startswith("Duplicate primary key `id`:")
    res = t.insert({"id": key, "b": 4}, conflict="update").run(conn)
    assert res["replaced"] == 1 and t.get(key).run(conn)["b"] == 4
    res = t.insert({"id": key, "c": 5}, conflict="replace", return_changes=True).run(conn)
    assert res["replaced"] == 1
    assert res["changes"][0]["new_val"] == {"id": key, "c": 5}


def test_custom_primary_key_and_order_by(conn, db):
    r.db(db).table_create("t", primary_key="code").run(conn)
    t = r.db(db).table("t")
    t.insert([{"code": c, "n": i} for i, c in enumerate("dbca")]).run(conn)
    assert [d["code"] for d in t.order_by(index="code").run(conn)] == ["a", "b", "c", "d"]
    assert [d["code"] for d in t.order_by(r.desc("n")).limit(2).run(conn)] == ["a", "c"]
    assert t.get("c")["n"].run(conn) == 2
    assert sorted(d["code"] for d in t.get_all("a", "d").run(conn)) == ["a", "d"]


def test_errors_are_rethinkdb_errors(conn, db):
    with pytest.raises(ReqlOpFailedError, match=f"Table `{db}.nope` does not exist."):
        r.db(db).table("nope").run(conn)
    with pytest.raises(ReqlOpFailedError, match="Database `nope_db` does not exist."):
        r.db("nope_db").table_list().run(conn)
    with pytest.raises(ReqlQueryLogicError, match=r"Database name `bad!` invalid \(Use A-Z, a-z, 0-9, _ and - only\)."):
        r.db_create("bad!").run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Expected type NUMBER but found STRING."):
        r.expr(1).add("a").run(conn)


def test_large_table_streams_in_batches(conn, db):
    r.db(db).table_create("big").run(conn)
    t = r.db(db).table("big")
    t.insert([{"id": i, "pad": "x" * 100} for i in range(5000)]).run(conn)
    cursor = t.run(conn, max_batch_rows=500)
    seen = [d["id"] for d in cursor]
    assert sorted(seen) == list(range(5000))
    # a cursor closed early sends STOP and the connection stays usable
    cursor = t.run(conn, max_batch_rows=10)
    next(cursor)
    cursor.close()
    assert t.count().run(conn) == 5000


def test_concurrent_queries_on_one_connection_answer_by_token(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i} for i in range(100)]).run(conn)
    c1 = t.run(conn, max_batch_rows=5)
    c2 = t.run(conn, max_batch_rows=7)
    a = [next(c1)["id"] for _ in range(20)]
    b = [next(c2)["id"] for _ in range(20)]
    assert len(set(a)) == 20 and len(set(b)) == 20
    c1.close()
    c2.close()


def test_server_info_and_noreply_wait(conn, db):
    info = conn.server()
    assert set(info) >= {"id", "name", "proxy"}
    r.db(db).table_create("t").run(conn)
    for i in range(20):
        r.db(db).table("t").insert({"id": i}).run(conn, noreply=True)
    conn.noreply_wait()
    assert r.db(db).table("t").count().run(conn) == 20


def test_thousands_of_concurrent_noreply_writes_all_land(conn, db):
    """Thousands of queries waiting at once must not exhaust LMDB's reader slots."""
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    for i in range(3000):
        t.insert({"id": i, "v": "x" * 20}).run(conn, noreply=True)
    conn.noreply_wait()
    assert t.count().run(conn) == 3000
    assert t.map(lambda d: 1).count().run(conn) == 3000
