"""Joins: inner_join, outer_join, eq_join and zip — edge cases beyond the polyglot suite."""

from __future__ import annotations

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlNonExistenceError, ReqlOpFailedError, ReqlQueryLogicError

from reqlrun import run

ZIP = "ZIP can only be called on the result of a join."



def err(conn, q, cls=ReqlQueryLogicError) -> str:
    with pytest.raises(cls) as info:
        run(conn, q)
    return info.value.message


@pytest.fixture
def tables(conn, db):
    r.db(db).table_create("people").run(conn)
    r.db(db).table_create("cities", primary_key="name").run(conn)
    people = r.db(db).table("people")
    cities = r.db(db).table("cities")
    people.insert(
        [
            {"id": 1, "name": "ann", "city": "oslo"},
            {"id": 2, "name": "bob", "city": "rome"},
            {"id": 3, "name": "cid", "city": "nowhere"},
            {"id": 4, "name": "dan"},
            {"id": 5, "name": "eve", "city": None},
            {"id": 6, "name": "fay", "city": {"not": "a key"}},
        ]
    ).run(conn)
    cities.insert([{"name": "oslo", "country": "no"}, {"name": "rome", "country": "it"}]).run(conn)
    return people, cities


def test_inner_join(conn):
    left = r.expr([{"a": 1}, {"a": 2}, {"a": 2}])
    right = r.expr([{"b": 2}, {"b": 3}, {"b": 2}])
    got = run(conn, left.inner_join(right, lambda x, y: x["a"] == y["b"]))
    assert got == [{"left": {"a": 2}, "right": {"b": 2}}] * 4
    assert run(conn, left.inner_join(right, lambda x, y: False)) == []
    assert run(conn, left.inner_join(right, lambda x, y: x["a"] == y["b"]).type_of()) == "ARRAY"
    # non-existence errors are not swallowed (RethinkDB's rewrite uses branch)
    msg = err(conn, left.inner_join(right, lambda x, y: x["zz"] == y["b"]), ReqlNonExistenceError)
    assert msg.startswith("No attribute `zz` in object:")


def test_outer_join_keeps_unmatched_left_rows(conn):
    left = r.expr([{"a": 1}, {"a": 2}])
    right = r.expr([{"b": 2}, {"c": 9}])
    got = run(conn, left.outer_join(right, lambda x, y: x["a"] == y["b"]))
    assert got == [{"left": {"a": 1}}, {"left": {"a": 2}, "right": {"b": 2}}]
    assert run(conn, left.outer_join(right, lambda x, y: x["a"] == y["b"]).zip()) == [{"a": 1}, {"a": 2, "b": 2}]


def test_joins_on_tables_are_lazy_streams(conn, tables):
    people, cities = tables
    q = people.inner_join(cities, lambda p, c: p["city"].default(None) == c["name"]).zip()
    assert run(conn, q.type_of()) == "STREAM"
    assert sorted(d["country"] for d in run(conn, q)) == ["it", "no"]
    assert run(conn, r.range().inner_join(r.expr([3, 5]), lambda a, b: a == b).limit(2)) == [
        {"left": 3, "right": 3},
        {"left": 5, "right": 5},
    ]


def test_eq_join(conn, tables):
    people, cities = tables
    got = run(conn, people.eq_join("city", cities).zip().order_by("id"))
    assert [(d["name"], d["country"]) for d in got] == [("oslo", "no"), ("rome", "it")]
    by_func = people.eq_join(lambda p: p["city"], cities).map(lambda j: j["left"]["id"])
    assert sorted(run(conn, by_func)) == [1, 2]
    assert run(conn, people.eq_join("city", cities, index="name").count()) == 2
    assert run(conn, people.eq_join("city", cities).type_of()) == "STREAM"


def test_eq_join_keeps_the_left_order(conn, tables):
    people, cities = tables
    rows = r.expr([{"c": "rome"}, {"c": "oslo"}, {"c": "rome"}])
    got = run(conn, rows.eq_join("c", cities, ordered=True)["right"]["country"])
    assert got == ["it", "no", "it"]


def test_eq_join_by_secondary_index(conn, tables):
    people, cities = tables
    people.index_create("city").run(conn)
    people.index_wait("city").run(conn)
    got = run(conn, cities.eq_join("name", people, index="city").zip().order_by("id"))
    assert [(d["id"], d["country"]) for d in got] == [(1, "no"), (2, "it")]


def test_eq_join_errors(conn, tables):
    people, cities = tables
    assert err(conn, people.eq_join("city", r.expr([1]))).startswith("Expected type TABLE but found DATUM:")
    msg = err(conn, people.eq_join("city", cities, index="nope"), ReqlOpFailedError)
    assert msg.startswith("Index `nope` was not found on table")


def test_zip(conn):
    assert run(conn, r.expr([{"left": {"a": 1}, "right": {"a": 2, "b": 3}}]).zip()) == [{"a": 2, "b": 3}]
    assert run(conn, r.expr([{"left": {"a": {"x": 1}}, "right": {"a": {"y": 2}}}]).zip()) == [
        {"a": {"x": 1, "y": 2}}
    ]
    assert err(conn, r.expr([{"right": 1}]).zip()) == ZIP
    assert err(conn, r.expr([1]).zip()) == ZIP
    assert run(conn, r.range(2).map(lambda i: {"left": {"i": i}}).zip()) == [{"i": 0}, {"i": 1}]
