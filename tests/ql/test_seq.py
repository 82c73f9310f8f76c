"""Sequences: transformations, slicing, ordering, union and selections — edge cases
beyond the polyglot suite, through the official driver."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import (
    ReqlNonExistenceError,
    ReqlOpFailedError,
    ReqlResourceLimitError,
    ReqlServerCompileError,
)

from reqlite.datum.order import compare
from reqlite.ql.terms.sort import sort_by_keys, sorted_datums
from reqlrun import err, run

LIMIT_MSG = "Array over size limit `{}`."




@pytest.fixture
def tbl(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": i, "a": i % 3, "s": f"k{i:02d}"} for i in range(12)]).run(conn)
    return t


# -- sequence types ------------------------------------------------------------------


def test_type_of_each_kind_of_sequence(conn, tbl):
    assert run(conn, tbl.type_of()) == "TABLE"
    assert run(conn, tbl.between(1, 3).type_of()) == "TABLE_SLICE"
    assert run(conn, tbl.order_by(index="id").type_of()) == "TABLE_SLICE"
    assert run(conn, tbl.filter({"a": 1}).type_of()) == "SELECTION<STREAM>"
    assert run(conn, tbl.limit(2).type_of()) == "SELECTION<STREAM>"
    assert run(conn, tbl.skip(2).type_of()) == "SELECTION<STREAM>"
    assert run(conn, tbl.order_by("s").type_of()) == "SELECTION<ARRAY>"
    assert run(conn, tbl.order_by("s").filter({"a": 1}).limit(1).type_of()) == "SELECTION<ARRAY>"
    assert run(conn, tbl.sample(2).type_of()) == "SELECTION<ARRAY>"
    assert run(conn, tbl.get(1).type_of()) == "SELECTION<OBJECT>"
    assert run(conn, tbl.order_by("s").nth(0).type_of()) == "SELECTION<OBJECT>"
    assert run(conn, tbl.map(r.row["id"]).type_of()) == "STREAM"
    assert run(conn, tbl.union(tbl).type_of()) == "STREAM"
    assert run(conn, tbl.distinct().type_of()) == "STREAM"
    assert run(conn, tbl.order_by("s").map(r.row["id"]).type_of()) == "ARRAY"
    assert run(conn, r.range(3).type_of()) == "STREAM"
    assert run(conn, r.expr([1, 2]).map(r.row).type_of()) == "ARRAY"


def test_sorted_selection_is_sent_as_an_array(conn, tbl):
    # SELECTION<ARRAY> comes back whole (SUCCESS_ATOM): a list, not a cursor
    res = tbl.order_by(r.desc("id")).limit(3).run(conn)
    assert isinstance(res, list)
    assert [d["id"] for d in res] == [11, 10, 9]


@pytest.mark.parametrize(
    ("make", "ids"),
    [
        (lambda t: t.filter({"a": 2}), [2, 5, 8, 11]),
        (lambda t: t.order_by("s").filter({"a": 2}), [2, 5, 8, 11]),
        (lambda t: t.between(2, 9).filter({"a": 2}), [2, 5, 8]),
        (lambda t: t.order_by(index=r.desc("id")).filter({"a": 2}).limit(2), [8, 11]),
        (lambda t: t.filter({"a": 2}).limit(3), [2, 5, 8]),
        (lambda t: t.order_by(r.desc("id")).skip(1).filter({"a": 2}), [2, 5, 8]),
        (lambda t: t.filter({"a": 2}).slice(1, 3), [5, 8]),
    ],
)
def test_writes_through_selections(conn, tbl, make, ids):
    assert run(conn, make(tbl).update({"w": True}))["replaced"] == len(ids)
    assert sorted(run(conn, tbl.filter({"w": True})["id"])) == ids


def test_single_selections_from_sequences_are_writable(conn, tbl):
    assert run(conn, tbl.order_by(r.desc("s")).nth(0).update({"top": 1}))["replaced"] == 1
    assert run(conn, tbl.get(11)["top"]) == 1
    assert run(conn, tbl.filter({"a": 0}).nth(-1).delete())["deleted"] == 1
    assert run(conn, tbl.get(9)) is None
    assert run(conn, tbl.min(index="id").update({"m": 1}))["replaced"] == 1
    assert run(conn, tbl.get(0)["m"]) == 1


def test_writes_to_non_selections_fail(conn, tbl):
    assert err(conn, tbl.map(r.row).update({"x": 1})).startswith("Expected type SELECTION but found")
    msg = err(conn, r.expr([{"id": 1}]).update({"x": 1}))
    assert msg.startswith("Expected type SELECTION but found DATUM:")


# -- map, filter, concat_map ------------------------------------------------------------


def test_map_results_must_be_datums(conn):
    assert err(conn, r.range(2).map(lambda x: r.range(x))).startswith(
        "Expected type DATUM but found SEQUENCE:"
    )
    assert err(conn, r.expr([1]).map(1)).startswith("Expected type FUNCTION but found DATUM:")


def test_map_arity_errors(conn):
    assert err(conn, r.expr([1]).map(lambda x, y: x)) == (
        "The function passed to `map` expects 2 arguments, but 1 sequence was found."
    )
    assert err(conn, r.map([1], [2], [3], lambda x: x)) == (
        "The function passed to `map` expects 1 argument, but 3 sequences were found."
    )


def test_multi_map_stops_at_the_shortest(conn):
    assert run(conn, r.range().map([5, 6], r.range(10, 20), lambda a, b, c: [a, b, c])) == [
        [0, 5, 10],
        [1, 6, 11],
    ]


def test_filter_object_patterns(conn):
    docs = r.expr([{"a": {"b": 1, "c": 2}, "n": 1}, {"a": {"b": 2}, "n": 2}, {"n": 3}])
    assert run(conn, docs.filter({"a": {"b": 1}})["n"]) == [1]  # nested patterns match partially
    assert run(conn, docs.filter({"a": r.literal({"b": 2})})["n"]) == [2]  # literal: exactly
    assert run(conn, docs.filter({"a": {"b": 1}}, default=True)["n"]) == [1, 3]  # missing field
    # an object returned by an expression that is not an object literal is just truthy
    assert run(conn, docs.filter(lambda d: d.merge({"z": 1}))["n"]) == [1, 2, 3]
    assert run(conn, docs.filter(lambda d: {"n": d["n"]})["n"]) == [1, 2, 3]
    assert err(conn, r.expr([1]).filter({"a": 1})) == "Expected type OBJECT but found NUMBER."


def test_filter_default(conn):
    docs = r.expr([{"a": 1}, {"b": 2}, {"a": 3}])
    assert run(conn, docs.filter(r.row["a"] > 1)) == [{"a": 3}]
    assert run(conn, docs.filter(r.row["a"] > 1, default=True)) == [{"b": 2}, {"a": 3}]
    assert run(conn, docs.filter(r.row["a"] > 1, default=lambda: True)) == [{"b": 2}, {"a": 3}]
    msg = err(conn, docs.filter(r.row["a"] > 1, default=r.error()), ReqlNonExistenceError)
    assert msg.startswith("No attribute `a` in object:")
    # other errors are not defaulted
    assert err(conn, docs.filter(lambda d: d["a"] + "x", default=True)).startswith("Expected type")


def test_concat_map(conn):
    assert run(conn, r.expr([1, 2]).concat_map(lambda x: r.range(x))) == [0, 0, 1]
    assert err(conn, r.expr([1]).concat_map(lambda x: x)) == "Cannot convert NUMBER to SEQUENCE"
    assert run(conn, r.range(3).concat_map(lambda x: [x, x]).limit(4)) == [0, 0, 1, 1]


def test_non_sequences_are_refused(conn, tbl):
    assert err(conn, r.expr(1).map(r.row)) == "Cannot convert NUMBER to SEQUENCE"
    assert err(conn, r.expr("s").filter(True)) == "Cannot convert STRING to SEQUENCE"
    assert err(conn, r.expr(None).limit(1), ReqlNonExistenceError) == "Cannot convert NULL to SEQUENCE"
    assert err(conn, tbl.get(1).map(r.row)) == "Cannot convert OBJECT to SEQUENCE"
    assert err(conn, r.db("test").map(r.row)).startswith("Expected type SEQUENCE but found DATABASE:")


# -- slices -------------------------------------------------------------------------------


def _model_slice(xs: list, lo: int, hi: int, lopen: bool, ropen: bool) -> list:
    def canon(i: int) -> tuple[int, bool]:
        if i >= 0:
            return i, False
        if -i > len(xs):
            return 0, True
        return len(xs) + i, False

    a, oob = canon(lo)
    if lopen and not oob:
        a += 1
    b, oob = canon(hi)
    if not ropen and not oob:
        b += 1
    return xs[a:b]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 8),
    lo=st.integers(-10, 10),
    hi=st.integers(-10, 10),
    lopen=st.booleans(),
    ropen=st.booleans(),
)
def test_array_slices_follow_rethinkdb_index_rules(conn, n, lo, hi, lopen, ropen):
    xs = list(range(n))
    q = r.expr(xs).slice(lo, hi, left_bound="open" if lopen else "closed", right_bound="open" if ropen else "closed")
    assert run(conn, q) == _model_slice(xs, lo, hi, lopen, ropen)


def test_slices_of_strings_and_binary(conn):
    assert run(conn, r.expr("héllo").slice(1, 3)) == "él"
    assert run(conn, r.expr("hello").slice(-3)) == "llo"
    assert run(conn, r.binary(b"hello").slice(1, -1)) == b"ell"
    assert err(conn, r.expr(1).slice(0)) == "Expected ARRAY, BINARY, or STRING, but found NUMBER."


def test_stream_slices_and_their_errors(conn):
    assert run(conn, r.range(10).slice(2, 5)) == [2, 3, 4]
    assert run(conn, r.range(10).slice(2, 5, left_bound="open", right_bound="closed")) == [3, 4, 5]
    assert run(conn, r.range().slice(3, 6)) == [3, 4, 5]
    assert run(conn, r.range(5).slice(3)) == [3, 4]
    assert err(conn, r.range(5).slice(-1)) == "Cannot use a negative left index on a stream."
    assert err(conn, r.range(5).slice(0, -2)) == "Cannot use a right index < -1 on a stream."
    assert err(conn, r.range(5).slice(0, -1)) == "Cannot slice to an open right index of -1 on a stream."
    assert err(conn, r.range(5).slice(0, 2, left_bound="x")) == (
        'Expected `open` or `closed` for optarg `left_bound` (got `"x"`).'
    )


def test_skip_is_slice_to_the_end(conn):
    assert run(conn, r.expr([1, 2, 3]).skip(1)) == [2, 3]
    assert run(conn, r.expr([1, 2, 3]).skip(-1)) == [3]  # slice(-1, -1, right_bound='closed')
    assert run(conn, r.range(5).skip(3)) == [3, 4]
    assert err(conn, r.range(5).skip(-1)) == "Cannot use a negative left index on a stream."
    assert run(conn, r.range().skip(5).limit(2)) == [5, 6]


def test_limit(conn):
    assert run(conn, r.range().limit(3)) == [0, 1, 2]
    assert run(conn, r.expr([1, 2]).limit(5)) == [1, 2]
    assert run(conn, r.range(3).limit(0)) == []
    assert err(conn, r.range(3).limit(-1)) == "LIMIT takes a non-negative argument (got -1)"
    assert err(conn, r.expr(5).limit(-1)) == "Cannot convert NUMBER to SEQUENCE"


def test_nth(conn, tbl):
    assert run(conn, r.expr([1, 2, 3]).nth(-1)) == 3
    assert err(conn, r.expr([1, 2, 3]).nth(3), ReqlNonExistenceError) == "Index out of bounds: 3"
    assert err(conn, r.expr([1, 2, 3]).nth(-4), ReqlNonExistenceError) == "Index out of bounds: -4"
    assert run(conn, r.range().nth(7)) == 7
    assert run(conn, r.range(4).nth(-1)) == 3
    assert err(conn, r.range(4).nth(-2)) == "Cannot use an index < -1 (-2) on a stream."
    assert err(conn, r.range(4).nth(4), ReqlNonExistenceError) == "Index out of bounds: 4"
    assert err(conn, r.range(4).nth(1.5)) == "Number not an integer: 1.5"
    assert err(conn, r.expr({"a": 1}).nth(0)) == "Expected type ARRAY but found OBJECT."
    assert run(conn, tbl.order_by("id").nth(-1)["id"]) == 11
    assert run(conn, r.range(5)[2]) == 2


def test_is_empty(conn, tbl):
    assert run(conn, r.range().is_empty()) is False
    assert run(conn, tbl.filter({"a": 7}).is_empty()) is True
    assert run(conn, r.expr([]).is_empty()) is True
    assert err(conn, r.expr({}).is_empty()) == "Cannot convert OBJECT to SEQUENCE"


# -- union, contains, offsets_of, sample --------------------------------------------------


def test_union(conn, tbl):
    assert run(conn, r.expr([1, 2]).union([3], [4, 5])) == [1, 2, 3, 4, 5]
    assert run(conn, r.union()) == []
    assert sorted(run(conn, r.range(3).union(r.range(2)))) == [0, 0, 1, 1, 2]
    assert run(conn, r.range(3).union(r.range(10, 12), interleave=False)) == [0, 1, 2, 10, 11]
    # an infinite stream does not starve the others when interleaving
    got = run(conn, r.range().union(r.expr(["x"]).union(r.range(0)), interleave=True).limit(2000))
    assert "x" in got
    merged = r.expr([{"n": 1}, {"n": 4}]).union([{"n": 2}, {"n": 3}], interleave="n")
    assert run(conn, merged) == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert run(conn, r.expr([1, 5]).union([2, 3], interleave=lambda x: x)) == [1, 2, 3, 5]
    assert run(conn, tbl.union(tbl).count()) == 24
    assert err(conn, r.expr([1]).union(2)) == "Cannot convert NUMBER to SEQUENCE"


def test_contains_has_bag_semantics(conn):
    assert run(conn, r.expr([1, 2, 1]).contains(1, 1)) is True
    assert run(conn, r.expr([1, 2]).contains(1, 1)) is False
    assert run(conn, r.expr([1, 2]).contains(lambda x: x > 1, 1)) is True
    assert run(conn, r.range().contains(100)) is True  # stops reading once satisfied
    assert run(conn, r.expr([]).contains()) is True
    assert run(conn, r.expr([1.0, [1]]).contains(1, [1.0])) is True


def test_offsets_of(conn):
    assert run(conn, r.expr(["a", "b", "a"]).offsets_of("a")) == [0, 2]
    assert run(conn, r.range(10).offsets_of(lambda x: x.mod(4).eq(0))) == [0, 4, 8]
    assert run(conn, r.range().offsets_of(lambda x: x > 5).limit(2)) == [6, 7]
    assert err(conn, r.expr([1]).offsets_of(r.db("test"))).startswith(
        "Expected type DATUM but found DATABASE:"
    )


def test_sample(conn, tbl):
    got = run(conn, r.range(100).sample(10))
    assert len(got) == 10 and len(set(got)) == 10 and all(0 <= x < 100 for x in got)
    assert sorted(run(conn, r.expr([1, 2, 3]).sample(5))) == [1, 2, 3]
    assert run(conn, r.range(3).sample(0)) == []
    assert err(conn, r.range(3).sample(-1)) == "Number of items to sample must be non-negative, got `-1`."
    assert run(conn, tbl.sample(3).update({"sampled": 1}))["replaced"] == 3


# -- r.range ---------------------------------------------------------------------------------


def test_range_forms_and_errors(conn):
    assert run(conn, r.range(3)) == [0, 1, 2]
    assert run(conn, r.range(-2, 1)) == [-2, -1, 0]
    assert run(conn, r.range(3, 3)) == []
    assert run(conn, r.range(2**53 - 2, 2**53)) == [2**53 - 2, 2**53 - 1]
    assert err(conn, r.range(1.5)) == "Number not an integer: 1.5"
    assert err(conn, r.range("a", 2)) == "Expected type NUMBER but found STRING."
    assert err(conn, r.range(1, 2, 3), ReqlServerCompileError) == (
        "Expected between 0 and 2 arguments but found 3."
    )
    infinite = (
        "Cannot use an infinite stream with an aggregation function (`reduce`, `count`, etc.) "
        "or coerce it to an array."
    )
    assert err(conn, r.range().map(r.row).count()) == infinite
    assert err(conn, r.range().order_by(r.row)) == infinite
    assert err(conn, r.range().distinct()) == infinite
    assert err(conn, r.range().coerce_to("array")) == infinite


# -- array_limit -----------------------------------------------------------------------------


def test_array_limit_is_enforced_where_arrays_are_built(conn, tbl):
    over = LIMIT_MSG.format(5)
    for q in [
        r.range(6).coerce_to("array"),
        r.range(6).order_by(r.row),
        r.range(6).distinct(),
        r.expr([1, 2, 3]).union([4, 5, 6]),
        r.expr([[1, 2, 3], [4, 5, 6]]).concat_map(r.row),
        r.expr([1, 2, 3, 4, 5, 6]),
        tbl.order_by("s"),
    ]:
        assert err(conn, q, ReqlResourceLimitError, array_limit=5).startswith(over)
    # lazy streams are not arrays: no limit
    assert run(conn, r.range(6).map(r.row).count(), array_limit=5) == 6
    assert len(run(conn, r.range(6), array_limit=5)) == 6
    # a query may raise the limit
    assert len(run(conn, r.range(150_000).coerce_to("array"), array_limit=200_000)) == 150_000
    msg = err(conn, r.range(100_001).coerce_to("array"), ReqlResourceLimitError)
    assert msg.startswith(LIMIT_MSG.format(100_000))


def test_array_limit_option_validation(conn):
    assert err(conn, r.expr(1), array_limit=0) == "Illegal array size limit `0`.  (Must be >= 1.)"


# -- order_by -----------------------------------------------------------------------------


def test_order_by_keys(conn):
    docs = r.expr([{"a": 2, "b": 1}, {"b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 0}])
    assert run(conn, docs.order_by("a")["b"]) == [2, 3, 1, 0]  # missing first, stable
    assert run(conn, docs.order_by(r.desc("a"))["b"]) == [1, 0, 3, 2]  # missing last
    assert run(conn, docs.order_by("a", "b")["b"]) == [2, 3, 0, 1]
    assert run(conn, docs.order_by("a", r.desc("b"))["b"]) == [2, 3, 1, 0]
    assert run(conn, docs.order_by(lambda d: d["b"] * -1)["b"]) == [3, 2, 1, 0]
    assert run(conn, docs.order_by(r.desc(lambda d: d["a"]))["b"]) == [1, 0, 3, 2]
    assert err(conn, docs.order_by()) == "Must specify something to order by."
    assert err(conn, docs.order_by(1)) == "Expected type STRING but found NUMBER."
    assert err(conn, r.expr([1]).order_by("a")) == "Cannot perform get_field on a non-object non-sequence `1`."


def test_order_by_index(conn, tbl):
    assert run(conn, tbl.order_by(index=r.desc("id")).limit(2)["id"]) == [11, 10]
    assert run(conn, tbl.between(3, 6).order_by(index=r.desc("id"))["id"]) == [5, 4, 3]
    assert run(conn, tbl.order_by(index="id").between(3, 5)["id"]) == [3, 4]
    assert err(conn, tbl.order_by(index="id").order_by(index="id")) == (
        "Cannot perform multiple indexed ORDER_BYs on the same table."
    )
    assert err(conn, tbl.filter({}).order_by(index="id")).startswith(
        "Indexed order_by can only be performed on a TABLE or TABLE_SLICE."
    )
    msg = err(conn, tbl.order_by(index="nope"), ReqlOpFailedError)
    assert msg.startswith("Index `nope` was not found on table")


def test_order_by_secondary_index(conn, tbl):
    tbl.index_create("a").run(conn)
    tbl.index_wait("a").run(conn)
    assert run(conn, tbl.order_by(index="a")["a"]) == [0] * 4 + [1] * 4 + [2] * 4
    assert run(conn, tbl.order_by(r.desc("id"), index="a")["id"].limit(3)) == [9, 6, 3]
    assert run(conn, tbl.order_by("id", index=r.desc("a"))["id"].limit(3)) == [2, 5, 8]
    assert run(conn, tbl.distinct(index="a")) == [0, 1, 2]
    assert run(conn, tbl.group(index="a").count()) == {0: 4, 1: 4, 2: 4}
    assert run(conn, tbl.max(index="a")["id"]) == 11
    assert run(conn, tbl.between(1, 2, index="a").order_by(r.desc("id"), index="a")["id"]) == [10, 7, 4, 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.integers(-5, 5),
            st.floats(-5, 5, allow_nan=False),
            st.text(max_size=3),
            st.booleans(),
            st.none(),
            st.lists(st.integers(0, 2), max_size=2),
        ),
        max_size=12,
    )
)
def test_order_by_matches_reql_order(conn, xs):
    got = run(conn, r.expr(xs).order_by(r.row))
    assert got == sorted(xs, key=functools.cmp_to_key(compare))


def test_sort_helpers_are_stable_and_reql_ordered():
    items = ["x", "y", "z", "w"]
    assert sort_by_keys(items, [[1, True, 1, None]], [False]) == ["y", "w", "x", "z"]
    assert sort_by_keys(items, [[1, 2, 1, 2]], [True]) == ["y", "w", "x", "z"]
    assert sorted_datums([2, "a", 1.5, [0], None]) == [[0], None, 1.5, 2, "a"]


# -- distinct ---------------------------------------------------------------------------------


def test_distinct(conn, tbl):
    assert run(conn, r.expr([3, 1.0, 1, "a", [1], [1]]).distinct()) == [[1], 1, 3, "a"]
    assert run(conn, tbl.map(r.row["a"]).distinct()) == [0, 1, 2]
    assert [d["id"] for d in run(conn, tbl.distinct())] == list(range(12))
    assert run(conn, tbl.distinct(index="id").limit(3)) == [0, 1, 2]
    assert err(conn, r.expr([1]).distinct(index="id")) == "Can only perform an indexed distinct on a TABLE."


# -- the pure-Python shortcut for simple functions -----------------------------------------

_OPS = ["eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "mod"]
_scalars = st.one_of(
    st.integers(-(2**54), 2**54),
    st.integers(-5, 5),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.text(max_size=2),
    st.booleans(),
    st.none(),
)
_values = st.one_of(_scalars, st.lists(st.integers(0, 3), max_size=2), st.just({"$reql_type$": "BINARY", "data": ""}))


def _expression(depth: int = 0) -> st.SearchStrategy:
    """Trees of ("const", v), ("field", name) and (op, left, right)."""
    leaves = st.one_of(st.tuples(st.just("const"), _scalars), st.tuples(st.just("field"), st.sampled_from(["a", "b", "zz"])))
    if depth >= 2:
        return leaves
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(_OPS), st.deferred(lambda: _expression(depth + 1)), st.deferred(lambda: _expression(depth + 1))),
    )


def _build(tree, d):
    if tree[0] == "const":
        return r.expr(tree[1])
    if tree[0] == "field":
        return d[tree[1]]
    return getattr(r, tree[0])(_build(tree[1], d), _build(tree[2], d))


async def _outcome(call, q, x):
    from reqlite.errors import ReqlError

    try:
        return ("ok", await call(q, x))
    except ReqlError as e:
        return (type(e).__name__, str(e))


@settings(max_examples=300, deadline=None)
@given(
    tree=st.tuples(st.sampled_from(_OPS), _expression(1), _expression(1)),
    doc=st.one_of(st.dictionaries(st.sampled_from(["a", "b"]), _values, max_size=2), _values),
)
@example(tree=("mod", ("const", 7), ("const", -3)), doc={})
@example(tree=("mod", ("field", "a"), ("const", 3)), doc={"a": -7})
@example(tree=("eq", ("field", "a"), ("const", 1)), doc={"a": True})
@example(tree=("mul", ("field", "a"), ("field", "a")), doc={"a": 2**40})
async def test_fast_path_agrees_with_evaluation(tree, doc):
    import json

    from rethinkdb.ast import ReQLEncoder

    from reqlite.datum.order import datum_eq
    from reqlite.ql.compile import compile_term
    from reqlite.ql.streams import fast_call1

    q = SimpleNamespace(array_limit=100_000)
    term = r.expr([]).map(lambda d: _build(tree, d))
    f = await compile_term(json.loads(ReQLEncoder().encode(term))).args[1].eval(q, {})
    fast = await _outcome(fast_call1(f), q, doc)
    slow = await _outcome(f.call1, q, doc)
    assert fast[0] == slow[0]
    if fast[0] == "ok":
        assert type(fast[1]) is type(slow[1]) and datum_eq(fast[1], slow[1])
    else:
        assert fast[1] == slow[1]
