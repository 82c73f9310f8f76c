"""Table and database administration, and the system database, through the driver:
config (readable and writable), status, wait, reconfigure, rebalance, sync, info,
db_list/table_list, and the ``rethinkdb`` virtual tables."""

from __future__ import annotations

import pytest
from rethinkdb import ast, r
from rethinkdb.errors import ReqlOpFailedError, ReqlQueryLogicError


@pytest.fixture
def tbl(conn, db):
    r.db(db).table_create("a").run(conn)
    return r.db(db).table("a")


def test_config_and_status_shapes(conn, db, tbl):
    cfg = tbl.config().run(conn)
    assert set(cfg) == {"db", "durability", "id", "indexes", "name", "primary_key", "shards", "write_acks", "write_hook"}
    assert (cfg["db"], cfg["name"], cfg["primary_key"], cfg["durability"]) == (db, "a", "id", "hard")
    assert cfg["write_hook"] is None and cfg["indexes"] == [] and cfg["write_acks"] == "majority"
    assert len(cfg["shards"]) == 1 and set(cfg["shards"][0]) == {"nonvoting_replicas", "primary_replica", "replicas"}
    st = tbl.status().run(conn)
    assert set(st) == {"db", "id", "name", "raft_leader", "shards", "status"}
    assert st["status"] == {
        "all_replicas_ready": True,
        "ready_for_outdated_reads": True,
        "ready_for_reads": True,
        "ready_for_writes": True,
    }
    assert st["id"] == cfg["id"]
    assert r.db(db).config().run(conn) == {"id": r.db(db).info()["id"].run(conn), "name": db}
    assert tbl.config().type_of().run(conn) == "SELECTION<OBJECT>"


def test_config_update_renames_and_changes_durability(conn, db, tbl):
    tbl.insert({"id": 1}).run(conn)
    assert tbl.config().update({"name": "b"}).run(conn)["replaced"] == 1
    assert r.db(db).table_list().run(conn) == ["b"]
    assert r.db(db).table("b").get(1).run(conn) == {"id": 1}
    res = r.db(db).table("b").config().update({"durability": "soft"}, return_changes=True).run(conn)
    assert res["changes"][0]["old_val"]["durability"] == "hard"
    assert res["changes"][0]["new_val"]["durability"] == "soft"
    res = r.db(db).table("b").config().update({"primary_key": "x"}).run(conn)
    assert res["errors"] == 1 and "wrong format" in res["first_error"]
    r.db(db).table_create("c").run(conn)
    res = r.db(db).table("b").config().update({"name": "c"}).run(conn)
    assert res["first_error"] == f"Table `{db}.c` already exists."


def test_database_rename_through_config(conn):
    r.db_create("adm_old").run(conn)
    try:
        r.db("adm_old").table_create("t").run(conn)
        r.db("adm_old").table("t").insert({"id": 1}).run(conn)
        assert r.db("adm_old").config().update({"name": "adm_new"}).run(conn)["replaced"] == 1
        assert "adm_new" in r.db_list().run(conn) and "adm_old" not in r.db_list().run(conn)
        assert r.db("adm_new").table("t").get(1).run(conn) == {"id": 1}
        assert r.db("adm_new").table("t").config()["db"].run(conn) == "adm_new"
    finally:
        for name in ("adm_old", "adm_new"):
            if name in r.db_list().run(conn):
                r.db_drop(name).run(conn)


def test_table_create_options(conn, db):
    res = r.db(db).table_create("s", primary_key="k", durability="soft", shards=3, replicas=1).run(conn)
    cfg = res["config_changes"][0]["new_val"]
    assert res["tables_created"] == 1 and cfg["primary_key"] == "k" and cfg["durability"] == "soft"
    assert len(cfg["shards"]) == 3
    assert r.db(db).table("s").info()["doc_count_estimates"].run(conn) == [0, 0, 0]
    with pytest.raises(ReqlQueryLogicError, match="Every table must have at least one shard."):
        r.db(db).table_create("z", shards=0).run(conn)
    with pytest.raises(ReqlOpFailedError, match="Maximum number of shards is 32."):
        r.db(db).table_create("z", shards=33).run(conn)
    with pytest.raises(ReqlOpFailedError, match="Can't put 2 replicas on servers with the tag `default`"):
        r.db(db).table_create("z", replicas=2).run(conn)
    with pytest.raises(ReqlOpFailedError, match="Database `rethinkdb` is special"):
        r.db("rethinkdb").table_create("z").run(conn)
    with pytest.raises(ReqlOpFailedError, match="Database `rethinkdb` is special"):
        r.db("rethinkdb").table_drop("stats").run(conn)


