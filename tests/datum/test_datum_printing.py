"""Printed forms: numbers as RethinkDB (RapidJSON) prints them, compact JSON, pretty print,
``%.20g`` messages, and RethinkDB's base64."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqlite.datum.binary import decode_base64, encode_base64, make_binary, sanitize_binary
from reqlite.datum.printing import format_g20, format_number, print_datum, to_json_string
from reqlite.datum.types import MINVAL_DATUM, checked_int, num
from reqlite.errors import ReqlQueryLogicError

finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=2000, deadline=None)
@given(finite)
def test_format_number_round_trips(x):
    s = format_number(num(x))
    assert float(s) == x
    assert math.copysign(1, float(s)) == math.copysign(1, x)


@settings(max_examples=2000, deadline=None)
@given(finite)
def test_format_number_layout(x):
    s = format_number(num(x))
    if x == 0:
        assert s == ("-0.0" if math.copysign(1, x) < 0 else "0")
        return
    if x.is_integer() and abs(x) <= 2**53:
        assert s == str(int(x))  # integers print plainly
        return
    mantissa, _, exp = s.lstrip("-").partition("e")
    if 1e-6 <= abs(x) < 1e21:
        assert not exp and "." in mantissa  # plain decimal notation, ".0" on integral values
    else:
        assert exp and "+" not in exp and re.fullmatch(r"-?[1-9][0-9]*", exp)
        assert re.fullmatch(r"[1-9](\.[0-9]*[1-9])?", mantissa)
    # rapidjson's Grisu2 digits: never shorter than the shortest round-trip digits (Python's
    # repr), and at most 17 (they are not always the shortest, see datum/grisu.py)
    digits = lambda t: re.sub(r"e.*|[-.]", "", t).strip("0")  # noqa: E731
    assert len(digits(repr(x))) <= len(digits(s)) <= 17


@pytest.mark.parametrize(
    "x,expected",
    [
        (1, "1"),
        (-7, "-7"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000.0"),
        (1e21, "1e21"),
        (1.5e300, "1.5e300"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.25e-7, "1.25e-7"),
        (2.0**60, "1152921504606847000.0"),
        (40007862.917250894, "40007862.917250897"),  # Grisu2: not the closest digits
        (-0.0, "-0.0"),
        (0, "0"),
    ],
)
def test_format_number_examples(x, expected):
    assert format_number(x) == expected


def test_format_g20():
    assert format_g20(1.5) == "1.5"
    assert format_g20(1.1) == "1.1000000000000000888"
    assert format_g20(9007199254740994.0) == "9007199254740994"
    assert format_g20(math.inf) == "inf" and format_g20(-math.inf) == "-inf"
    assert format_g20(math.nan) == "nan" and format_g20(-math.nan) == "-nan"


def test_checked_int():
    assert checked_int(3.0) == 3 and checked_int(-(2.0**53)) == -(2**53)
    for value, msg in [
        (1.5, "Number not an integer: 1.5"),
        (2.0**53 + 2, "Number not an integer (>2^53): 9007199254740994"),
        (-(2.0**53) - 2, "Number not an integer (<-2^53): -9007199254740994"),
    ]:
        with pytest.raises(ReqlQueryLogicError) as e:
            checked_int(value)
        assert str(e.value) == msg


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.text(), finite.map(num), st.integers(-(2**53), 2**53)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(), inner, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_to_json_string_is_json_with_sorted_keys(v):
    s = to_json_string(v)
    assert json.loads(s) == v
    assert " " not in re.sub(r'"(\\.|[^"\\])*"', "", s)  # compact: no spaces outside strings
    assert to_json_string(json.loads(s)) == s


def test_json_and_pretty_forms():
    v = {"b": [1, 2.5], "a": "x\n\u00e9\x01"}
    assert to_json_string(v) == '{"a":"x\\n\u00e9\\u0001","b":[1,2.5]}'
    assert print_datum(v) == '{\n\t"a":\t"x\\n\u00e9\\u0001",\n\t"b":\t[\n\t\t1,\n\t\t2.5\n\t]\n}'
    assert print_datum([]) == "[]" and print_datum({}) == "{}"
    with pytest.raises(ReqlQueryLogicError, match="Cannot convert `r.minval` to JSON."):
        to_json_string([MINVAL_DATUM])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_base64_round_trip_and_line_breaks(raw):
    enc = encode_base64(raw)
    assert decode_base64(enc) == raw
    lines = enc.split("\r\n")
    assert all(len(line) == 76 for line in lines[:-1]) and 0 < len(lines[-1]) <= 76 or raw == b""
    assert "".join(lines) == base64.b64encode(raw).decode()
    assert sanitize_binary(make_binary(raw)) == make_binary(raw)


def test_base64_dialect():
    assert decode_base64("AAE") == b"\x00\x01"  # padding optional
    assert decode_base64(" AA\r\nE= ") == b"\x00\x01"  # whitespace skipped
    assert sanitize_binary({"$reql_type$": "BINARY", "data": "AB=="})["data"] == "AA=="
    for data, msg in [
        ("ABCDEFGH==AA", "Invalid base64 format, data found after padding character '='."),
        ("A^CDEFGH", "Invalid base64 character found: '^'."),
        ("ABCDE", "Invalid base64 length: 1 character remaining, cannot decode a full byte."),
    ]:
        with pytest.raises(ReqlQueryLogicError) as e:
            decode_base64(data)
        assert str(e.value) == msg
    with pytest.raises(ReqlQueryLogicError, match="illegal `AA` key"):
        sanitize_binary({"$reql_type$": "BINARY", "data": "AAAA", "AA": 1})
    with pytest.raises(ReqlQueryLogicError, match="lacking `data` key"):
        sanitize_binary({"$reql_type$": "BINARY"})
