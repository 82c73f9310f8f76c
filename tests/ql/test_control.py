"""Control flow: branch, r.do, r.error, default, r.args and function arity."""

from __future__ import annotations

import pytest
from rethinkdb import r
from rethinkdb.errors import (
    ReqlCompileError,
    ReqlNonExistenceError,
    ReqlQueryLogicError,
    ReqlUserError,
)

EMPTY = "Empty ERROR term outside a default block."


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    """The message of the error ``q`` fails with (which must be an instance of ``cls``)."""
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


# -- branch ----------------------------------------------------------------------------


@pytest.mark.parametrize("pick", range(6))
def test_branch_with_many_branches(conn, pick):
    args = []
    for i in range(5):
        args += [r.expr(pick).eq(i), f"v{i}"]
    assert r.branch(*args, "else").run(conn) == (f"v{pick}" if pick < 5 else "else")


def test_branch_evaluates_only_the_chosen_value(conn):
    assert r.branch(False, r.error("no"), None, r.error("no"), "yes").run(conn) == "yes"
    assert r.branch(0, "zero is true", "no").run(conn) == "zero is true"
    assert r.branch(r.args([True, "ok"]), r.error("no")).run(conn) == "ok"
    # the r.args array itself is evaluated whole
    assert (
        error_of(conn, r.branch(r.args([False, r.error("in array")]), "ok"), ReqlUserError)
        == "in array"
    )
    assert error_of(conn, r.branch(r.args([True, 1, 2, 3]))) == (
        "Cannot call `branch` term with an even number of arguments."
    )
    assert error_of(conn, r.branch(r.args([True])), ReqlQueryLogicError) == (
        "Expected 3 or more arguments but found 1."
    )


# -- r.do and function arity ----------------------------------------------------------


def test_do_arity_rules(conn):
    assert r.do(1, 2, lambda: "ignored args").run(conn) == "ignored args"
    assert r.do(1, 2, 3).run(conn) == 3  # a datum stands for a constant function
    assert error_of(conn, r.do(1, lambda a, b: a)) == (
        "Expected function with 1 argument but found function with 2 arguments."
    )
    assert error_of(conn, r.do(1, 2, lambda a: a)) == (
        "Expected function with 2 arguments but found function with 1 argument."
    )


def test_do_arguments_must_be_datums(conn, db):
    r.db(db).table_create("t").run(conn)
    msg = error_of(conn, r.db(db).table("t").do(lambda t: 1))
    assert msg == 'Expected type DATUM but found TABLE:\ntable("t")'
    assert (
        error_of(conn, r.do(r.db(db), lambda d: 1))
        == f'Expected type DATUM but found DATABASE:\ndb("{db}")'
    )


def test_arity_from_r_args_is_a_runtime_error(conn):
    assert error_of(conn, r.expr([1]).append(r.args([1, 2]))) == "Expected 2 arguments but found 3."
    with pytest.raises(ReqlCompileError):
        r.expr([1]).append(1, 2).run(conn)
    assert r.expr([1]).append(r.args([2])).run(conn) == [1, 2]
    assert error_of(conn, r.expr([1]).append(r.args(2))) == "Expected type ARRAY but found NUMBER."


# -- r.error and default ---------------------------------------------------------------


def test_error_outside_default(conn):
    assert error_of(conn, r.error()) == EMPTY
    assert error_of(conn, r.error("boom"), ReqlUserError) == "boom"
    assert error_of(conn, r.error("boom").default(1), ReqlUserError) == "boom"
    assert error_of(conn, r.error().default(1)) == EMPTY


def test_default_catches_missing_fields_in_nested_functions(conn):
    rows = r.expr([{"a": {"b": 1}}, {"a": {}}, {}, {"a": None}])
    assert rows.map(lambda x: x["a"]["b"].default(0)).run(conn) == [1, 0, 0, 0]
    assert rows.map(lambda x: x["a"]["b"]).default("whole").run(conn) == "whole"
    assert rows.map(lambda x: r.do(x, lambda y: y["a"]["b"].default(-1))).run(conn) == [
        1,
        -1,
        -1,
        -1,
    ]
    nested = r.expr({"a": 1})["x"].default(r.expr({})["y"]).default("outer")
    assert nested.run(conn) == "outer"


def test_default_does_not_catch_other_errors(conn):
    assert error_of(conn, (r.expr("a") + 1).default(2)) == "Expected type STRING but found NUMBER."
    assert (r.expr(None) + 1).default(2).run(conn) == 2
    assert r.expr(None).default(5).run(conn) == 5
    assert r.expr(False).default(5).run(conn) is False


def test_default_function_gets_the_message_or_null(conn):
    assert r.expr({})["b"].default(lambda e: e).run(conn) == "No attribute `b` in object:\n{}"
    assert r.expr(None).default(lambda e: e).run(conn) is None
    assert r.expr({})["b"].default(lambda: "no args").run(conn) == "no args"
    assert error_of(conn, r.expr(None).default(lambda a, b: a)) == (
        "Expected function with 1 argument but found function with 2 arguments."
    )


def test_empty_error_in_default_rethrows(conn):
    assert r.expr(None).default(r.error()).run(conn) is None
    assert (
        error_of(conn, r.expr({"a": 1})["b"].default(r.error()), ReqlNonExistenceError)
        == 'No attribute `b` in object:\n{\n\t"a":\t1\n}'
    )
    assert (
        error_of(conn, r.expr(None)["x"].default(lambda e: r.error()), ReqlNonExistenceError)
        == "Cannot perform bracket on a non-object non-sequence `null`."
    )
    assert error_of(conn, r.expr({})["b"].default(r.error("custom")), ReqlUserError) == "custom"


# -- and / or ---------------------------------------------------------------------------


def test_and_or_return_values(conn):
    assert r.and_().run(conn) is True
    assert r.or_().run(conn) is False
    assert r.and_(1, "x").run(conn) == "x"
    assert r.or_(None, 0).run(conn) == 0
    assert r.or_(True, r.error("not evaluated")).run(conn) is True
    assert r.and_(False, r.error("not evaluated")).run(conn) is False


def test_function_shortcut_rules():
    from reqlite.errors import ReqlQueryLogicError as ServerLogicError
    from reqlite.ql.term import as_function

    assert as_function(5).arity == -1  # a constant function
    with pytest.raises(ServerLogicError) as info:
        as_function(5, shortcut=False)
    assert info.value.message == "Expected type FUNCTION but found DATUM:\n5"
