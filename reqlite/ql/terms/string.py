"""Strings (RethinkDB's string.cc and case.cc): ``match``, ``split``, ``upcase``, ``downcase``,
plus the string and binary halves of ``slice`` for the sequence family to call.

* ``match`` uses RE2 (the ``google-re2`` package), as RethinkDB does, on the UTF-8 bytes of
  the string: ``start``/``end`` in the result are byte offsets, like RethinkDB's.
* ``split`` works on code points: no delimiter splits on Unicode White_Space, ``""`` splits
  into characters (keeping combining marks with their base), any other string splits on
  that string; an optional maximum number of splits keeps the rest in a last element.
* ``upcase``/``downcase`` change ASCII letters only (C's ``toupper``/``tolower``).
* ``r.format(template, {name: value})`` (newer than RethinkDB 2.4; follows the polyglot
  suite's format.yaml) replaces ``{name}`` tags by values: strings as they are, other
  values as compact JSON.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import re2

from ...datum.binary import binary_bytes, make_binary
from ...datum.printing import print_datum, to_json_string
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import check_array_limit
from ..term import Term, as_datum, as_int, as_object, as_string, register

_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_upper(s: str) -> str:
    """C's ``toupper`` over a string: only ``a``-``z`` change."""
    return s.translate(_UPPER)


def ascii_lower(s: str) -> str:
    return s.translate(_LOWER)


@register(T.UPCASE)
class Upcase(Term):
    __slots__ = ()
    name = "upcase"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> str:
        return ascii_upper(as_string(await self.args[0].eval(q, env)))


@register(T.DOWNCASE)
class Downcase(Term):
    __slots__ = ()
    name = "downcase"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> str:
        return ascii_lower(as_string(await self.args[0].eval(q, env)))


# -- match -----------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2::Quiet


def compile_regex(pattern: str) -> Any:
    """Compile a regular expression with RE2; RethinkDB's error if it is invalid."""
    try:
        return re2.compile(pattern.encode("utf-8"), options=_RE2_OPTIONS)
    except re2.error as e:
        msg = e.args[0] if e.args else ""
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", errors="replace")
        # RE2's error text is "<what>: <portion of the pattern>" (or just "<what>").
        _, _, portion = msg.partition(": ")
        raise ReqlQueryLogicError(
            f"Error in regexp `{pattern}` (portion `{portion}`): {msg}"
        ) from None


def _group(raw: bytes, start: int, end: int) -> dict:
    return {"str": raw[start:end].decode("utf-8"), "start": start, "end": end}


def match(s: str, pattern: str) -> dict | None:
    """``r.expr(s).match(pattern)``: the first match with its groups, or None."""
    regexp = compile_regex(pattern)
    raw = s.encode("utf-8")
    m = regexp.search(raw)
    if m is None:
        return None
    start, end = m.span()
    out = _group(raw, start, end)
    groups: list = []
    for i in range(1, regexp.groups + 1):
        gs, ge = m.span(i)
        groups.append(None if gs < 0 else _group(raw, gs, ge))
    out["groups"] = groups
    return out


@register(T.MATCH)
class Match(Term):
    __slots__ = ()
    name = "match"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> dict | None:
        s = as_string(await self.args[0].eval(q, env))
        pattern = as_string(await self.args[1].eval(q, env))
        return match(s, pattern)


# -- split -----------------------------------------------------------------------------

# Unicode White_Space (ICU's u_isUWhiteSpace); not str.isspace, which adds U+001C..U+001F.
WHITESPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _is_combining(c: str) -> bool:
    return unicodedata.category(c)[0] == "M"


def _find_space(s: str, pos: int) -> int:
    n = len(s)
    while pos < n and s[pos] not in WHITESPACE:
        pos += 1
    return pos


def _find_non_space(s: str, pos: int) -> int:
    n = len(s)
    while pos < n and s[pos] in WHITESPACE:
        pos += 1
    return pos


