"""Types: coerce_to between every pair RethinkDB allows (and its errors), type_of, binary
data, r.uuid and r.random."""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlQueryLogicError

from reqlite.ql.terms.type_manip import string_to_number


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


def test_coerce_datums(conn):
    cases = [
        (r.expr([1, "a", {"b": None, "a": [True]}]).coerce_to("string"), '[1,"a",{"a":[true],"b":null}]'),
        (r.expr(1.5).coerce_to("STRING"), "1.5"),
        (r.expr(-0.0).coerce_to("string"), "-0.0"),
        (r.expr(None).coerce_to("string"), "null"),
        (r.expr({"b": 1, "a": 2}).coerce_to("array"), [["a", 2], ["b", 1]]),
        (r.expr([["a", 1], ["b", 2]]).coerce_to("object"), {"a": 1, "b": 2}),
        (r.expr("  -12.5e1").coerce_to("number"), -125),
        (r.expr("0x10").coerce_to("number"), 16),
        (r.expr(".5").coerce_to("number"), 0.5),
        (r.expr(None).coerce_to("bool"), False),
        (r.expr(0).coerce_to("bool"), True),
        (r.expr("é").coerce_to("binary"), "é".encode()),
        (r.binary("é".encode()).coerce_to("string"), "é"),
        (r.expr([1]).coerce_to("datum"), [1]),
        (r.expr(1).coerce_to("datum"), 1),
    ]
    for q, expected in cases:
        assert q.run(conn) == expected


def test_coerce_errors(conn):
    cases = [
        (r.expr("12 ").coerce_to("number"), "Could not coerce `12 ` to NUMBER."),
        (r.expr("1_0").coerce_to("number"), "Could not coerce `1_0` to NUMBER."),
        (r.expr("").coerce_to("number"), "Could not coerce `` to NUMBER."),
        (r.expr("-inf").coerce_to("number"), "Non-finite number: -inf"),
        (r.expr("nan").coerce_to("number"), "Non-finite number: nan"),
        (r.expr(1).coerce_to("foo"), "Unknown Type: FOO"),
        (r.expr(1).coerce_to("array"), "Cannot coerce NUMBER to ARRAY."),
        (r.expr({}).coerce_to("number"), "Cannot coerce OBJECT to NUMBER."),
        (r.binary(b"").coerce_to("array"), "Cannot coerce BINARY to ARRAY."),
        (r.expr("a").coerce_to("null"), "Cannot coerce STRING to NULL."),
        (r.db("test").coerce_to("array"), "Cannot coerce DB to ARRAY."),
        (r.expr([1]).coerce_to("object"), "Expected type ARRAY but found NUMBER."),
        (r.expr([[1, 2]]).coerce_to("object"), "Expected type STRING but found NUMBER."),
        (r.expr([["a"]]).coerce_to("object"), "Expected array of size 2, but got size 1."),
        (
            r.expr([["a", 1], ["a", 2]]).coerce_to("object"),
            'Duplicate key "a" in coerced object.  (got 1 and 2 as values)',
        ),
        (r.minval.coerce_to("string"), "Cannot convert `r.minval` to JSON."),
    ]
    for q, msg in cases:
        assert error_of(conn, q) == msg


def test_coerce_sequences(conn, db):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    t.insert([{"id": 1}, {"id": 2}]).run(conn)
    assert sorted(x["id"] for x in t.coerce_to("array").run(conn)) == [1, 2]
    assert t.map(lambda x: [r.expr("k").add(x["id"].coerce_to("string")), x["id"]]).coerce_to(
        "object"
    ).run(conn) == {"k1": 1, "k2": 2}
    assert t.coerce_to("bool").run(conn) is True
    assert sorted(t.map(lambda x: x["id"]).coerce_to("array").run(conn)) == [1, 2]
    assert t.get(1).coerce_to("object").run(conn) == {"id": 1}
    assert error_of(conn, t.coerce_to("number")) == "Cannot coerce TABLE to NUMBER."
    assert error_of(conn, t.map(lambda x: 1).coerce_to("string")) == "Cannot coerce STREAM to STRING."
    assert error_of(conn, t.coerce_to("selection<array>")) == (
        "Cannot coerce TABLE to SELECTION<ARRAY>."
    )
    assert t.map(lambda x: 1).type_of().run(conn) == "STREAM"


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_string_to_number_round_trips_repr(x):
    assert string_to_number(repr(x)) == x
    assert string_to_number(" \t" + format(x, ".17e")) == x


