"""Strings: match (RE2, byte offsets), split in all its forms, ASCII-only case changes,
string/binary slicing rules, r.json and to_json_string."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb import ast as rdb_ast
from rethinkdb import r
from rethinkdb.errors import ReqlQueryLogicError

from reqlite.datum.binary import binary_bytes, make_binary
from reqlite.ql.terms.string import slice_binary, slice_bounds, slice_string, split


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


def test_match_reports_byte_offsets(conn):
    m = r.expr("héllo wörld").match("w(ö)(x)?r").run(conn)
    assert m == {
        "str": "wör",
        "start": 7,
        "end": 11,
        "groups": [{"str": "ö", "start": 8, "end": 10}, None],
    }
    assert r.expr("abc").match("^$").run(conn) is None
    assert r.expr("").match("^$").run(conn) == {"str": "", "start": 0, "end": 0, "groups": []}


def test_match_uses_re2_syntax(conn):
    assert r.expr("ABC").match("(?i)b").run(conn)["str"] == "B"
    assert r.expr("a1").match(r"\pL\d").run(conn)["str"] == "a1"
    msg = error_of(conn, r.expr("x").match("(a"))
    assert msg == "Error in regexp `(a` (portion `(a`): missing ): (a"
    # backreferences are not RE2
    assert error_of(conn, r.expr("aa").match(r"(a)\1")).startswith("Error in regexp `(a)\\1`")
    assert error_of(conn, r.expr(1).match("a")) == "Expected type STRING but found NUMBER."


def test_case_changes_are_ascii_only(conn):
    assert r.expr("héllo ß Ω").upcase().run(conn) == "HéLLO ß Ω"
    assert r.expr("HÉLLO Ω").downcase().run(conn) == "hÉllo Ω"


def test_split_forms(conn):
    assert r.expr("a  b\u3000c\u200b").split().run(conn) == ["a", "b", "c\u200b"]
    assert r.expr("e\u0301a").split("").run(conn) == ["e\u0301", "a"]
    assert r.expr("a,b,,c").split(",", 1).run(conn) == ["a", "b,,c"]
    assert r.expr("a,b").split(",", 0).run(conn) == ["a,b"]
    assert r.expr("  a b  ").split(None, 0).run(conn) == ["a b  "]
    assert r.expr("abc").split("", 1).run(conn) == ["a", "bc"]
    assert r.expr("x").split(",", -1).run(conn) == ["x"]
    assert (
        error_of(conn, r.expr("a").split(",", -2))
        == "Error: `split` size argument must be in range [-1, 99999]."
    )
    assert error_of(conn, r.expr("a").split(1)) == "Expected type STRING but found NUMBER."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab, ", max_size=12), st.sampled_from([",", "b", ", ", "ab"]))
def test_split_on_a_delimiter_is_pythons(s, delim):
    assert split(s, delim, -1) == s.split(delim)
    for n in range(4):
        assert split(s, delim, n) == s.split(delim, n)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \t\n", max_size=12))
def test_split_on_whitespace_is_pythons(s):
    assert split(s, None, -1) == s.split()
    for n in range(4):
        assert split(s, None, n) == s.split(None, n)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 8), st.integers(-10, 10), st.integers(-10, 10), st.booleans(), st.booleans())
def test_slice_bounds(size, left, right, left_open, right_open):
    lo, hi = slice_bounds(size, left_open, left, right_open, right)
    assert 0 <= lo <= hi <= size
    items = list(range(size))
    # reference: resolve negative indexes, clamp the left end, apply the bounds' openness
    def resolve(i, is_open, is_left):
        if i < 0:
            if -i > size:
                return 0
            i += size
        return i + 1 if is_open == is_left else i
    ref_lo = resolve(left, left_open, True)
    ref_hi = min(resolve(right, right_open, False), size)
    assert items[lo:hi] == items[ref_lo:ref_hi]


def test_slice_helpers():
    assert slice_string("こんにちは", False, 1, False, -1) == "んにちは"
    assert slice_string("hello", False, -4, True, 3) == "el"
    assert slice_string("hello", False, 10, True, 20) == ""
    b = make_binary(b"abcdefg")
    assert binary_bytes(slice_binary(b, False, -9, True, 2)) == b"ab"
    assert binary_bytes(slice_binary(b, True, 0, False, 2)) == b"bc"


def test_json(conn):
    assert r.json('{"a":[1,2.5,null,true],"b":{"c":"d"}}').run(conn) == {
        "a": [1, 2.5, None, True],
        "b": {"c": "d"},
    }
    assert r.json('"\\ud83d\\ude00"').run(conn) == "\U0001f600"
    cases = {
        "[1,2": "Missing a comma or ']' after an array element.",
        '{"a":1': "Missing a comma or '}' after an object member.",
        "{1:2}": "Missing a name for object member.",
        "": "The document is empty.",
        "tru": "Invalid value.",
        "1.": "Miss fraction part in number.",
        "1e+": "Miss exponent in number.",
        "1e999": "Number too big to be stored in double.",
        '"\\x"': "Invalid escape character in string.",
        '"\\u12g4"': "Incorrect hex digit after \\u escape in string.",
        '"abc': "Missing a closing quotation mark in string.",
        "[] []": "The document root must not be followed by other values.",
    }
    for text, why in cases.items():
        assert error_of(conn, r.json(text)) == f'Failed to parse "{text}" as JSON: {why}'
    long = "[" + "1," * 30 + "x]"
    assert error_of(conn, r.json(long)) == f'Failed to parse "{long[:37]}..." as JSON: Invalid value.'
    assert error_of(conn, r.json('{"a":1,"a":2}')) == 'Duplicate key "a" in JSON.'
    assert r.json('{"$reql_type$":"BINARY","data":"AAE="}').run(conn) == b"\x00\x01"
    assert error_of(conn, r.json("1\u0000")) == "Encountered unescaped null byte in JSON string."


def test_to_json_string(conn):
    v = {"b": [1, 2.5, None], "a": "é\n"}
    assert r.expr(v).to_json().run(conn) == '{"a":"é\\n","b":[1,2.5,null]}'
    assert r.expr(1e21).to_json_string().run(conn) == "1e21"
    assert r.binary(b"\x00\x01").to_json().run(conn) == '{"$reql_type$":"BINARY","data":"AAE="}'
    assert error_of(conn, r.expr([r.minval]).to_json()) == "Cannot convert `r.minval` to JSON."


class _Format(rdb_ast.RqlTopLevelQuery):
    """``r.format`` (term 197) is newer than the published driver."""

    term_type = 197
    statement = "format"


def test_format(conn):
    assert _Format("{a}-{b}-{c}", {"a": "x", "b": 1.5, "c": [1, None]}).run(conn) == 'x-1.5-[1,null]'
    assert error_of(conn, _Format("{a", {"a": 1})) == "Parameter tag must be closed"
    assert error_of(conn, _Format("{a}", r.expr([]))) == "Expected type OBJECT but found ARRAY."