def split(s: str, delim: str | None, maxnum: int) -> list[str]:
    """RethinkDB's ``split`` (its UTF-8 aware version); ``maxnum < 0`` means no limit."""
    res: list[str] = []
    end = len(s)
    cur = 0
    while True:
        if len(res) == maxnum:
            if delim is not None:
                if delim or cur != end:
                    res.append(s[cur:])
            else:
                start = _find_non_space(s, cur)
                if start != end:
                    res.append(s[start:])
            return res
        if delim == "":
            nxt = min(cur + 1, end)
            while nxt < end and _is_combining(s[nxt]):
                nxt += 1
            if cur != nxt:
                res.append(s[cur:nxt])
            cur = nxt
            if cur == end:
                return res
        elif delim is not None:
            nxt = s.find(delim, cur)
            if nxt < 0:
                res.append(s[cur:])
                return res
            res.append(s[cur:nxt])
            cur = nxt + len(delim)
        else:
            nxt = _find_space(s, cur)
            if nxt == end:
                start = _find_non_space(s, cur)
                if start != end:
                    res.append(s[start:])
                return res
            if cur != nxt:
                res.append(s[cur:nxt])
            cur = nxt + 1


@register(T.SPLIT)
class Split(Term):
    __slots__ = ()
    name = "split"
    argspec = (1, 3)

    async def eval(self, q: Any, env: dict) -> list[str]:
        s = as_string(await self.args[0].eval(q, env))
        delim = None
        if len(self.args) > 1:
            d = as_datum(await self.args[1].eval(q, env))
            if d is not None:
                delim = as_string(d)
        n = -1
        if len(self.args) > 2:
            n = as_int(await self.args[2].eval(q, env))
            top = q.array_limit - 1
            if not -1 <= n <= top:
                raise ReqlQueryLogicError(
                    f"Error: `split` size argument must be in range [-1, {top}]."
                )
        out = split(s, delim, n)
        check_array_limit(q, len(out))
        return out


# -- format ----------------------------------------------------------------------------


def format_template(template: str, params: dict) -> str:
    """``r.format``: substitute ``{name}`` tags, left to right."""
    out: list[str] = []
    tag: list[str] | None = None
    for c in template:
        if tag is None:
            if c == "{":
                tag = []
            elif c == "}":
                raise ReqlQueryLogicError("No parameter tags to close")
            else:
                out.append(c)
        elif c == "{":
            raise ReqlQueryLogicError("Nested template parameters are not allowed")
        elif c == ",":
            raise ReqlQueryLogicError("Formatting separator `,` is not allowed in parameter name")
        elif c == "\\":
            raise ReqlQueryLogicError(
                "Reserved escape character `\\` is not allowed in parameter name"
            )
        elif c == "}":
            name = "".join(tag)
            if name not in params:
                raise ReqlNonExistenceError(
                    f"No attribute `{name}` in object:\n{print_datum(params)}"
                )
            v = params[name]
            out.append(v if v.__class__ is str else to_json_string(v))
            tag = None
        else:
            tag.append(c)
    if tag is not None:
        raise ReqlQueryLogicError("Parameter tag must be closed")
    return "".join(out)


@register(T.FORMAT)
class Format(Term):
    __slots__ = ()
    name = "format"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> str:
        template = as_string(await self.args[0].eval(q, env))
        params = as_object(await self.args[1].eval(q, env))
        return format_template(template, params)


# -- slice of strings and binary data (called by the SLICE term) ------------------------


def _canonical(index: int, size: int, is_open: bool, is_left: bool) -> int:
    if index < 0:
        if -index > size:
            return 0  # out of bounds: clamps, and the bound's openness no longer applies
        index += size
    if is_open == is_left:
        index += 1
    return index


def slice_bounds(
    size: int, left_open: bool, left: int, right_open: bool, right: int
) -> tuple[int, int]:
    """Start and end (exclusive) of ``slice(left, right)`` over ``size`` units; may be empty.

    Negative indexes count from the end; an index before the start clamps to 0; the right
    end clamps to ``size``. ``slice(l)`` is ``slice(l, -1, right_bound='closed')``.
    """
    lo = _canonical(left, size, left_open, True)
    hi = min(_canonical(right, size, right_open, False), size)
    if lo > hi:
        return 0, 0
    return lo, hi


def slice_string(s: str, left_open: bool, left: int, right_open: bool, right: int) -> str:
    """``r.expr(s).slice(...)``: by code points."""
    lo, hi = slice_bounds(len(s), left_open, left, right_open, right)
    return s[lo:hi]


def slice_binary(b: dict, left_open: bool, left: int, right_open: bool, right: int) -> dict:
    """``r.binary(...).slice(...)``: by bytes."""
    raw = binary_bytes(b)
    lo, hi = slice_bounds(len(raw), left_open, left, right_open, right)
    return make_binary(raw[lo:hi])
