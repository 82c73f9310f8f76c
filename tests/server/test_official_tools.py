"""RethinkDB's own data tools (from the official Python driver package) against reqlite."""

from __future__ import annotations

import subprocess
import sys

from rethinkdb import r


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rethinkdb", *args], capture_output=True, text=True, timeout=120)


def test_dump_and_restore_round_trip_with_indexes(conn, server, tmp_path):
    r.db_create("tooldb").run(conn)
    t = r.db("tooldb").table("items")
    r.db("tooldb").table_create("items").run(conn)
    t.insert([{"id": i, "name": f"item{i}", "price": i * 1.5, "tags": ["a", str(i % 3)]} for i in range(300)]).run(conn)
    t.index_create("price").run(conn)
    t.index_create("tags", multi=True).run(conn)
    t.index_wait().run(conn)
    archive = str(tmp_path / "dump.tar.gz")
    addr = f"127.0.0.1:{server.port}"
    res = _tool("dump", "-c", addr, "-e", "tooldb", "-f", archive)
    assert res.returncode == 0, res.stderr + res.stdout
    r.db_drop("tooldb").run(conn)
    res = _tool("restore", "-c", addr, archive)
    assert res.returncode == 0, res.stderr + res.stdout
    try:
        assert t.count().run(conn) == 300
        assert t.get(7).run(conn) == {"id": 7, "name": "item7", "price": 10.5, "tags": ["a", "1"]}
        assert t.index_list().run(conn) == ["price", "tags"]
        assert t.get_all(3.0, index="price").run(conn).next()["id"] == 2
        assert t.get_all("1", index="tags").count().run(conn) == 100
    finally:
        r.db_drop("tooldb").run(conn)


def test_export_and_import_json(conn, server, tmp_path):
    r.db_create("tooldb2").run(conn)
    r.db("tooldb2").table_create("t").run(conn)
    r.db("tooldb2").table("t").insert([{"id": i, "v": i} for i in range(50)]).run(conn)
    addr = f"127.0.0.1:{server.port}"
    out = tmp_path / "export"
    res = _tool("export", "-c", addr, "-e", "tooldb2", "-d", str(out))
    assert res.returncode == 0, res.stderr + res.stdout
    res = _tool("import", "-c", addr, "-f", str(out / "tooldb2" / "t.json"), "--table", "tooldb2.copy")
    assert res.returncode == 0, res.stderr + res.stdout
    try:
        assert r.db("tooldb2").table("copy").count().run(conn) == 50
        assert r.db("tooldb2").table("copy").get(9)["v"].run(conn) == 9
    finally:
        r.db_drop("tooldb2").run(conn)
