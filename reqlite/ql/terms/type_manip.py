"""Types (RethinkDB's type_manip.cc): ``type_of`` and ``coerce_to``.

``coerce_to`` follows RethinkDB's rules exactly:

* the target name is case-insensitive and must be one RethinkDB knows ("Unknown Type: X");
* identity: the value already has that type, or the target is a non-datum kind the value
  converts to (``DATUM``, ``STREAM``, ``SELECTION<STREAM>``, ``TABLE_SLICE``, …);
* anything converts to ``BOOL`` (only ``null`` is false);
* datum to datum: ``BINARY`` <-> ``STRING`` (the raw bytes), anything to ``STRING`` (compact
  JSON), ``OBJECT`` -> ``ARRAY`` (key/value pairs in key order), ``STRING`` -> ``NUMBER``
  (C's ``strtod`` syntax, the whole string);
* sequences (arrays, streams, tables, selections) to ``ARRAY`` (or ``DATUM``) and to ``OBJECT``
  (from key/value pairs);
* otherwise "Cannot coerce X to Y." with RethinkDB's names (binary is ``BINARY``, a time is
  an ``OBJECT``, a stream is ``STREAM``, a selection ``SELECTION<STREAM>``).

On grouped data, ``coerce_to`` applies to every group.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...datum.binary import binary_bytes, make_binary
from ...datum.printing import format_g20, print_datum, to_json_string, trunc_print
from ...datum.types import REQL_TYPE, _Extreme, num, type_name
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import Stream, to_list, to_stream
from ..term import Term, as_datum, as_string, register
from ..values import GroupedData, SingleSelection, type_of

# -- RethinkDB's type lattice ------------------------------------------------------------

# Non-datum kinds ("raw types"), and which kinds each converts to (val_t::type_t).
DB, TABLE, TABLE_SLICE, SELECTION, SEQUENCE, SINGLE_SELECTION, DATUM, FUNC, GROUPED = (
    "DB",
    "TABLE",
    "TABLE_SLICE",
    "SELECTION",
    "SEQUENCE",
    "SINGLE_SELECTION",
    "DATUM",
    "FUNC",
    "GROUPED_DATA",
)
_CONVERTIBLE = {
    DB: {DB},
    TABLE: {TABLE, TABLE_SLICE, SELECTION, SEQUENCE},
    TABLE_SLICE: {TABLE_SLICE, SELECTION, SEQUENCE},
    SELECTION: {SELECTION, SEQUENCE},
    SEQUENCE: {SEQUENCE},
    SINGLE_SELECTION: {SINGLE_SELECTION, DATUM},
    DATUM: {DATUM, SEQUENCE},
    FUNC: {FUNC},
    GROUPED: {GROUPED},
}

# Target names: (kind, datum subtype or None).
_TARGETS: dict[str, tuple[str, str | None]] = {
    "DB": (DB, None),
    "TABLE": (TABLE, None),
    "TABLE_SLICE": (TABLE_SLICE, None),
    "SELECTION<STREAM>": (SELECTION, None),
    "SELECTION<ARRAY>": (SELECTION, "ARRAY"),
    "STREAM": (SEQUENCE, None),
    "SELECTION<OBJECT>": (SINGLE_SELECTION, None),
    "DATUM": (DATUM, None),
    "FUNCTION": (FUNC, None),
    "GROUPED_DATA": (GROUPED, None),
    "NULL": (DATUM, "NULL"),
    "BINARY": (DATUM, "BINARY"),
    "BOOL": (DATUM, "BOOL"),
    "NUMBER": (DATUM, "NUMBER"),
    "STRING": (DATUM, "STRING"),
    "ARRAY": (DATUM, "ARRAY"),
    "OBJECT": (DATUM, "OBJECT"),
    "MINVAL": (DATUM, "MINVAL"),
    "MAXVAL": (DATUM, "MAXVAL"),
}
_NAMES = {v: k for k, v in _TARGETS.items()}


def datum_kind(d: Any) -> str:
    """RethinkDB's datum type (not the pseudo-type name): a time is an OBJECT."""
    cls = d.__class__
    if cls is dict:
        return "BINARY" if d.get(REQL_TYPE) == "BINARY" else "OBJECT"
    if cls is _Extreme:
        return d.name
    return type_name(d)


def _raw_kind(v: Any) -> str:
    kind = getattr(v.__class__, "kind", None)
    if kind is None:
        return DATUM
    if kind == "DATABASE":
        return DB
    if kind == "FUNCTION":
        return FUNC
    if kind == "TABLE":
        return TABLE
    if kind == "SINGLE_SELECTION":
        return SINGLE_SELECTION
    if kind == "GROUPED_DATA":
        return GROUPED
    if isinstance(v, Stream):
        name = v.type_of_name()
        if name == "TABLE_SLICE":
            return TABLE_SLICE
        return SELECTION if v.table is not None else SEQUENCE
    return DATUM


