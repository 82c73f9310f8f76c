"""Arrays: append/prepend, difference, set operations, positional edits and array_limit."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlNonExistenceError, ReqlQueryLogicError, ReqlResourceLimitError

LIMIT_MSG = (
    "Array over size limit `3`.  To raise the number of allowed elements, modify the "
    "`array_limit` option to `.run` (not available in the Data Explorer), or use an index."
)


def error_of(conn, q, cls=ReqlQueryLogicError, **opts) -> str:
    """The message of the error ``q`` fails with (which must be an instance of ``cls``)."""
    with pytest.raises(cls) as info:
        q.run(conn, **opts)
    return info.value.message


def test_append_prepend(conn):
    assert r.expr([1]).append([2]).run(conn) == [1, [2]]
    assert r.expr([]).prepend(None).run(conn) == [None]
    assert error_of(conn, r.expr("a").append(1)) == "Expected type ARRAY but found STRING."
    assert (
        error_of(conn, r.expr(None).prepend(1), ReqlNonExistenceError)
        == "Expected type ARRAY but found NULL."
    )
    assert r.expr({"a": [1]})["a"].append(2).default([]).run(conn) == [1, 2]


def test_array_limit_applies_to_built_arrays(conn):
    assert r.expr([1, 2]).append(3).run(conn, array_limit=3) == [1, 2, 3]
    for q in (
        r.expr([1, 2, 3]).append(4),
        r.expr([1, 2, 3]).prepend(0),
        r.expr([1, 2, 3]).insert_at(0, 0),
        r.expr([1, 2]).splice_at(1, [5, 6]),
        r.expr([1, 2]).set_union([3, 4]),
    ):
        assert error_of(conn, q, ReqlResourceLimitError, array_limit=3) == LIMIT_MSG


def test_set_operations_use_reql_equality(conn):
    assert r.expr([1, 1.0, 2]).set_insert(2.0).run(conn) == [1, 2]
    assert r.expr([{"a": 1}, {"a": 1}]).set_union([{"a": 1.0}, {"a": 2}]).run(conn) == [
        {"a": 1},
        {"a": 2},
    ]
    assert r.expr([True, 1]).set_insert(1).run(conn) == [True, 1]
    # intersection follows the second array's order, each element once
    assert r.expr([1, 2, 3]).set_intersection([3, 3, 1, 4]).run(conn) == [3, 1]
    assert r.expr([3, 1, 3, 2]).set_difference([2]).run(conn) == [3, 1]
    assert error_of(conn, r.expr([1]).set_union(1)) == "Expected type ARRAY but found NUMBER."
    assert error_of(conn, r.expr(1).set_insert(1)) == "Expected type ARRAY but found NUMBER."


def test_difference_keeps_duplicates_and_selections(conn, db):
    assert r.expr([1, 2, 2, 3, 1.0]).difference([1]).run(conn) == [2, 2, 3]
    assert r.expr([]).difference(r.error("not evaluated")).run(conn) == []
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i} for i in range(5)]).run(conn)
    assert sorted(t["id"].difference([0, 4]).run(conn)) == [1, 2, 3]
    # a selection stays a selection: it can be updated
    res = t.difference([{"id": 0}]).update({"x": 1}).run(conn)
    assert res["replaced"] == 4


def test_positional_edit_errors(conn):
    arr = r.expr([1, 2, 3])
    assert error_of(conn, arr.delete_at(3, 1)) == "Start index `3` is greater than end index `1`."
    assert (
        error_of(conn, arr.delete_at(0, 4), ReqlNonExistenceError)
        == "Index `4` out of bounds for array of size: `3`."
    )
    assert error_of(conn, arr.delete_at(0, -4), ReqlNonExistenceError) == "Index out of bounds: -4"
    assert error_of(conn, arr.change_at(-4, 0), ReqlNonExistenceError) == "Index out of bounds: -4"
    assert error_of(conn, arr.insert_at("1", 0)) == "Expected type NUMBER but found STRING."
    assert error_of(conn, r.expr("abc").insert_at(0, 1)) == "Expected type ARRAY but found STRING."
    assert arr.change_at(-1, 9).run(conn) == [1, 2, 9]
    assert arr.splice_at(-1, []).run(conn) == [1, 2, 3]
    assert arr.delete_at(-2, 3).run(conn) == [1]


def model_index(i: int, size: int) -> int | None:
    """RethinkDB's canonical index (None: before the start)."""
    if i >= 0:
        return i
    return None if -i > size else size + i


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.integers(0, 9), max_size=5),
    st.integers(-7, 7),
    st.sampled_from(["insert_at", "delete_at", "change_at", "splice_at"]),
)
def test_positional_edits_match_model(conn, arr, i, op):
    size = len(arr)
    gaps = op in ("insert_at", "splice_at")
    j = model_index(i, size + 1 if gaps else size)
    args = {
        "insert_at": (i, 100),
        "splice_at": (i, [100, 101]),
        "change_at": (i, 100),
        "delete_at": (i,),
    }[op]
    q = getattr(r.expr(arr), op)(*args)
    if j is None:
        assert error_of(conn, q, ReqlNonExistenceError) == f"Index out of bounds: {i}"
        return
    limit = size if gaps else size - 1
    if j > limit:
        assert (
            error_of(conn, q, ReqlNonExistenceError)
            == f"Index `{j}` out of bounds for array of size: `{size}`."
        )
        return
    want = list(arr)
    if op == "insert_at":
        want.insert(j, 100)
    elif op == "splice_at":
        want[j:j] = [100, 101]
    elif op == "change_at":
        want[j] = 100
    else:
        del want[j]
    assert q.run(conn) == want
