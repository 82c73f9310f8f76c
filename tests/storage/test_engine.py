"""The LMDB engine: directory locking, foreign directories, map growth, cascade drops."""

from __future__ import annotations

import os
import signal

import pytest
import trio
from rethinkdb import r

from reqlite.storage import Catalog, DocWrite, StorageError, Store, layout, write_docs_job
from serverproc import start_server


def test_second_server_on_same_directory_is_refused(tmp_path):
    first = start_server(str(tmp_path / "data"))
    try:
        import subprocess
        import sys

        proc = subprocess.run(
            [sys.executable, "-m", "reqlite", "serve", "--driver-port", "0", "-d", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode != 0
        assert "in use by another reqlite process" in proc.stderr
    finally:
        assert first.stop() == 0


def test_sigterm_and_sigint_exit_cleanly_and_data_survives(tmp_path):
    s = start_server(str(tmp_path / "data"))
    c = r.connect("127.0.0.1", s.port)
    r.table_create("t").run(c)
    r.table("t").insert({"id": 1}).run(c)
    c.close()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0
    s2 = start_server(str(tmp_path / "data"))
    c = r.connect("127.0.0.1", s2.port)
    assert r.table("t").get(1).run(c) == {"id": 1}
    c.close()
    s2.proc.send_signal(signal.SIGINT)
    assert s2.proc.wait(20) == 0


def test_foreign_directory_is_refused(tmp_path):
    d = tmp_path / "notours"
    d.mkdir()
    (d / "important.txt").write_text("keep me")
    with pytest.raises(StorageError, match="does not look like a reqlite data directory"):
        Store(str(d))
    assert (d / "important.txt").read_text() == "keep me"


def test_unreadable_directory_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StorageError):
        Store(str(f))


def test_new_directory_gets_test_database(tmp_path):
    s = Store(str(tmp_path / "d"))
    try:
        assert list(s.catalog.databases()) == ["test"]
    finally:
        s.close()


async def test_map_grows_instead_of_failing(tmp_path):
    s = Store(str(tmp_path / "d"), map_size=256 * 1024)
    s.attach_trio()
    try:
        db = s.catalog.get_db("test")
        t = await s.write(Catalog.create_table_job(db, "t", "id", "hard"), catalog=True)
        payload = b"x" * 4000
        for batch in range(10):  # ~4 MB into a 256 KiB map
            writes = [DocWrite(t.docs_prefix + b"%06d" % (batch * 100 + i), None, payload) for i in range(100)]
            res = await s.write(write_docs_job(t.id, writes), hard=False)
            assert all(ok for ok, _ in res)
        assert s.catalog.doc_count(t) == 1000
        assert s.engine.env.info()["map_size"] > 256 * 1024
    finally:
        s.detach_trio()
        s.close()


def _keys_with(store: Store, fragment: bytes) -> list[bytes]:
    with store.read() as txn:
        return [k for k, _ in txn.cursor() if fragment in k]


def test_cascade_drops_leave_no_orphan_keys(tmp_path):
    data = str(tmp_path / "data")
    s = start_server(data)
    c = r.connect("127.0.0.1", s.port)
    r.db_create("shop").run(c)
    r.db("shop").table_create("a").run(c)
    r.db("shop").table_create("b", primary_key="k").run(c)
    r.db("shop").table("a").insert([{"id": i} for i in range(300)]).run(c)
    r.db("shop").table("b").insert([{"k": str(i)} for i in range(300)]).run(c)
    r.table_create("keep").run(c)
    r.table("keep").insert({"id": 1}).run(c)
    res = r.db("shop").table_drop("a").run(c)
    assert res["tables_dropped"] == 1 and res["config_changes"][0]["old_val"]["name"] == "a"
    res = r.db_drop("shop").run(c)
    assert res["dbs_dropped"] == 1 and res["tables_dropped"] == 1
    c.close()
    assert s.stop() == 0

    store = Store(data)
    try:
        db_ids = {cfg.id for cfg in store.catalog.databases().values()}
        table_ids = {t.id for t in store.catalog.all_tables()}
        with store.read() as txn:
            for key, _value in txn.cursor():
                if key.startswith(b"db:"):
                    _, db_id, _, table_id, *_ = key.split(b":", 4)
                    assert db_id.decode() in db_ids, key
                    assert table_id.decode() in table_ids, key
                elif key.startswith(layout.DATABASE_IDS):
                    assert key[len(layout.DATABASE_IDS):].decode() in db_ids
                elif key.startswith(layout.TABLE_IDS) or key.startswith(layout.DOC_COUNTS):
                    assert key.rsplit(b":", 1)[1].decode() in table_ids, key
                elif key.startswith(layout.TABLES):
                    assert not key.startswith(layout.TABLES + b"shop."), key
        assert [t.name for t in store.catalog.all_tables()] == ["keep"]
    finally:
        store.close()


def test_lock_file_records_pid(tmp_path):
    s = Store(str(tmp_path / "d"))
    try:
        with open(os.path.join(s.engine.path, "reqlite.lock")) as f:
            assert int(f.read()) == os.getpid()
    finally:
        s.close()


async def test_compare_and_set_reports_conflicts(tmp_path):
    s = Store(str(tmp_path / "d"))
    s.attach_trio()
    try:
        t = await s.write(Catalog.create_table_job(s.catalog.get_db("test"), "t", "id", "hard"), catalog=True)
        k = t.docs_prefix + b"k"
        assert await s.write(write_docs_job(t.id, [DocWrite(k, None, b"1")])) == [(True, None)]
        # expecting absence, but it exists: not applied, current value reported
        assert await s.write(write_docs_job(t.id, [DocWrite(k, None, b"2")])) == [(False, b"1")]
        assert await s.write(write_docs_job(t.id, [DocWrite(k, b"1", b"2")])) == [(True, b"1")]
        async with trio.open_nursery() as n:
            for _ in range(10):
                n.start_soon(s.write, write_docs_job(t.id, [DocWrite(k, b"2", b"3")]))
        with s.read() as txn:
            assert txn.get(k) == b"3"
        assert s.catalog.doc_count(t) == 1
    finally:
        s.detach_trio()
        s.close()
