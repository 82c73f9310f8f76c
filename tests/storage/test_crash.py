"""Crash safety: acknowledged hard-durability writes survive ``kill -9``.

A server subprocess receives a stream of inserts (``durability='hard'``) from several
clients; it is killed with SIGKILL mid-stream, restarted on the same directory, and
every insert that was acknowledged before the kill must be there. The LMDB
environment must then open cleanly and every stored document must decode.
"""

from __future__ import annotations

import os
import random
import threading
import time

import lmdb
import orjson
import pytest
from rethinkdb import r

from serverproc import start_server

ROUNDS = 5
WRITERS = 4


def _writer(port: int, wid: int, round_no: int, acked: list, stop: threading.Event) -> None:
    try:
        c = r.connect("127.0.0.1", port)
    except Exception:  # noqa: BLE001 - the server may already be gone
        return
    i = 0
    try:
        while not stop.is_set():
            key = f"{round_no}-{wid}-{i}"
            doc = {"id": key, "round": round_no, "writer": wid, "i": i, "pad": "x" * random.randint(0, 300)}
            res = r.table("crash").insert(doc, durability="hard").run(c)
            if res.get("inserted") == 1:
                acked.append(key)  # acknowledged: must survive
            i += 1
    except Exception:  # noqa: BLE001 - the connection dies with the server
        pass


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_acknowledged_hard_writes_survive_kill_9(tmp_path_factory, round_no):
    data = str(tmp_path_factory.mktemp(f"crash{round_no}") / "data")
    srv = start_server(data)
    try:
        c = r.connect("127.0.0.1", srv.port)
        r.table_create("crash").run(c)
        c.close()
        acked: list[str] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_writer, args=(srv.port, w, round_no, acked, stop), daemon=True)
            for w in range(WRITERS)
        ]
        for t in threads:
            t.start()
        time.sleep(0.3 + random.random() * 0.4)
        srv.proc.kill()  # SIGKILL, mid-stream
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join(10)
        snapshot = list(acked)
        assert snapshot, "no insert was acknowledged before the kill"
        print(f"round {round_no}: {len(snapshot)} acknowledged before the kill")
    finally:
        srv.stop()

    srv = start_server(data)  # must open the directory that was killed mid-write
    try:
        c = r.connect("127.0.0.1", srv.port)
        stored = set(r.table("crash")["id"].coerce_to("array").run(c))
        missing = [k for k in snapshot if k not in stored]
        assert missing == []
        assert r.table("crash").count().run(c) == len(stored)
        # The server keeps working on the recovered directory.
        assert r.table("crash").insert({"id": "after"}).run(c)["inserted"] == 1
        c.close()
    finally:
        assert srv.stop() is not None

    env = lmdb.open(data, readonly=True, lock=False, subdir=True)
    try:
        with env.begin() as txn:
            n = 0
            for key, value in txn.cursor():
                if b":docs:" in key:
                    doc = orjson.loads(value)
                    assert doc["id"] is not None
                    n += 1
            assert n == len(stored) + 1
    finally:
        env.close()
    assert os.path.exists(os.path.join(data, "data.mdb"))
