"""CRUD through the official driver: single insert, point get, batch insert (1,000 docs).

    python -m benchmarks.crud [--duration S] [--port PORT] [--json FILE]
"""

from __future__ import annotations

import sys

from rethinkdb import r

from .harness import base_parser, measure, print_table, server, write_json

DOC = {"name": "benchmark document", "tags": ["a", "b", "c"], "n": 0, "nested": {"x": 1.5, "y": "z"}}


def main(argv: list[str] | None = None) -> int:
    args = base_parser(__doc__ or "").parse_args(argv)
    with server(args.port) as port:
        conn = r.connect("127.0.0.1", port)
        if "bench" in r.db_list().run(conn):
            r.db_drop("bench").run(conn)
        r.db_create("bench").run(conn)
        r.db("bench").table_create("crud").run(conn)
        t = r.db("bench").table("crud")
        results = []
        results.append(measure("insert (single, hard)", lambda i: t.insert({**DOC, "id": i}).run(conn), args.duration))
        n = t.count().run(conn)
        results.append(measure("point get", lambda i: t.get(i % n).run(conn), args.duration))
        base = 10_000_000

        def batch(i: int) -> None:
            start = base + i * 1000
            t.insert([{**DOC, "id": start + k} for k in range(1000)]).run(conn)

        results.append(measure("insert (batch of 1000)", batch, args.duration, unit_per_op=1000, unit="docs"))
        r.db_drop("bench").run(conn)
        conn.close()
    print_table(results)
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
