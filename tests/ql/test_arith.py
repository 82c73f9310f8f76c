"""Arithmetic, rounding, bitwise operators and comparisons: edge cases beyond the polyglot
suite (double semantics, the +-2**53 integer range, -0.0, RethinkDB's messages)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rethinkdb import r
from rethinkdb.errors import ReqlQueryLogicError, ReqlResourceLimitError, ReqlUserError

from reqlite.ql.terms.arith import _round_half_away


def error_of(conn, q, cls=ReqlQueryLogicError) -> str:
    with pytest.raises(cls) as info:
        q.run(conn)
    return info.value.message


def test_overflow_is_an_error(conn):
    assert error_of(conn, r.expr(1e308).mul(10)) == "Non-finite number: inf"
    assert error_of(conn, r.expr(-1e308).sub(1e308)) == "Non-finite number: -inf"
    assert error_of(conn, r.expr(1e308).div(1e-10)) == "Non-finite number: inf"
    assert error_of(conn, r.expr(1).div(0)) == "Cannot divide by zero."


def test_integer_conversions(conn):
    assert error_of(conn, r.expr(7).mod(1.1)) == "Number not an integer: 1.1000000000000000888"
    assert (
        error_of(conn, r.expr(2**60).mod(3))
        == "Number not an integer (>2^53): 1152921504606846976"
    )
    assert r.expr(-7).mod(2).run(conn) == -1  # sign of the dividend, like C
    assert r.expr(7).mod(-2).run(conn) == 1
    assert error_of(conn, r.expr(7).mod(0)) == "Cannot take a number modulo 0."


def test_array_repetition(conn):
    assert r.expr([1, 2]).mul(2).run(conn) == [1, 2, 1, 2]
    assert r.expr(2.0).mul([1]).run(conn) == [1, 1]
    assert r.expr([]).mul(2**53).run(conn) == []
    assert error_of(conn, r.expr([1]).mul(-1)) == "Cannot multiply an ARRAY by a negative number."
    assert error_of(conn, r.expr([1]).mul([1])) == "Expected type NUMBER but found ARRAY."
    assert error_of(conn, r.expr([1]).mul(1.5)) == "Number not an integer: 1.5"
    with pytest.raises(ReqlResourceLimitError):
        r.expr([1, 2]).mul(3).run(conn, array_limit=5)


def test_add_types(conn):
    assert r.expr("a").add("b", "c").run(conn) == "abc"
    assert r.expr([1]).add([2]).run(conn) == [1, 2]
    assert error_of(conn, r.expr("a").add(1)) == "Expected type STRING but found NUMBER."
    assert error_of(conn, r.expr({}).add(1)) == "Expected type NUMBER but found OBJECT."
    assert r.expr(2**53).add(1).run(conn) == 2**53  # doubles: 2**53 + 1 rounds back


def _neg_zero(x) -> bool:
    return x == 0 and math.copysign(1, x) < 0


def test_rounding_keeps_negative_zero(conn):
    assert _neg_zero(r.ceil(-0.5).run(conn))
    assert _neg_zero(r.round(-0.4).run(conn))
    assert _neg_zero(r.floor(-0.0).run(conn))
    assert r.round(0.49999999999999994).run(conn) == 0
    assert r.round(2.5).run(conn) == 3 and r.round(-2.5).run(conn) == -3
    assert r.floor(1e300).run(conn) == 1e300
    assert r.floor(7).run(conn) == 7


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_round_half_away_from_zero(x):
    f = abs(Fraction(x))
    whole = int(f)
    expected = whole + 1 if f - whole >= Fraction(1, 2) else whole
    assert _round_half_away(x) == math.copysign(expected, x)


def test_bitwise(conn):
    assert r.expr(12).bit_and(10, 6).run(conn) == 0
    assert r.expr(1).bit_or(2, 4).run(conn) == 7
    assert r.expr(-(2**53)).bit_not().run(conn) == 2**53 - 1
    assert r.expr(-1).bit_sar(100).run(conn) == -1
    assert r.expr(5).bit_sar(64).run(conn) == 0
    assert r.expr(0).bit_sal(10**6).run(conn) == 0
    assert error_of(conn, r.expr(1).bit_sal(1024)) == "Non-finite number: inf"
    assert error_of(conn, r.expr(-1).bit_sal(1024)) == "Non-finite number: -inf"
    assert error_of(conn, r.expr(-1).bit_sal(5000)) == "Non-finite number: inf"
    assert error_of(conn, r.expr(2**53).bit_or(0)) == "Integer too large: 9007199254740992"
    assert error_of(conn, r.expr(1).bit_and(2**53)) == "Integer too large: 9007199254740992"
    assert error_of(conn, r.expr(1).bit_sal(-1)) == "Cannot bit-shift by a negative value"


def test_comparison_chains_stop_at_the_first_failure(conn):
    assert r.lt(2, 1, r.error("not evaluated")).run(conn) is False
    assert r.ne(1, 2, r.error("not evaluated")).run(conn) is True
    assert r.ne(1, 1, 1).run(conn) is False
    assert r.eq(1, 1.0, r.expr(1)).run(conn) is True
    assert error_of(conn, r.lt(1, 2, r.error("evaluated")), ReqlUserError) == "evaluated"


def test_extremes(conn):
    assert r.expr([r.minval.lt(None), r.maxval.gt("z"), r.minval.eq(r.minval)]).run(conn) == [
        True,
        True,
        True,
    ]
    assert r.minval.type_of().run(conn) == "MINVAL"
    assert error_of(conn, r.expr([r.maxval])) == "Cannot convert `r.maxval` to JSON."
