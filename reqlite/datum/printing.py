"""Datums printed the way RethinkDB prints them inside error messages.

RethinkDB embeds values in messages with a pretty printer that indents with tabs,
puts a tab after each object key's colon, sorts object keys, and prints integral
numbers without a fraction. Clients and tests compare those messages literally, so
we reproduce the format exactly::

    {
    \t"a":\t1,
    \t"b":\t[
    \t\t1,
    \t\t2
    \t]
    }
"""

from __future__ import annotations

import math
from typing import Any

from .types import MAX_SAFE_INT, _Extreme

# Messages that embed a value cut it at this many characters ("..." included).
TRUNC_LEN = 300

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        e = _ESCAPES.get(ch)
        if e is not None:
            out.append(e)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_number(value: float | int) -> str:
    """Print a number as RethinkDB does: integers plainly, doubles shortest-roundtrip."""
    if value.__class__ is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return str(value)
        value = float(value)
    if value == 0:
        return "-0.0" if str(value)[0] == "-" else "0"
    if value.is_integer() and abs(value) <= MAX_SAFE_INT:
        return str(int(value))
    return _format_double(value)


def format_g20(value: float | int) -> str:
    """C's ``printf("%.20g")``: how RethinkDB prints a number in most of its messages
    ("Number not an integer: 1.5", "Non-finite number: inf")."""
    d = float(value)
    if d != d:
        return "-nan" if math.copysign(1.0, d) < 0 else "nan"
    return format(d, ".20g")


def _format_double(d: float) -> str:
    # rapidjson's digits (Grisu2, see grisu.py), laid out like rapidjson's "Prettify".
    from .grisu import grisu2

    neg = d < 0
    digits, k = grisu2(-d if neg else d)  # value = digits * 10**k
    length = len(digits)
    kk = length + k
    if 0 <= k and kk <= 21:
        s = digits + "0" * k + ".0"
    elif 0 < kk <= 21:
        s = digits[:kk] + "." + digits[kk:]
    elif -6 < kk <= 0:
        s = "0." + "0" * (-kk) + digits
    elif length == 1:
        s = digits + "e" + str(kk - 1)
    else:
        s = digits[0] + "." + digits[1:] + "e" + str(kk - 1)
    return "-" + s if neg else s


def _write(value: Any, out: list[str], depth: int) -> None:
    cls = value.__class__
    if cls is str:
        out.append(_quote(value))
    elif cls is bool:
        out.append("true" if value else "false")
    elif cls is int or cls is float:
        out.append(format_number(value))
    elif value is None:
        out.append("null")
    elif cls is list:
        if not value:
            out.append("[]")
            return
        inner = "\t" * (depth + 1)
        out.append("[")
        first = True
        for item in value:
            out.append("\n" if first else ",\n")
            first = False
            out.append(inner)
            _write(item, out, depth + 1)
        out.append("\n" + "\t" * depth + "]")
    elif cls is dict:
        if not value:
            out.append("{}")
            return
        inner = "\t" * (depth + 1)
        out.append("{")
        first = True
        for key in sorted(value):
            out.append("\n" if first else ",\n")
            first = False
            out.append(inner)
            out.append(_quote(key))
            out.append(":\t")
            _write(value[key], out, depth + 1)
        out.append("\n" + "\t" * depth + "}")
    elif cls is _Extreme:
        out.append(repr(value))
    else:
        out.append(str(value))


def _write_compact(value: Any, out: list[str]) -> None:
    cls = value.__class__
    if cls is str:
        out.append(_quote(value))
    elif cls is bool:
        out.append("true" if value else "false")
    elif cls is int or cls is float:
        out.append(format_number(value))
    elif value is None:
        out.append("null")
    elif cls is list:
        out.append("[")
        first = True
        for item in value:
            if not first:
                out.append(",")
            first = False
            _write_compact(item, out)
        out.append("]")
    elif cls is dict:
        out.append("{")
        first = True
        for key in sorted(value):
            if not first:
                out.append(",")
            first = False
            out.append(_quote(key))
            out.append(":")
            _write_compact(value[key], out)
        out.append("}")
    elif cls is _Extreme:
        from ..errors import ReqlQueryLogicError

        raise ReqlQueryLogicError(f"Cannot convert `{value!r}` to JSON.")
    else:
        out.append(str(value))


def to_json_string(value: Any) -> str:
    """RethinkDB's compact JSON of a datum (``to_json_string``, ``coerce_to('string')``).

    Keys sorted, no spaces, integral numbers without a fraction, other numbers in
    shortest round-trip form, non-ASCII characters unescaped. ``r.minval`` and
    ``r.maxval`` cannot be converted.
    """
    out: list[str] = []
    _write_compact(value, out)
    return "".join(out)


def print_datum(value: Any) -> str:
    """RethinkDB's pretty print of a datum (used in error messages)."""
    out: list[str] = []
    _write(value, out, 0)
    return "".join(out)


def trunc_print(value: Any) -> str:
    """``print_datum`` cut to RethinkDB's message length, ending in ``...``."""
    s = print_datum(value)
    if len(s) > TRUNC_LEN:
        s = s[: TRUNC_LEN - 3] + "..."
    return s
