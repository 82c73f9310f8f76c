"""Scan benchmark: whole-table sequence queries through the official driver over loopback.

    python -m benchmarks.scan                    # 100k documents, 5 runs per query
    python -m benchmarks.scan --docs 20000 --repeats 3
    python -m benchmarks.scan --port 28015       # against a running server

Workloads over one table: filter+count, map+sum and group+count (terminals computed in
the server), a full scan streamed to the client, and the latency of ``limit(10)`` (the
first batch of a scan). Each reports documents per second (documents the query reads
per second of wall time) and latency percentiles over its runs, and the server's resident
memory after all of them.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rethinkdb import r

from .harness import (
    SERVER_PIDS,
    Result,
    base_parser,
    percentile,
    print_table,
    rss_mb,
    server,
    write_json,
)

DB = "bench_scan"
TABLE = "docs"


def load(conn: Any, n: int) -> None:
    """``n`` documents of ~100 bytes, generated server-side in batches of 10,000."""
    if DB in r.db_list().run(conn):
        r.db_drop(DB).run(conn)
    r.db_create(DB).run(conn)
    r.db(DB).table_create(TABLE).run(conn)
    t = r.db(DB).table(TABLE)
    for start in range(0, n, 10_000):
        docs = r.range(start, min(n, start + 10_000)).map(
            lambda i: {"id": i, "g": i % 10, "v": i % 1000, "name": r.expr("user-").add(i.coerce_to("string"))}
        )
        t.insert(docs, durability="soft").run(conn)


def timed_runs(name: str, run: Any, docs_per_run: int, repeats: int) -> Result:
    lat = []
    t0 = time.perf_counter()
    for _ in range(repeats):
        s = time.perf_counter()
        run()
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    lat.sort()
    return Result(
        name,
        docs_per_run * repeats,
        total,
        percentile(lat, 50) * 1000,
        percentile(lat, 95) * 1000,
        percentile(lat, 99) * 1000,
        "docs",
    )


def workloads(conn: Any, n: int, repeats: int) -> list[Result]:
    t = r.db(DB).table(TABLE)
    expected = {
        "filter+count": (t.filter(lambda d: d["v"] < 100).count(), n // 10),
        "map+sum": (t.map(lambda d: d["v"]).sum(), None),
        "group+count": (t.group("g").count(), None),
    }
    out = []
    for name, (query, want) in expected.items():
        got = query.run(conn)
        if want is not None and got != want:
            raise SystemExit(f"{name}: expected {want}, got {got}")
        out.append(timed_runs(f"scan {name}", lambda q=query: q.run(conn), n, repeats))

    def stream_all() -> None:
        count = sum(1 for _ in t.run(conn))
        if count != n:
            raise SystemExit(f"full scan: expected {n} documents, got {count}")

    out.append(timed_runs("scan to client (cursor)", stream_all, n, repeats))

    def first_batch() -> None:
        list(t.limit(10).run(conn))

    out.append(timed_runs("limit(10) of the table", first_batch, 10, max(20, repeats * 10)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=100_000, help="documents in the table (default 100k)")
    p.add_argument("--repeats", type=int, default=5, help="runs of each query (default 5)")
    args = p.parse_args(argv)
    with server(args.port) as port:
        conn = r.connect("127.0.0.1", port)
        t0 = time.perf_counter()
        load(conn, args.docs)
        print(f"loaded {args.docs:,} documents in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        results = workloads(conn, args.docs, args.repeats)
        rss = rss_mb(SERVER_PIDS.get(port))
        print_table(results)
        if rss is not None:
            print(f"server RSS after the scans: {rss:.0f} MiB")
        write_json(args.json, results, {"docs": args.docs, "server_rss_mb": rss})
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
