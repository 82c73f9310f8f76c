"""Per-document atomicity under concurrency, through the official driver.

Many clients updating the same document with ReQL functions must never lose an
update: ``apply_writes`` does compare-and-set through the single writer thread and
recomputes on conflict.
"""

from __future__ import annotations

import threading

from rethinkdb import r

CLIENTS = 20
INCREMENTS = 500


def _hammer(port: int, count: int, errors: list, fn) -> None:
    try:
        c = r.connect("127.0.0.1", port)
        try:
            for _ in range(count):
                res = fn().run(c)
                if res.get("replaced") != 1 or res.get("errors"):
                    errors.append(res)
                    return
        finally:
            c.close()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def _run_clients(server, count: int, fn) -> list:
    errors: list = []
    threads = [threading.Thread(target=_hammer, args=(server.port, count, errors, fn)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_increments_lose_nothing(server, conn, db):
    r.db(db).table_create("counter").run(conn)
    t = r.db(db).table("counter")
    t.insert({"id": 1, "n": 0}).run(conn)
    errors = _run_clients(server, INCREMENTS, lambda: t.get(1).update({"n": r.row["n"] + 1}))
    assert errors == []
    assert t.get(1)["n"].run(conn) == CLIENTS * INCREMENTS


def test_concurrent_increments_on_a_selection_with_return_changes(server, conn, db):
    """Two documents, updated through a selection, each change reported exactly once."""
    r.db(db).table_create("pair").run(conn)
    t = r.db(db).table("pair")
    t.insert([{"id": "a", "n": 0}, {"id": "b", "n": 0}]).run(conn)
    seen: list[int] = []
    lock = threading.Lock()

    def one():
        class Q:
            def run(self, c):
                res = t.filter(r.row["id"] == "a").update(
                    lambda d: {"n": d["n"] + 1}, return_changes=True, durability="soft"
                ).run(c)
                with lock:
                    seen.extend(ch["new_val"]["n"] for ch in res["changes"])
                return res

        return Q()

    errors = _run_clients(server, 50, one)
    assert errors == []
    total = CLIENTS * 50
    assert t.get("a")["n"].run(conn) == total
    assert t.get("b")["n"].run(conn) == 0
    # Every new value appears once: no two updates were computed on the same old value.
    assert sorted(seen) == list(range(1, total + 1))
