"""ReQL's total order over datums, and equality that agrees with it.

Values of different types order by RethinkDB's type name:
``MINVAL < ARRAY < BOOL < NULL < NUMBER < OBJECT < PTYPE<BINARY> < PTYPE<GEOMETRY> <
PTYPE<TIME> < STRING < MAXVAL``. Within a type: arrays lexicographically, ``false <
true``, numbers as doubles, objects pair by pair in key order then by size, binary by
bytes, times by epoch time, strings by code point (= UTF-8 byte order). Geometry is
the exception RethinkDB makes: it compares as the plain object it is, so it sorts
among (and against) objects, while it still sorts by its type name against other types.

Python's own ``==`` is not ReQL equality (``True == 1``, ``1 == 1.0`` but also
``[True] == [1]``), so everything that compares datums goes through here.
"""

from __future__ import annotations

import functools
from typing import Any

from .types import REQL_TYPE, _Extreme, type_name


def _binary_bytes(value: dict) -> bytes:
    from .binary import binary_bytes

    return binary_bytes(value)


def _rank_name(value: Any) -> str:
    return type_name(value)


def _cmp_scalar(a: Any, b: Any) -> int:
    return -1 if a < b else (1 if a > b else 0)


def compare(a: Any, b: Any) -> int:
    """Three-way comparison in ReQL order: negative, zero or positive."""
    ca = a.__class__
    cb = b.__class__
    if ca is cb:
        if ca is str or ca is int or ca is float or ca is bool:
            return -1 if a < b else (1 if a > b else 0)
        if ca is list:
            for x, y in zip(a, b, strict=False):
                c = compare(x, y)
                if c:
                    return c
            return _cmp_scalar(len(a), len(b))
        if ca is dict:
            return _compare_objects(a, b)
        if a is None:
            return 0
        if ca is _Extreme:
            return _cmp_scalar(a.sign, b.sign)
    elif (ca is int and cb is float) or (ca is float and cb is int):
        return -1 if a < b else (1 if a > b else 0)
    if ca is _Extreme:
        return a.sign
    if cb is _Extreme:
        return -b.sign
    na = type_name(a)
    nb = type_name(b)
    if na != nb:
        return -1 if na < nb else 1
    return 0  # pragma: no cover - same type names are handled above


def _compare_objects(a: dict, b: dict) -> int:
    pa = a.get(REQL_TYPE)
    pb = b.get(REQL_TYPE)
    # Geometry compares by its object representation (RethinkDB's pseudo_compares_as_obj),
    # also against plain objects.
    if pa == "GEOMETRY" and (pb.__class__ is not str or pb == "GEOMETRY"):
        pa = pb = None
    elif pb == "GEOMETRY" and pa.__class__ is not str:
        pa = pb = None
    if pa.__class__ is str or pb.__class__ is str:
        if pa != pb:
            na = type_name(a)
            nb = type_name(b)
            return -1 if na < nb else (1 if na > nb else 0)
        if pa == "TIME":
            return _cmp_scalar(a.get("epoch_time", 0), b.get("epoch_time", 0))
        if pa == "BINARY":
            return _cmp_scalar(_binary_bytes(a), _binary_bytes(b))
    ka = sorted(a)
    kb = sorted(b)
    for x, y in zip(ka, kb, strict=False):
        if x != y:
            return -1 if x < y else 1
        c = compare(a[x], b[y])
        if c:
            return c
    return _cmp_scalar(len(ka), len(kb))


def datum_eq(a: Any, b: Any) -> bool:
    """ReQL equality (``r.eq``): like ``compare(a, b) == 0`` but quicker on common cases."""
    ca = a.__class__
    cb = b.__class__
    if ca is cb:
        if ca is str or ca is int or ca is float or ca is bool or a is None:
            return a == b
        if ca is list:
            return len(a) == len(b) and all(datum_eq(x, y) for x, y in zip(a, b, strict=True))
        if ca is dict:
            pa = a.get(REQL_TYPE)
            if pa == "TIME" and b.get(REQL_TYPE) == "TIME":
                return a.get("epoch_time") == b.get("epoch_time")
            if pa == "BINARY" and b.get(REQL_TYPE) == "BINARY":
                return a.get("data") == b.get("data") or _binary_bytes(a) == _binary_bytes(b)
            if len(a) != len(b):
                return False
            for k, v in a.items():
                if k not in b or not datum_eq(v, b[k]):
                    return False
            return True
        return compare(a, b) == 0
    if (ca is int and cb is float) or (ca is float and cb is int):
        return a == b
    return False


sort_key = functools.cmp_to_key(compare)
"""Key function for ``sorted`` that orders datums in ReQL order."""


def hashable(value: Any) -> Any:
    """A hashable stand-in for a datum such that equal datums give equal stand-ins.

    Used for grouping, ``distinct`` and set operations. Numbers map to floats so that
    ``1`` and ``1.0`` collide; booleans are tagged so that ``True`` and ``1`` do not.
    """
    cls = value.__class__
    if cls is str:
        return value
    if cls is int or cls is float:
        return ("n", float(value))
    if cls is bool:
        return ("b", value)
    if value is None:
        return ("z",)
    if cls is list:
        return ("a", tuple(hashable(v) for v in value))
    if cls is dict:
        pt = value.get(REQL_TYPE)
        if pt == "TIME":
            return ("t", float(value.get("epoch_time", 0)))
        if pt == "BINARY":
            return ("y", _binary_bytes(value))
        return ("o", tuple(sorted((k, hashable(v)) for k, v in value.items())))
    return ("x", repr(value))
