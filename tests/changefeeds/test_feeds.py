"""Changefeeds through the official driver: what each kind of feed sends, and when."""

from __future__ import annotations

import threading
import time

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlQueryLogicError, ReqlTimeoutError


def take(cursor, n: int, wait: float = 2.0) -> list:
    return [cursor.next(wait=wait) for _ in range(n)]


def test_table_feed_sees_inserts_updates_deletes_in_order(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    feed = t.changes().run(conn)
    other = r.connect("127.0.0.1", conn.port)
    t.insert({"id": 1}).run(other)
    t.get(1).update({"v": 2}).run(other)
    t.get(1).delete().run(other)
    assert take(feed, 3) == [
        {"old_val": None, "new_val": {"id": 1}},
        {"old_val": {"id": 1}, "new_val": {"id": 1, "v": 2}},
        {"old_val": {"id": 1, "v": 2}, "new_val": None},
    ]
    with pytest.raises(ReqlTimeoutError):
        feed.next(wait=0.2)
    feed.close()
    other.close()


def test_start_answers_at_once_and_other_queries_keep_flowing(conn, db):
    r.db(db).table_create("t").run(conn)
    t0 = time.perf_counter()
    feed = r.db(db).table("t").changes().run(conn)
    assert time.perf_counter() - t0 < 0.5
    # while the feed waits for changes, the same connection answers other queries
    assert r.expr(41).add(1).run(conn) == 42
    feed.close()


def test_point_feed_with_initial_value_and_states(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert({"id": 7, "n": 1}).run(conn)
    feed = t.get(7).changes(include_initial=True, include_states=True).run(conn)
    assert take(feed, 3) == [{"state": "initializing"}, {"new_val": {"id": 7, "n": 1}}, {"state": "ready"}]
    t.insert({"id": 8}).run(conn)  # another document: not for this feed
    t.get(7).update({"n": 2}).run(conn)
    assert take(feed, 1) == [{"old_val": {"id": 7, "n": 1}, "new_val": {"id": 7, "n": 2}}]
    feed.close()


def test_filter_and_map_before_changes_apply_to_both_sides(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    feed = t.filter(r.row["n"] > 5).map(lambda d: d["n"]).changes().run(conn)
    t.insert([{"id": 1, "n": 1}, {"id": 2, "n": 10}]).run(conn)
    t.get(1).update({"n": 6}).run(conn)  # enters the filter
    t.get(2).update({"n": 0}).run(conn)  # leaves it
    got = take(feed, 3)
    assert got == [
        {"old_val": None, "new_val": 10},
        {"old_val": None, "new_val": 6},
        {"old_val": 10, "new_val": None},
    ]
    feed.close()


def test_between_and_get_all_feeds_only_see_their_documents(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("c").run(conn)
    t.index_wait("c").run(conn)
    rng = t.between(10, 20).changes().run(conn)
    by_index = t.get_all("red", index="c").changes().run(conn)
    t.insert([{"id": 5, "c": "red"}, {"id": 15, "c": "blue"}, {"id": 25, "c": "red"}]).run(conn)
    assert take(rng, 1) == [{"old_val": None, "new_val": {"id": 15, "c": "blue"}}]
    assert sorted(x["new_val"]["id"] for x in take(by_index, 2)) == [5, 25]
    with pytest.raises(ReqlTimeoutError):
        rng.next(wait=0.2)
    rng.close()
    by_index.close()


def test_top_n_feed(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.index_create("score").run(conn)
    t.index_wait("score").run(conn)
    t.insert([{"id": i, "score": i} for i in range(5)]).run(conn)
    feed = t.order_by(index=r.desc("score")).limit(2).changes(include_initial=True).run(conn)
    assert [x["new_val"]["id"] for x in take(feed, 2)] == [4, 3]
    t.insert({"id": 9, "score": 100}).run(conn)  # enters the top 2, pushes 3 out
    assert take(feed, 1) == [{"old_val": {"id": 3, "score": 3}, "new_val": {"id": 9, "score": 100}}]
    t.insert({"id": 10, "score": -1}).run(conn)  # not in the top: nothing
    with pytest.raises(ReqlTimeoutError):
        feed.next(wait=0.2)
    feed.close()


def test_squash_folds_changes_to_one_document(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert({"id": 1, "n": 0}).run(conn)
    feed = t.changes(squash=0.3).run(conn)
    for i in range(1, 6):
        t.get(1).update({"n": i}).run(conn)
    assert take(feed, 1) == [{"old_val": {"id": 1, "n": 0}, "new_val": {"id": 1, "n": 5}}]
    feed.close()


def test_queue_overflow_is_reported(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    feed = t.changes(changefeed_queue_size=10).run(conn)
    time.sleep(0.2)
    t.insert([{"id": i} for i in range(50)]).run(conn)
    first = feed.next(wait=2)
    # RethinkDB drops the whole backlog each time it exceeds the queue size (11 > 10)
    assert first == {"error": "Changefeed cache over array size limit, skipped 44 elements."}
    assert [x["new_val"]["id"] for x in take(feed, 6)] == list(range(44, 50))
    feed.close()


def test_changes_errors(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    with pytest.raises(ReqlQueryLogicError, match="non-deterministic"):
        t.map(lambda d: r.branch(r.random() > 0.5, d, d)).changes().run(conn)
    with pytest.raises(ReqlQueryLogicError, match="infinite stream"):
        t.changes().count().run(conn)


def test_closing_the_connection_ends_subscriptions(server, db):
    c = r.connect("127.0.0.1", server.port)
    r.db(db).table_create("t").run(c)
    feeds = [r.db(db).table("t").changes().run(c) for _ in range(5)]
    assert len(feeds) == 5
    c.close(noreply_wait=False)
    time.sleep(0.2)
    c2 = r.connect("127.0.0.1", server.port)
    # writes still work and are not slowed down by dead feeds
    t0 = time.perf_counter()
    r.db(db).table("t").insert([{"id": i} for i in range(100)]).run(c2)
    assert time.perf_counter() - t0 < 2
    c2.close()


def test_many_writers_one_feed_loses_nothing(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    feed = t.changes().run(conn)

    def writer(base: int) -> None:
        c = r.connect("127.0.0.1", conn.port)
        for i in range(50):
            t.insert({"id": base + i}).run(c)
        c.close()

    threads = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = {x["new_val"]["id"] for x in take(feed, 200)}
    assert len(got) == 200
    feed.close()