def test_wait_reconfigure_rebalance(conn, db, tbl):
    assert tbl.wait().run(conn) == {"ready": 1}
    assert tbl.wait(wait_for="ready_for_writes", timeout=1).run(conn) == {"ready": 1}
    assert r.db(db).wait().run(conn) == {"ready": 1}
    with pytest.raises(ReqlQueryLogicError, match="Unknown table readiness state: 'x'"):
        tbl.wait(wait_for="x").run(conn)
    res = tbl.reconfigure(shards=2, replicas=1).run(conn)
    assert res["reconfigured"] == 1 and len(res["config_changes"][0]["new_val"]["shards"]) == 2
    assert len(res["status_changes"]) == 1
    assert len(tbl.config()["shards"].run(conn)) == 2
    res = tbl.reconfigure(shards=1, replicas=1, dry_run=True).run(conn)
    assert res["reconfigured"] == 0 and "status_changes" not in res
    assert len(tbl.config()["shards"].run(conn)) == 2
    with pytest.raises(ReqlQueryLogicError, match="Missing required argument `replicas`."):
        tbl.reconfigure(shards=1).run(conn)
    with pytest.raises(ReqlOpFailedError, match="This table doesn't need to be repaired."):
        tbl.reconfigure(emergency_repair="unsafe_rollback").run(conn)
    assert tbl.rebalance().run(conn)["rebalanced"] == 1
    r.db(db).table_create("b").run(conn)
    assert r.db(db).rebalance().run(conn)["rebalanced"] == 2
    assert r.db(db).reconfigure(shards=1, replicas=1).run(conn)["reconfigured"] == 2


def test_sync(conn, tbl):
    tbl.insert({"id": 1}, durability="soft").run(conn)
    assert tbl.sync().run(conn) == {"synced": 1}
    with pytest.raises(ReqlQueryLogicError, match="Expected type TABLE but found DATUM:"):
        ast.Sync(r.expr(1)).run(conn)


def test_info_shapes(conn, db, tbl):
    tbl.insert([{"id": 1}, {"id": 2}]).run(conn)
    info = tbl.info().run(conn)
    assert info["type"] == "TABLE" and info["name"] == "a" and info["primary_key"] == "id"
    assert info["db"] == {"type": "DB", "name": db, "id": info["db"]["id"]}
    assert info["doc_count_estimates"] == [2] and info["indexes"] == []
    assert tbl.filter({}).info().run(conn) == {"type": "SELECTION<STREAM>", "table": info}
    assert tbl.get(1).info().run(conn) == {"type": "SELECTION<OBJECT>", "table": info}
    assert r.expr(1).info().run(conn) == {"type": "NUMBER", "value": "1"}
    assert r.expr({"a": 1}).info().run(conn) == {"type": "OBJECT", "value": '{\n\t"a":\t1\n}'}
    assert r.expr(None).info().run(conn) == {"type": "NULL"}
    assert r.expr([1]).info().run(conn) == {"type": "ARRAY", "value": "[\n\t1\n]"}
    assert r.binary(b"abc").info()["count"].run(conn) == 3
    assert r.db("rethinkdb").info().run(conn)["name"] == "rethinkdb"


def test_system_database(conn, db, tbl):
    assert "rethinkdb" in r.db_list().run(conn)
    names = r.db("rethinkdb").table_list().run(conn)
    for n in ("table_config", "table_status", "db_config", "stats", "server_config", "server_status"):
        assert n in names
    cfg = tbl.config().run(conn)
    row = r.db("rethinkdb").table("table_config").get(cfg["id"]).run(conn)
    assert row == cfg
    assert r.db("rethinkdb").table("table_status").get(cfg["id"]).run(conn) == tbl.status().run(conn)
    by_uuid = r.db("rethinkdb").table("table_config", identifier_format="uuid").get(cfg["id"]).run(conn)
    assert by_uuid["db"] == r.db(db).config()["id"].run(conn)
    assert r.db("rethinkdb").table("db_config").filter({"name": db}).count().run(conn) == 1
    info = r.db("rethinkdb").table("stats").info().run(conn)
    assert info["name"] == "stats" and info["primary_key"] == "id" and info["indexes"] == []
    assert r.db("rethinkdb").table("stats").count().run(conn) >= 2
    res = r.db("rethinkdb").table("table_status").delete().run(conn)
    assert res["errors"] >= 1 and "illegal to write" in res["first_error"]
    with pytest.raises(ReqlOpFailedError, match="Table `rethinkdb.nope` does not exist."):
        r.db("rethinkdb").table("nope").run(conn)
    # the scratch table is an ordinary table
    scratch = r.db("rethinkdb").table("_debug_scratch")
    scratch.insert({"id": "x"}).run(conn)
    assert scratch.get("x").run(conn) == {"id": "x"}
    scratch.delete().run(conn)
    # the default database can be rethinkdb
    assert r.table("table_config").get(cfg["id"])["name"].run(conn, db="rethinkdb") == "a"
    # dropping a table through table_config
    assert r.db("rethinkdb").table("table_config").get(cfg["id"]).delete().run(conn)["deleted"] == 1
    assert r.db(db).table_list().run(conn) == []


def test_list_ordering(conn, db):
    for n in ("b", "a", "C"):
        r.db(db).table_create(n).run(conn)
    assert r.db(db).table_list().run(conn) == ["C", "a", "b"]
    dbs = r.db_list().run(conn)
    assert dbs == sorted(dbs)
