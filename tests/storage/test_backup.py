"""Hot backups: a consistent copy taken while the server keeps writing opens as a data directory."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from rethinkdb import r

from reqlite.storage import StorageError, Store
from reqlite.storage.backup import hot_backup
from serverproc import ROOT, start_server


def test_backup_while_writing_is_consistent_and_opens(tmp_path):
    data = str(tmp_path / "data")
    s = start_server(data)
    c = r.connect("127.0.0.1", s.port)
    r.table_create("t").run(c)
    r.table("t").index_create("g").run(c)
    stop = threading.Event()

    def writer() -> None:
        w = r.connect("127.0.0.1", s.port)
        i = 0
        while not stop.is_set():
            r.table("t").insert([{"id": i + k, "g": (i + k) % 7} for k in range(50)]).run(w)
            i += 50
        w.close()

    th = threading.Thread(target=writer)
    th.start()
    try:
        import time

        time.sleep(0.5)
        proc = subprocess.run(
            [sys.executable, "-m", "reqlite", "backup", "-d", data, str(tmp_path / "copy")],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Backed up" in proc.stdout
    finally:
        stop.set()
        th.join()
        c.close()
        s.stop()
    # The copy is a complete, self-consistent data directory: document count, documents
    # and index entries agree.
    b = start_server(str(tmp_path / "copy"))
    c = r.connect("127.0.0.1", b.port)
    t = r.table("t")
    n = t.count().run(c)
    assert n > 0 and n % 50 == 0  # whole batches only
    assert t.map(lambda d: 1).count().run(c) == n
    assert sum(t.get_all(g, index="g").count().run(c) for g in range(7)) == n
    c.close()
    b.stop()


def test_backup_refuses_bad_source_and_destination(tmp_path):
    with pytest.raises(StorageError, match="not a reqlite data directory"):
        hot_backup(str(tmp_path), str(tmp_path / "x"))
    st = Store(str(tmp_path / "d"))
    st.close()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    with pytest.raises(StorageError, match="exists and is not an empty directory"):
        hot_backup(str(tmp_path / "d"), str(tmp_path / "full"))
