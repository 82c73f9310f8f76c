"""Objects: field access, path selectors (pluck/without/has_fields/with_fields), merge
and r.literal, keys/values/r.object — edge cases beyond the polyglot suite."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlNonExistenceError, ReqlQueryLogicError

from reqlite.errors import ReqlQueryLogicError as ServerLogicError
from reqlite.ql.terms.obj import (
    drop_literals,
    has_paths,
    merge_datums,
    pathspec,
    project,
    unproject,
)

STRAY = (
    "Stray literal keyword found: literal is only legal inside of the object passed to "
    "merge or update and cannot nest inside other literals."
)
BINARY = {"$reql_type$": "BINARY", "data": "AAE="}


def run(conn, q, **opts):
    return q.run(conn, **opts)


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    """The message of the error ``q`` fails with (which must be an instance of ``cls``)."""
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


# -- merge and r.literal -------------------------------------------------------------


def test_merge_nested_literal_replaces_subobject(conn):
    doc = r.expr({"a": {"b": {"c": 1, "d": 2}, "x": 0}, "e": 5})
    assert run(conn, doc.merge({"a": {"b": r.literal({"z": 3})}})) == {
        "a": {"b": {"z": 3}, "x": 0},
        "e": 5,
    }


def test_merge_recursive_without_literal(conn):
    doc = r.expr({"a": {"b": {"c": 1, "d": 2}}})
    assert run(conn, doc.merge({"a": {"b": {"c": 9}}})) == {"a": {"b": {"c": 9, "d": 2}}}


def test_merge_valueless_literal_removes_field(conn):
    assert run(conn, r.expr({"a": 1, "b": 2}).merge({"a": r.literal()})) == {"b": 2}
    assert run(conn, r.expr({"b": 2}).merge({"a": r.literal()})) == {"b": 2}


def test_merge_literal_from_function_and_inside_arrays(conn):
    doc = r.expr({"a": {"b": 1}, "n": 2})
    assert run(conn, doc.merge(lambda d: {"a": r.literal(d["n"])})) == {"a": 2, "n": 2}
    assert run(conn, doc.merge({"l": [r.literal(1), r.literal()]})) == {
        "a": {"b": 1},
        "n": 2,
        "l": [1],
    }


def test_merge_literal_through_args(conn):
    q = r.expr({"a": {"b": 1}}).merge(r.args([{"a": r.literal({"c": 1})}]))
    assert run(conn, q) == {"a": {"c": 1}}


@pytest.mark.parametrize(
    "make",
    [
        lambda: r.literal(1),
        lambda: r.expr({"a": r.literal(1)}),
        lambda: r.expr({"a": 1}).merge(r.literal({"b": 1})),
        lambda: r.expr({"a": 1}).merge({"b": r.literal(r.literal(1))}),
        lambda: r.expr([1]).map(lambda x: {"a": r.literal(x)}),
        lambda: r.expr({"a": 1}).merge(lambda d: r.branch(True, {"a": r.literal(2)}, {})),
    ],
)
def test_stray_literals(conn, make):
    with pytest.raises(ReqlQueryLogicError, match="^Stray literal keyword found"):
        run(conn, make())


def test_merge_non_object_replaces_and_ptypes_refused(conn):
    assert run(conn, r.expr({"a": 1}).merge(5)) == 5
    assert run(conn, r.expr({"a": 1}).merge(5, {"b": 1})) == {"b": 1}
    assert (
        error_of(conn, r.expr({"a": 1}).merge(BINARY), ReqlQueryLogicError)
        == "Cannot merge objects of type `PTYPE<BINARY>`."
    )
    assert (
        error_of(conn, r.expr(BINARY).merge({"a": 1}), ReqlQueryLogicError)
        == "Cannot call `merge` on objects of type `PTYPE<BINARY>`."
    )


def test_merge_over_sequences(conn, db):
    rows = [{"id": 1, "a": 1}, {"id": 2, "a": 2}]
    assert run(conn, r.expr(rows).merge(lambda x: {"b": x["a"].mul(10)})) == [
        {"id": 1, "a": 1, "b": 10},
        {"id": 2, "a": 2, "b": 20},
    ]
    r.db(db).table_create("t").run(conn)
    r.db(db).table("t").insert(rows).run(conn)
    got = run(conn, r.db(db).table("t").merge({"c": 0}).order_by("id"))
    assert got == [{"id": 1, "a": 1, "c": 0}, {"id": 2, "a": 2, "c": 0}]
    assert (
        error_of(conn, r.expr([{"a": 1}, 1]).merge({"b": 2}), ReqlQueryLogicError)
        == "Cannot perform merge on a non-object non-sequence `1`."
    )
    assert (
        error_of(conn, r.expr([[{"a": 1}]]).merge({"b": 2}), ReqlQueryLogicError)
        == "Cannot perform merge on a sequence of sequences."
    )


# -- pluck / without with nested selectors --------------------------------------------


DOC = {"a": {"b": 1, "c": 2, "d": {"e": 3, "f": 4}}, "g": [{"h": 1, "i": 2}, {"h": 3}], "j": 5}


@pytest.mark.parametrize(
    ("sel", "want"),
    [
        (["j"], {"j": 5}),
        ([{"a": "b"}], {"a": {"b": 1}}),
        ([{"a": ["b", "c"]}], {"a": {"b": 1, "c": 2}}),
        ([{"a": {"d": "e"}}, "j"], {"a": {"d": {"e": 3}}, "j": 5}),
        ([{"a": True}], {"a": DOC["a"]}),
        ([{"a": "b"}, {"a": "c"}], {"a": {"b": 1, "c": 2}}),
        ([{"g": "h"}], {"g": [{"h": 1}, {"h": 3}]}),
        ([{"j": "x"}], {}),
        ([["j", ["a"]]], {"j": 5, "a": DOC["a"]}),
        (["missing"], {}),
    ],
)
def test_pluck_selectors(conn, sel, want):
    assert run(conn, r.expr(DOC).pluck(*sel)) == want


@pytest.mark.parametrize(
    ("sel", "want"),
    [
        (["j"], {"a": DOC["a"], "g": DOC["g"]}),
        ([{"a": "b"}], {**DOC, "a": {"c": 2, "d": {"e": 3, "f": 4}}}),
        ([{"a": {"d": "e"}}, "g"], {"a": {"b": 1, "c": 2, "d": {"f": 4}}, "j": 5}),
        ([{"g": "h"}], {**DOC, "g": [{"i": 2}, {}]}),
        ([{"j": "x"}], DOC),
    ],
)
def test_without_selectors(conn, sel, want):
    assert run(conn, r.expr(DOC).without(*sel)) == want


@pytest.mark.parametrize("bad", [1, False, None])
def test_invalid_path_arguments(conn, bad):
    printed = {1: "1", False: "false", None: "null"}[bad]
    assert (
        error_of(conn, r.expr(DOC).pluck({"a": bad}), ReqlQueryLogicError)
        == f"Invalid path argument `{printed}`."
    )
    assert (
        error_of(conn, r.expr(DOC).without(bad), ReqlQueryLogicError)
        == f"Invalid path argument `{printed}`."
    )


def test_selector_arguments_not_evaluated_on_empty_sequence(conn):
    assert run(conn, r.expr([]).pluck(r.error("never"))) == []


# -- has_fields / with_fields ------------------------------------------------------------


def test_has_fields_null_nested_and_sequences(conn):
    obj = r.expr({"a": None, "b": {"c": 1}, "d": [1]})
    assert run(conn, obj.has_fields("a")) is False
    assert run(conn, obj.has_fields({"b": "c"})) is True
    assert run(conn, obj.has_fields({"b": {"c": True}})) is True
    assert run(conn, obj.has_fields({"d": "x"})) is False
    assert run(conn, obj.has_fields()) is True
    rows = r.expr([{"a": 1}, {"b": 1}, None, {"a": None}])
    assert run(conn, rows.has_fields("a")) == [{"a": 1}]
    assert (
        error_of(conn, r.expr([{"a": 1}, 1]).has_fields("a"), ReqlQueryLogicError)
        == "Cannot perform has_fields on a non-object non-sequence `1`."
    )


def test_with_fields(conn, db):
    rows = [{"id": 1, "a": 1, "b": 2}, {"id": 2, "a": None}, {"id": 3, "b": 3}]
    assert run(conn, r.expr(rows).with_fields("id", "a")) == [{"id": 1, "a": 1}]
    assert run(conn, r.expr(rows).with_fields(["id", "b"])) == [
        {"id": 1, "b": 2},
        {"id": 3, "b": 3},
    ]
    r.db(db).table_create("t").run(conn)
    r.db(db).table("t").insert(rows).run(conn)
    got = run(conn, r.db(db).table("t").with_fields("id", "b").order_by("id"))
    assert got == [{"id": 1, "b": 2}, {"id": 3, "b": 3}]
    # RethinkDB rewrites with_fields as has_fields(...).pluck(...), so on an object:
    assert (
        error_of(conn, r.expr({"a": 1}).with_fields("a"), ReqlQueryLogicError)
        == "Cannot perform pluck on a non-object non-sequence `true`."
    )


# -- get_field / bracket -----------------------------------------------------------------


def test_get_field_over_sequences_skips_missing(conn, db):
    rows = [{"id": 1, "a": 1}, {"id": 2}, {"id": 3, "a": None}, None]
    assert run(conn, r.expr(rows)["a"]) == [1, None]
    assert run(conn, r.expr(rows).get_field("a")) == [1, None]
    assert (
        error_of(conn, r.expr([{"a": 1}, 2])["a"], ReqlQueryLogicError)
        == "Cannot perform bracket on a non-object non-sequence `2`."
    )
    assert (
        error_of(conn, r.expr([[{"a": 1}]]).get_field("a"), ReqlQueryLogicError)
        == "Cannot perform get_field on a sequence of sequences."
    )
    r.db(db).table_create("t").run(conn)
    r.db(db).table("t").insert(rows[:3]).run(conn)
    assert sorted(run(conn, r.db(db).table("t")["id"])) == [1, 2, 3]


def test_field_errors_are_typed(conn):
    assert (
        error_of(conn, r.expr({"a": 1})["b"], ReqlNonExistenceError)
        == 'No attribute `b` in object:\n{\n\t"a":\t1\n}'
    )
    assert (
        error_of(conn, r.expr(None)["a"], ReqlNonExistenceError)
        == "Cannot perform bracket on a non-object non-sequence `null`."
    )
    assert (
        error_of(conn, r.expr("s")["a"], ReqlQueryLogicError)
        == 'Cannot perform bracket on a non-object non-sequence `"s"`.'
    )
    assert (
        error_of(conn, r.expr(BINARY)["data"], ReqlQueryLogicError)
        == "Cannot call `bracket` on objects of type `PTYPE<BINARY>`."
    )
    assert (
        error_of(conn, r.expr({"a": 1})[r.expr(None)], ReqlNonExistenceError)
        == "Expected NUMBER or STRING as second argument to `bracket` but found NULL."
    )
    assert (
        error_of(conn, r.expr({"a": 1})[r.expr(True)], ReqlQueryLogicError)
        == "Expected NUMBER or STRING as second argument to `bracket` but found BOOL."
    )
    assert run(conn, r.expr(None)["a"].default("d")) == "d"
    assert run(conn, r.expr([10, 20, 30])[-1]) == 30


# -- keys, values, r.object ---------------------------------------------------------------


def test_keys_values_sorted(conn):
    obj = {"b": 2, "a": 1, "é": 3, "C": 0}
    assert run(conn, r.expr(obj).keys()) == ["C", "a", "b", "é"]
    assert run(conn, r.expr(obj).values()) == [0, 1, 2, 3]
    for term in ("keys", "values"):
        assert (
            error_of(conn, getattr(r.expr(1), term)(), ReqlQueryLogicError)
            == f"Cannot call `{term}` on objects of type `NUMBER`."
        )
        assert (
            error_of(conn, getattr(r.expr(BINARY), term)(), ReqlQueryLogicError)
            == f"Cannot call `{term}` on objects of type `PTYPE<BINARY>`."
        )


def test_r_object(conn):
    assert run(conn, r.object("a", 1, "b", [2])) == {"a": 1, "b": [2]}
    assert run(conn, r.object()) == {}
    assert (
        error_of(conn, r.object("a", 1, "b"), ReqlQueryLogicError)
        == "OBJECT expects an even number of arguments (but found 3)."
    )
    assert (
        error_of(conn, r.object("a", 1, "a", 2), ReqlQueryLogicError)
        == "Duplicate key `a` in object.  (got `1` and `2` as values)"
    )
    assert (
        error_of(conn, r.object(1, 1), ReqlQueryLogicError)
        == "Expected type STRING but found NUMBER."
    )
    with pytest.raises(ReqlQueryLogicError, match="^Stray literal keyword found"):
        run(conn, r.object("$reql_type$", "LITERAL", "value", 1))


# -- the pure helpers, against simple models ------------------------------------------------

keys = st.sampled_from(["a", "b", "c"])
leaves = st.one_of(st.integers(-3, 3), st.none(), st.text("xy", max_size=2))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=12,
)
objects = st.dictionaries(keys, values, max_size=3)


@settings(max_examples=200, deadline=None)
@given(objects, st.lists(keys, max_size=3))
def test_pluck_and_without_of_flat_fields_partition(obj, fields):
    ps = pathspec(fields)
    kept = project(obj, ps)
    dropped = unproject(obj, ps)
    assert kept == {k: v for k, v in obj.items() if k in fields}
    assert dropped == {k: v for k, v in obj.items() if k not in fields}
    assert has_paths(obj, ps) == all(obj.get(k) is not None for k in fields)


@settings(max_examples=200, deadline=None)
@given(objects, objects)
def test_merge_without_literals_is_recursive_update(a, b):
    def model(x, y):
        if not isinstance(x, dict) or not isinstance(y, dict):
            return y
        out = dict(x)
        for k, v in y.items():
            out[k] = model(out[k], v) if k in out and isinstance(v, dict) else v
        return out

    assert merge_datums(a, b) == model(a, b)
    assert drop_literals(b) == b


def test_pathspec_shapes_and_errors():
    assert pathspec(["a"]) == "a"
    assert pathspec([{"a": True, "b": "c"}]) == ["a", {"b": "c"}]
    assert pathspec([{"a": True}]) == "a"
    with pytest.raises(ServerLogicError, match="Invalid path argument `false`"):
        pathspec([{"a": False}])
