"""Streaming over a big table: a scan with ``limit`` answers at once and never holds the
table in memory, whole-table aggregations keep the server's heap flat, and a long scan on
one connection does not starve point reads on another.

One server with a 1,000,000-document table (inserted in big server-side batches) serves
every test here; the whole module takes well under a minute.
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from rethinkdb import r

from serverproc import start_server

N = 1_000_000
BATCH = 100_000
MB = 1024 * 1024


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def heap_bytes(pid: int) -> int:
    """The server's private (anonymous) resident memory: its Python heap.

    File-backed pages (LMDB's memory map, which a scan touches) are left out: they are
    the page cache, shared and reclaimable, not memory the query holds.
    """
    return _status_kb(pid, "RssAnon") * 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    srv = start_server(str(tmp_path_factory.mktemp("big") / "data"))
    c = r.connect("127.0.0.1", srv.port)
    r.db("test").table_create("big").run(c)
    t = r.table("big")
    for start in range(0, N, BATCH):
        docs = r.range(start, start + BATCH).map({"id": r.row, "v": r.row.mod(7), "s": "x"})
        res = t.insert(docs, durability="soft").run(c)
        assert res["inserted"] == BATCH
    assert t.count().run(c) == N
    yield srv, c, t
    c.close()
    srv.stop()


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def test_limit_answers_at_once_with_flat_memory(big):
    srv, c, t = big
    pid = srv.proc.pid
    t.get(1).run(c)  # warm up the connection and the code paths
    list(t.limit(10).run(c))
    before = heap_bytes(pid)
    for q in [
        t.limit(10),
        t.filter(r.row["v"] == 3).limit(10),
        t.map(r.row["id"] * 2).limit(10),
        t.order_by(index=r.desc("id")).limit(10),
        t.between(500_000, r.maxval).limit(10),
        t.concat_map(lambda d: [d, d]).limit(10),
        t.skip(10).limit(10),
    ]:
        rows, dt = _timed(lambda q=q: list(q.run(c)))
        assert len(rows) == 10
        assert dt < 0.5, f"{q} took {dt:.2f}s"
    assert heap_bytes(pid) - before < 10 * MB


def test_cursor_over_the_whole_table_starts_at_once(big):
    srv, c, t = big
    before = heap_bytes(srv.proc.pid)
    t0 = time.perf_counter()
    cursor = t.run(c)
    first = next(cursor)
    assert time.perf_counter() - t0 < 0.5
    assert first["id"] == 0
    for _ in range(5000):  # a few batches
        next(cursor)
    cursor.close()
    assert heap_bytes(srv.proc.pid) - before < 20 * MB


def test_whole_table_aggregations_keep_the_heap_flat(big):
    srv, c, t = big
    pid = srv.proc.pid
    before = heap_bytes(pid)
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], heap_bytes(pid))
            time.sleep(0.02)

    w = threading.Thread(target=watch)
    w.start()
    try:
        assert t.filter({"v": 3}).count().run(c) == 142_857
        assert t.group("v").count().run(c) == {k: 142_858 if k == 0 else 142_857 for k in range(7)}
    finally:
        done.set()
        w.join()
    # 1M documents decoded would be hundreds of MB; a streaming scan holds a batch
    assert peak[0] - before < 40 * MB, f"heap grew by {(peak[0] - before) / MB:.0f} MB"


def test_long_scan_does_not_starve_point_gets(big):
    srv, c, t = big
    other = r.connect("127.0.0.1", srv.port)
    try:
        result: list = []

        def scan() -> None:
            result.append(t.map(r.row["v"]).sum().run(c))

        th = threading.Thread(target=scan)
        th.start()
        time.sleep(0.05)  # let the scan start
        latencies = []
        i = 0
        while th.is_alive():
            i += 1
            t0 = time.perf_counter()
            doc = t.get(i * 7919 % N).run(other)
            latencies.append(time.perf_counter() - t0)
            assert doc is not None
        th.join()
        assert result == [2_999_997]
        latencies.sort()
        assert latencies[-1] < 0.5, f"a point get waited {latencies[-1]:.2f}s"
        assert len(latencies) >= 20, "the scan ended too soon to measure anything"
        p95 = latencies[int(len(latencies) * 0.95)]
        assert statistics.median(latencies) < 0.03, latencies[-10:]
        assert p95 < 0.08, latencies[-10:]
    finally:
        other.close()