def test_type_of(conn):
    cases = [
        (r.expr(None), "NULL"),
        (r.expr(1.5), "NUMBER"),
        (r.binary(b""), "PTYPE<BINARY>"),
        (r.expr([]), "ARRAY"),
        (r.expr({}), "OBJECT"),
        (r.maxval, "MAXVAL"),
        (r.db("test"), "DB"),
    ]
    for q, name in cases:
        assert q.type_of().run(conn) == name


def test_binary(conn):
    raw = bytes(range(256)) * 2
    assert r.binary(raw).run(conn) == raw
    assert r.binary(raw).count().run(conn) == 512
    long = r.binary(b"\x00" * 60).run(conn, binary_format="raw")
    assert long["data"] == "A" * 76 + "\r\n" + "AAAA"  # RethinkDB's base64 line breaks
    assert r.binary(r.binary(b"x")).run(conn) == b"x"
    assert error_of(conn, r.binary(r.expr(1))) == "Expected type STRING but found NUMBER."
    assert r.binary(b"\x00").lt(r.binary(b"\x00\x00")).run(conn) is True
    assert (
        error_of(conn, r.expr({"$reql_type$": 1}))
        == 'Error: Field `$reql_type$` must be a string (got `1` of type NUMBER):\n{\n\t"$reql_type$":\t1\n}'
    )


def test_uuid(conn):
    a, b = r.expr([r.uuid(), r.uuid()]).run(conn)
    assert a != b and uuid.UUID(a).version == 4
    named = r.uuid("magic").run(conn)
    assert named == "97dd10a5-4fc4-554f-86c5-0d2c2e3d5330"
    assert uuid.UUID(r.uuid("").run(conn)).version == 5
    assert error_of(conn, r.uuid(1)) == "Expected type STRING but found NUMBER."


def test_random(conn):
    ints = r.expr(list(range(50))).map(lambda _: r.random(-3, 3)).run(conn)
    assert set(ints) <= set(range(-3, 3)) and all(isinstance(i, int) for i in ints)
    floats = r.expr(list(range(50))).map(lambda _: r.random(2, 1, float=True)).run(conn)
    assert all(1 < f <= 2 for f in floats)
    x = r.random(-1.7976931348623157e308, 1.7976931348623157e308, float=True).run(conn)
    assert math.isfinite(x)
    assert r.random(5, 5, float=True).run(conn) == 5
    assert error_of(conn, r.random(1.5)) == "Upper bound (1.5) could not be safely converted to an integer."
    assert error_of(conn, r.random(2**60)) == (
        "Upper bound (1152921504606846976) could not be safely converted to an integer."
    )
    assert error_of(conn, r.random(3, 1)) == "Lower bound (3) is not less than upper bound (1)."
    assert error_of(conn, r.random(float=False)) == (
        "Generating a random integer requires one or two bounds."
    )
    assert error_of(conn, r.random("a")) == "Expected type NUMBER but found STRING."


def test_random_and_uuid_are_not_deterministic():
    from reqlite.ql.compile import compile_term

    assert not compile_term([151, []]).is_deterministic()  # r.random()
    assert not compile_term([169, []]).is_deterministic()  # r.uuid()
    assert compile_term([169, ["x"]]).is_deterministic()  # r.uuid("x") is a hash
