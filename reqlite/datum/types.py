"""Datum values: what a ReQL value is in Python, and the names ReQL gives its types.

A datum is a plain Python value, exactly as orjson decodes JSON: ``None``, ``bool``,
``int``/``float``, ``str``, ``list`` and ``dict``. Pseudo-types (times, binary data,
geometry) are dicts carrying a ``$reql_type$`` key, as RethinkDB itself stores them,
so documents travel from LMDB to the wire without conversion.

Numbers keep one invariant, maintained by every term that produces one: a number is
an ``int`` when it is integral and exactly representable as a double (|x| <= 2**53),
otherwise a ``float``. That makes the JSON we send identical to RethinkDB's (which
prints integral doubles without a fraction) with no re-encoding pass.
"""

from __future__ import annotations

import math
from typing import Any

REQL_TYPE = "$reql_type$"
MAX_SAFE_INT = 2**53

TIME = "TIME"
BINARY = "BINARY"
GEOMETRY = "GEOMETRY"
GROUPED_DATA = "GROUPED_DATA"
MINVAL = "MINVAL"
MAXVAL = "MAXVAL"

Datum = Any


class _Extreme:
    """``r.minval`` / ``r.maxval``: sort before / after every other datum.

    They exist only while a query runs (in ``between`` bounds and comparisons) and are
    never stored or sent.
    """

    __slots__ = ("name", "sign")

    def __init__(self, name: str, sign: int) -> None:
        self.name = name
        self.sign = sign

    def __repr__(self) -> str:
        return f"r.{self.name.lower()}"


MINVAL_DATUM = _Extreme(MINVAL, -1)
MAXVAL_DATUM = _Extreme(MAXVAL, 1)


def is_extreme(value: Any) -> bool:
    return value.__class__ is _Extreme


def num(value: float | int) -> int | float:
    """Normalise a computed number to the datum invariant (integral → int)."""
    if value.__class__ is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
        return float(value)
    if value.is_integer() and -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        if value == 0 and math.copysign(1.0, value) < 0:
            return value  # keep -0.0: RethinkDB prints it as -0.0
        return int(value)
    return value


def number_as_integer(value: float | int) -> int | None:
    """The integer a number equals, if it is one within +-2**53 (RethinkDB's range); else None."""
    if value.__class__ is int:
        return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else None
    if -MAX_SAFE_INT <= value <= MAX_SAFE_INT and value.is_integer():
        return int(value)
    return None


def checked_int(value: float | int) -> int:
    """``datum_t::as_int``: the number as an integer, or RethinkDB's error.

    "Number not an integer: 1.5", "Number not an integer (>2^53): 9007199254740994",
    "Number not an integer (<-2^53): ..." (numbers printed with ``%.20g``).
    """
    i = number_as_integer(value)
    if i is not None:
        return i
    from ..errors import ReqlQueryLogicError
    from .printing import format_g20

    if value < -MAX_SAFE_INT:
        qual = " (<-2^53)"
    elif value > MAX_SAFE_INT:
        qual = " (>2^53)"
    else:
        qual = ""
    raise ReqlQueryLogicError(f"Number not an integer{qual}: {format_g20(value)}")


def is_number(value: Any) -> bool:
    cls = value.__class__
    return cls is int or cls is float


def pseudo_type(value: dict) -> str | None:
    """The ``$reql_type$`` of an object, or None for a plain object."""
    t = value.get(REQL_TYPE)
    return t if t.__class__ is str else None


# Type names as RethinkDB reports them in error messages ("Expected type X but found Y")
_BASE_NAMES = {
    type(None): "NULL",
    bool: "BOOL",
    int: "NUMBER",
    float: "NUMBER",
    str: "STRING",
    list: "ARRAY",
    dict: "OBJECT",
}


def type_name(value: Any) -> str:
    """RethinkDB's type name of a datum: NULL, BOOL, NUMBER, STRING, ARRAY, OBJECT, PTYPE<TIME>…"""
    cls = value.__class__
    if cls is dict:
        pt = value.get(REQL_TYPE)
        if pt.__class__ is str:
            return f"PTYPE<{pt}>"
        return "OBJECT"
    name = _BASE_NAMES.get(cls)
    if name is not None:
        return name
    if cls is _Extreme:
        return value.name
    return "DATUM"


def type_of_name(value: Any) -> str:
    """What ``r.type_of`` answers for a datum (pseudo-types show as PTYPE<...>)."""
    return type_name(value)


def is_time(value: Any) -> bool:
    return value.__class__ is dict and value.get(REQL_TYPE) == TIME


def is_binary(value: Any) -> bool:
    return value.__class__ is dict and value.get(REQL_TYPE) == BINARY


def is_geometry(value: Any) -> bool:
    return value.__class__ is dict and value.get(REQL_TYPE) == GEOMETRY
