"""Aggregation: count, sum, avg, min, max, reduce, fold, group and ungroup — edge cases
beyond the polyglot suite, through the official driver."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlNonExistenceError, ReqlResourceLimitError

from reqlrun import err, run

EMPTY = "Cannot take the {0} of an empty stream.  (If you passed `{0}` a field name, it may be that no elements of the stream had that field.)"
AVG_EMPTY = (
    "Cannot take the average of an empty stream.  (If you passed `avg` a field name, it may be "
    "that no elements of the stream had that field.)"
)
INFINITE = (
    "Cannot use an infinite stream with an aggregation function (`reduce`, `count`, etc.) "
    "or coerce it to an array."
)
HYPO = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])




@pytest.fixture
def tbl(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i, "g": i % 3, "v": i * 10} for i in range(9)] + [{"id": 100, "g": 1}]).run(conn)
    return t


# -- count ---------------------------------------------------------------------------------


def test_count_of_values_and_sequences(conn, tbl):
    assert run(conn, r.expr("héllo").count()) == 5  # code points
    assert run(conn, r.binary(b"\x00\x01\x02").count()) == 3
    assert run(conn, r.expr({"a": 1, "b": 2}).count()) == 2
    assert run(conn, tbl.get(1).count()) == 3
    assert run(conn, tbl.count()) == 10
    assert run(conn, tbl.filter({"g": 1}).count()) == 4
    assert run(conn, r.range(5).count()) == 5
    assert err(conn, r.expr(5).count()) == "Cannot convert NUMBER to SEQUENCE"
    assert err(conn, r.range().count()) == INFINITE


def test_count_with_predicate_or_value(conn, tbl):
    assert run(conn, r.expr([1, 2, 1, "1"]).count(1)) == 2
    assert run(conn, r.expr([[1], [1.0], 1]).count([1])) == 2
    assert run(conn, tbl.count(lambda d: d["v"] > 40)) == 4  # missing v: non-existence = no
    assert run(conn, tbl.count(lambda d: {"g": 1})) == 4  # object literals are patterns
    assert run(conn, tbl.count({"g": 1})) == 0  # a value is compared whole


# -- sum, avg, min, max -----------------------------------------------------------------------


def test_sum_and_avg_skip_missing_fields(conn, tbl):
    assert run(conn, tbl.sum("v")) == 360
    assert run(conn, tbl.avg("v")) == 40
    assert run(conn, tbl.sum(lambda d: d["v"] / 10)) == 36
    assert run(conn, r.expr([{"a": 1}, {"a": None}, {}]).sum("a")) == 1  # null is skipped too
    assert run(conn, r.expr([0.1, 0.2]).sum()) == 0.30000000000000004
    assert run(conn, r.expr([1, 2]).avg()) == 1.5
    assert run(conn, r.expr([]).sum()) == 0
    assert err(conn, r.expr([1, "a"]).sum()) == "Expected type NUMBER but found STRING."
    assert err(conn, r.expr([{"a": "x"}]).avg("a")) == "Expected type NUMBER but found STRING."


def test_empty_aggregations_are_non_existence_errors(conn):
    assert err(conn, r.expr([]).avg(), ReqlNonExistenceError) == AVG_EMPTY
    assert err(conn, r.expr([{}]).avg("a"), ReqlNonExistenceError) == AVG_EMPTY
    assert err(conn, r.expr([]).min(), ReqlNonExistenceError) == EMPTY.format("min")
    assert err(conn, r.expr([{"b": 1}]).max("a"), ReqlNonExistenceError) == EMPTY.format("max")
    assert err(conn, r.expr([]).reduce(lambda a, b: a + b), ReqlNonExistenceError) == (
        "Cannot reduce over an empty stream."
    )
    assert run(conn, r.expr([]).max().default("none")) == "none"


def test_min_max_return_the_element_first_of_equals(conn, tbl):
    docs = r.expr([{"k": 2, "n": 1}, {"k": 1, "n": 2}, {"k": 1, "n": 3}, {"k": 2, "n": 4}])
    assert run(conn, docs.min("k")["n"]) == 2
    assert run(conn, docs.max("k")["n"]) == 1
    assert run(conn, docs.min(lambda d: d["k"] * -1)["n"]) == 1
    assert run(conn, r.expr([3, "a", None, [1]]).max()) == "a"  # ReQL order across types
    assert run(conn, r.expr([3, "a", None, [1]]).min()) == [1]
    assert run(conn, tbl.max("v")["id"]) == 8
    assert run(conn, tbl.min()["id"]) == 0  # a table: by primary key


def test_min_max_by_index_are_single_selections(conn, tbl):
    assert run(conn, tbl.max(index="id")["id"]) == 100
    assert run(conn, tbl.max(index="id").update({"top": True}))["replaced"] == 1
    assert run(conn, tbl.get(100)["top"]) is True
    assert err(conn, tbl.min(lambda d: d, index="id")) == (
        "Cannot provide both a function and an index to min."
    )
    assert err(conn, r.expr([1]).max(index="id")).startswith("Expected type TABLE but found DATUM:")


def test_min_by_index_of_empty_table(conn, db):
    r.db(db).table_create("e").run(conn)
    msg = err(conn, r.db(db).table("e").min(index="id"), ReqlNonExistenceError)
    assert msg == "`min` found no entries in the specified index."


# -- reduce, fold -------------------------------------------------------------------------------


def test_reduce(conn, tbl):
    assert run(conn, r.range(1, 5).reduce(lambda a, b: a * b)) == 24
    assert run(conn, tbl.map(r.row["id"]).reduce(lambda a, b: r.expr([a, b]).max())) == 100
    assert err(conn, r.expr([1, 2]).reduce(lambda a: a)).startswith("Expected function with 2 arguments")
    assert err(conn, r.range().reduce(lambda a, b: a)) == INFINITE


def test_fold(conn):
    assert run(conn, r.range(5).fold(0, lambda acc, x: acc + x)) == 10
    assert run(conn, r.range(5).fold(0, lambda acc, x: acc + x, final_emit=lambda acc: acc * 2)) == 20
    running = r.range(5).fold(0, lambda acc, x: acc + x, emit=lambda old, x, acc: [acc])
    assert run(conn, running) == [0, 1, 3, 6, 10]
    assert run(conn, running.type_of()) == "STREAM"
    pairs = r.expr(["a", "b"]).fold(0, lambda acc, x: acc + 1, emit=lambda old, x, acc: [[old, x]])
    assert run(conn, pairs) == [[0, "a"], [1, "b"]]
    both = r.range(3).fold(0, lambda acc, x: acc + x, emit=lambda o, x, a: [x], final_emit=lambda a: [a])
    assert run(conn, both) == [0, 1, 2, 3]
    infinite = r.range().fold(0, lambda acc, x: acc + 1, emit=lambda o, x, a: [a])
    assert run(conn, infinite.limit(3)) == [1, 2, 3]
    assert err(conn, r.range().fold(0, lambda acc, x: acc)) == INFINITE
    assert err(conn, r.range(2).fold(0, lambda a, x: a, emit=lambda o, x, a: a)) == (
        "Expected type ARRAY but found NUMBER."
    )


# -- group, ungroup --------------------------------------------------------------------------------


def test_group_keys(conn, tbl):
    assert run(conn, tbl.group("g").count()) == {0: 3, 1: 4, 2: 3}
    assert run(conn, tbl.group("v").count())[None] == 1  # missing field: the null group
    assert run(conn, tbl.group(lambda d: d["g"] * 2).count()) == {0: 3, 2: 4, 4: 3}
    raw = run(conn, tbl.group("g", lambda d: d["id"] > 4).count(), group_format="raw")
    assert raw["data"] == [[[0, False], 2], [[0, True], 1], [[1, False], 2], [[1, True], 2], [[2, False], 1], [[2, True], 2]]
    assert err(conn, tbl.group()) == "Cannot group by nothing."


def test_group_multi(conn):
    docs = r.expr([{"t": ["a", "b"]}, {"t": []}, {"t": "c"}, {"t": ["a"]}])
    assert run(conn, docs.group("t", multi=True).count()) == {"a": 2, "b": 1, None: 1, "c": 1}
    assert run(conn, docs.group("t").count(), group_format="raw")["data"] == [
        [[], 1],
        [["a"], 1],
        [["a", "b"], 1],
        ["c", 1],
    ]


def test_grouped_streams_transform_per_group(conn, tbl):
    g = tbl.group("g")
    assert run(conn, g.type_of()) == "GROUPED_STREAM"
    assert run(conn, g.map(r.row["id"]).sum()) == {0: 9, 1: 112, 2: 15}
    assert run(conn, g.filter(lambda d: d["id"] > 3).count()) == {0: 1, 1: 3, 2: 2}
    assert run(conn, g.concat_map(lambda d: [1, 2]).count()) == {0: 6, 1: 8, 2: 6}
    assert run(conn, g.count(lambda d: d["id"] > 3)) == {0: 1, 1: 3, 2: 2}
    assert run(conn, g.map(r.row["id"]).reduce(lambda a, b: a + b)) == {0: 9, 1: 112, 2: 15}
    # operations that are not grouped-aware see each group as an array
    assert run(conn, g.order_by(r.desc("id")).limit(1)["id"]) == {0: [6], 1: [100], 2: [8]}
    assert run(conn, g.map(r.row["id"]).nth(0)) == {0: 0, 1: 1, 2: 2}
    assert run(conn, g.coerce_to("array").type_of()) == "GROUPED_DATA"
    assert run(conn, g.count().type_of()) == "GROUPED_DATA"


def test_groups_without_accumulated_elements_are_dropped(conn, tbl):
    # group 1 has id 100 without `v`: it still has v values; a group with none is dropped
    docs = r.expr([{"g": 1, "v": 2}, {"g": 2}, {"g": 1}])
    assert run(conn, docs.group("g").sum("v")) == {1: 2}
    assert run(conn, docs.group("g").max("v")) == {1: {"g": 1, "v": 2}}
    assert run(conn, docs.group("g").count()) == {1: 2, 2: 1}


def test_ungroup_and_group_format(conn, tbl):
    res = run(conn, tbl.group("g").count().ungroup())
    assert res == [{"group": 0, "reduction": 3}, {"group": 1, "reduction": 4}, {"group": 2, "reduction": 3}]
    assert run(conn, tbl.group("g").ungroup().map(r.row["reduction"].count())) == [3, 4, 3]
    raw = run(conn, r.expr([3, 1, 2]).group(r.row.mod(2)), group_format="raw")
    assert raw == {"$reql_type$": "GROUPED_DATA", "data": [[0, [2]], [1, [3, 1]]]}
    assert err(conn, r.expr([1]).ungroup()).startswith("Expected type GROUPED_DATA but found DATUM:")


def test_grouped_data_limits(conn):
    msg = err(conn, r.range(10).group(r.row), ReqlResourceLimitError, array_limit=5)
    assert msg == "Too many groups (> 5)."
    msg = err(conn, r.range(10).group(r.row.mod(2)), ReqlResourceLimitError, array_limit=5)
    assert msg.startswith("Grouped data over size limit `5`.  Try putting a reduction")
    assert run(conn, r.range(10).group(r.row.mod(2)).count(), array_limit=5) == {0: 5, 1: 5}


def test_group_by_primary_index(conn, tbl):
    assert run(conn, tbl.group(index="id").count())[100] == 1
    assert run(conn, tbl.group("g", index="id").count(), group_format="raw")["data"][0] == [[0, 0], 1]
    assert err(conn, r.expr([1]).group(index="id")).startswith("Expected type TABLE but found DATUM:")


# -- properties ----------------------------------------------------------------------------------


@HYPO
@given(st.lists(st.integers(-1000, 1000), max_size=30))
def test_numeric_aggregates_match_python(conn, xs):
    got = run(conn, r.expr(xs).do(lambda a: [a.count(), a.sum(), a.max().default(None), a.min().default(None)]))
    assert got == [len(xs), sum(xs), max(xs, default=None), min(xs, default=None)]
    if xs:
        assert run(conn, r.expr(xs).avg()) == pytest.approx(sum(xs) / len(xs))


@HYPO
@given(st.lists(st.tuples(st.sampled_from(["a", "b", 1, None]), st.integers(0, 9)), max_size=30))
def test_group_count_and_sum_match_a_model(conn, rows):
    docs = [{"k": k, "n": n} for k, n in rows]
    raw = run(conn, r.expr(docs).group("k").count(), group_format="raw")
    counts = Counter(k for k, _ in rows)
    assert {repr(k): v for k, v in raw["data"]} == {repr(k): v for k, v in counts.items()}
    sums = run(conn, r.expr(docs).group("k").sum("n").ungroup(), group_format="raw")
    assert {repr(g["group"]): g["reduction"] for g in sums} == {
        repr(k): sum(n for kk, n in rows if kk == k) for k in counts
    }
