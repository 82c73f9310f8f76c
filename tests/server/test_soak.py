"""A short mixed-load soak: many clients doing everything at once, then the books must balance.

Two capacity bugs were found this way (exhausted LMDB reader slots, a feed closed before
its first read spinning the event loop); this keeps the mix in CI.
"""

from __future__ import annotations

import random
import threading
import time

from rethinkdb import r

from rawwire import handshake, read_response, send_query


def test_mixed_load_keeps_the_server_responsive_and_consistent(server, db):
    c = r.connect("127.0.0.1", server.port)
    r.db(db).table_create("s").run(c)
    t = r.db(db).table("s")
    t.index_create("g").run(c)
    t.index_wait().run(c)
    errors: list[str] = []
    inserted = [0] * 12

    def client(k: int) -> None:
        cc = r.connect("127.0.0.1", server.port)
        rnd = random.Random(k)
        end = time.time() + 4
        i = 0
        try:
            while time.time() < end:
                op = rnd.random()
                if op < 0.4:
                    t.insert({"id": f"{k}-{i}", "g": rnd.randrange(10), "n": 0}).run(cc, noreply=rnd.random() < 0.3)
                    i += 1
                elif op < 0.6 and i:
                    t.get(f"{k}-{rnd.randrange(i)}").update({"n": r.row["n"].default(0) + 1}).run(cc)
                elif op < 0.75:
                    list(t.get_all(rnd.randrange(10), index="g").limit(5).run(cc))
                elif op < 0.85:
                    t.between(f"{k}-", f"{k}-z").count().run(cc)
                else:
                    feed = t.changes().run(cc)  # opened and closed at once
                    feed.close()
            cc.noreply_wait()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        inserted[k] = i
        cc.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    # First a query over a socket with a timeout: a spinning server fails here, fast.
    s = handshake(server.port)
    send_query(s, 1, b"[1, [24, [1, 2]], {}]")
    assert read_response(s) == (1, {"t": 1, "r": [3]})
    s.close()
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    total = sum(inserted)
    assert t.count().run(c) == total
    assert t.map(lambda d: 1).count().run(c) == total
    assert sum(t.get_all(g, index="g").count().run(c) for g in range(10)) == total
    t0 = time.perf_counter()
    assert r.expr(1).run(c) == 1
    assert time.perf_counter() - t0 < 0.5  # nothing left spinning
    c.close()