def _parse_c_double(s: str) -> float | None:
    """``sscanf(s, "%lf%c")`` succeeding with exactly one conversion: the float, else None."""
    m = _C_DOUBLE.fullmatch(s)
    if m is None:
        return None
    text = m.group(1)
    body = text.lstrip("+-").lower()
    neg = text.startswith("-")
    if body.startswith("inf"):
        return -math.inf if neg else math.inf
    if body.startswith("nan"):
        return -math.nan if neg else math.nan
    if body.startswith("0x"):
        return float.fromhex(text)
    return float(text)


_C_DOUBLE = re.compile(
    r"[ \t\n\v\f\r]*("
    r"[+-]?(?:"
    r"(?i:infinity|inf|nan(?:\([A-Za-z0-9_]*\))?)"
    r"|0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"))"
)


def string_to_number(s: str) -> int | float:
    """``coerce_to('NUMBER')`` of a string."""
    d = _parse_c_double(s)
    if d is None:
        raise ReqlQueryLogicError(f"Could not coerce `{s}` to NUMBER.")
    if not math.isfinite(d):
        raise ReqlQueryLogicError(f"Non-finite number: {format_g20(d)}")
    return num(d)


def _pairs_to_object(items: list) -> dict:
    out: dict = {}
    for pair in items:
        if pair.__class__ is not list:
            raise ReqlQueryLogicError(f"Expected type ARRAY but found {type_name(pair)}.")
        if len(pair) != 2:
            raise ReqlQueryLogicError(f"Expected array of size 2, but got size {len(pair)}.")
        k, x = pair
        if k.__class__ is not str:
            raise ReqlQueryLogicError(f"Expected type STRING but found {type_name(k)}.")
        if k in out:
            raise ReqlQueryLogicError(
                f"Duplicate key {print_datum(k)} in coerced object.  "
                f"(got {trunc_print(out[k])} and {trunc_print(x)} as values)"
            )
        out[k] = x
    return out


def _cannot(start: tuple[str, str | None], end: tuple[str, str | None]) -> ReqlQueryLogicError:
    return ReqlQueryLogicError(f"Cannot coerce {_NAMES[start]} to {_NAMES[end]}.")


async def coerce(q: Any, v: Any, target_name: str) -> Any:
    """``v.coerce_to(target_name)`` for an evaluated value."""
    end = _TARGETS.get(target_name.upper())
    if end is None:
        raise ReqlQueryLogicError(f"Unknown Type: {target_name.upper()}")
    if getattr(v, "is_grouped", False):
        v = await v.materialize(q)  # a grouped stream converts group by group
    if v.__class__ is GroupedData:
        out = {}
        for h, (key, value) in v.groups.items():
            out[h] = (key, await coerce(q, value, target_name))
        return GroupedData(out)
    raw = _raw_kind(v)
    d: Any = None
    if raw in (DATUM, SINGLE_SELECTION):
        d = v.doc if v.__class__ is SingleSelection else v
        start = (DATUM, datum_kind(d))
    else:
        start = (raw, None)
    end_kind, end_sub = end
    # identity
    if (end_sub is None and end_kind in _CONVERTIBLE[raw]) or start == end:
        return v
    if end == (DATUM, "BOOL"):
        return not (start == (DATUM, "NULL"))
    if start[0] == DATUM and end_kind == DATUM:
        s_sub = start[1]
        if s_sub == "BINARY" and end_sub == "STRING":
            return binary_bytes(d).decode("utf-8", errors="replace")
        if s_sub == "STRING" and end_sub == "BINARY":
            return make_binary(d.encode("utf-8"))
        if end_sub == "STRING":
            return to_json_string(d)
        if s_sub == "OBJECT" and end_sub == "ARRAY":
            out = [[k, d[k]] for k in sorted(d)]
            from ..streams import check_array_limit

            check_array_limit(q, len(out))
            return out
        if s_sub == "STRING" and end_sub == "NUMBER":
            return string_to_number(d)
    if SEQUENCE in _CONVERTIBLE[raw] and not (start[0] == DATUM and start[1] != "ARRAY"):
        if end in ((DATUM, "ARRAY"), (DATUM, None)):
            if d is not None:
                return d
            return await to_list(q, to_stream(q, v))
        if end == (DATUM, "OBJECT"):
            items = d if d is not None else await to_list(q, to_stream(q, v))
            return _pairs_to_object(items)
    raise _cannot(start, end)


@register(T.COERCE_TO)
class CoerceTo(Term):
    __slots__ = ()
    name = "coerce_to"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        target = as_string(await self.args[1].eval(q, env))
        return await coerce(q, v, target)


@register(T.TYPE_OF)
class TypeOf(Term):
    __slots__ = ()
    name = "type_of"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> str:
        v = await self.args[0].eval(q, env)
        if isinstance(v, Stream):
            return v.type_of_name()
        if getattr(v.__class__, "kind", None) is None:
            as_datum(v)
        return type_of(v)
