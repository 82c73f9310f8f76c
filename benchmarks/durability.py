"""Durability: single-document inserts at ``durability='hard'`` vs ``'soft'``.

    python -m benchmarks.durability [--duration S] [--port PORT] [--json FILE]

Through the official driver, one client, one insert per round trip:

* hard (the default): acknowledged after the commit and the meta-page sync;
* soft: acknowledged after the commit, before the meta-page sync;
* soft as a table option (``config().update({'durability': 'soft'})``), no optarg;
* 8 concurrent clients at hard and at soft (group commit shares one sync among them);
* ``noreply`` inserts followed by one ``noreply_wait`` (rate of the whole stream).
"""

from __future__ import annotations

import sys
import threading
import time

from rethinkdb import r

from .harness import Result, base_parser, measure, percentile, print_table, server, write_json

DOC = {"name": "durability benchmark", "tags": ["a", "b", "c"], "n": 0, "nested": {"x": 1.5, "y": "z"}}


def concurrent(port: int, table: str, durability: str, clients: int, duration: float) -> Result:
    lat: list[float] = []
    lock = threading.Lock()
    counts = [0] * clients

    def work(w: int) -> None:
        c = r.connect("127.0.0.1", port)
        t = r.db("bench").table(table)
        mine: list[float] = []
        end = time.perf_counter() + duration
        i = 0
        while True:
            t0 = time.perf_counter()
            t.insert({**DOC, "id": f"{durability}-{w}-{i}"}, durability=durability).run(c)
            t1 = time.perf_counter()
            mine.append(t1 - t0)
            i += 1
            if t1 >= end:
                break
        counts[w] = i
        with lock:
            lat.extend(mine)
        c.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    total = time.perf_counter() - start
    lat.sort()
    return Result(
        f"insert x{clients} clients ({durability})",
        sum(counts),
        total,
        percentile(lat, 50) * 1000,
        percentile(lat, 95) * 1000,
        percentile(lat, 99) * 1000,
    )


def noreply_stream(conn, t, duration: float) -> Result:
    n = 0
    start = time.perf_counter()
    end = start + duration
    while time.perf_counter() < end:
        for _ in range(100):
            t.insert({**DOC, "id": f"noreply-{n}"}).run(conn, noreply=True)
            n += 1
    t0 = time.perf_counter()
    conn.noreply_wait()
    wait_ms = (time.perf_counter() - t0) * 1000
    total = time.perf_counter() - start
    return Result("insert noreply + noreply_wait", n, total, 0.0, 0.0, wait_ms)


def main(argv: list[str] | None = None) -> int:
    p = base_parser(__doc__ or "")
    p.set_defaults(duration=3.0)
    args = p.parse_args(argv)
    with server(args.port) as port:
        conn = r.connect("127.0.0.1", port)
        if "bench" in r.db_list().run(conn):
            r.db_drop("bench").run(conn)
        r.db_create("bench").run(conn)
        r.db("bench").table_create("dur").run(conn)
        r.db("bench").table_create("dur_soft", durability="soft").run(conn)
        t = r.db("bench").table("dur")
        ts = r.db("bench").table("dur_soft")
        results = [
            measure("insert (single, hard)", lambda i: t.insert({**DOC, "id": i}, durability="hard").run(conn), args.duration),
            measure(
                "insert (single, soft)",
                lambda i: t.insert({**DOC, "id": 10_000_000 + i}, durability="soft").run(conn),
                args.duration,
            ),
            measure("insert (soft table option)", lambda i: ts.insert({**DOC, "id": i}).run(conn), args.duration),
            concurrent(port, "dur", "hard", 8, args.duration),
            concurrent(port, "dur", "soft", 8, args.duration),
            noreply_stream(conn, t, args.duration),
        ]
        r.db_drop("bench").run(conn)
        conn.close()
    print_table(results)
    print("(noreply row: p99 column is the time noreply_wait took to drain the stream)")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
