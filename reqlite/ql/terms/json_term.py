"""JSON (RethinkDB's json.cc): ``r.json(string)`` parses, ``to_json_string``/``to_json``
prints compact JSON.

Parsing accepts exactly what RethinkDB's parser (RapidJSON) accepts and reports its
errors in its words: ``Failed to parse "<first 37 bytes>..." as JSON: Missing a comma or
']' after an array element.``. The common, valid case goes through the C-accelerated
``json`` module; only a document it rejects (or one RapidJSON would reject, such as a
number too large for a double) is re-read by a small parser that finds RapidJSON's error.
The result is then checked like any datum from a client: duplicate keys, array size,
pseudo-types.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...datum.printing import print_datum, to_json_string
from ...datum.types import MAX_SAFE_INT, REQL_TYPE, num
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..datum_input import sanitize_pseudo
from ..streams import check_array_limit
from ..term import Term, as_datum, as_string, register


class _Pairs(list):
    """A JSON object as its members, in document order (duplicates kept)."""

    __slots__ = ()


class _Reject(Exception):
    """The document has something RapidJSON refuses; find out what with the slow parser."""


def _reject_constant(name: str) -> Any:
    raise _Reject(name)


def _parse_float(text: str) -> float:
    f = float(text)
    if f in (float("inf"), float("-inf")):
        raise _Reject(text)
    return f


def _parse_int(text: str) -> int | float:
    if len(text) > 300:  # beyond any double (and Python's int-parsing guard)
        raise _Reject(text)
    i = int(text)
    if -MAX_SAFE_INT <= i <= MAX_SAFE_INT:
        return i
    try:
        return float(i)
    except OverflowError:
        raise _Reject(text) from None


def parse_json(q: Any, data: str) -> Any:
    """``r.json(data)``."""
    if "\x00" in data:
        raise ReqlQueryLogicError("Encountered unescaped null byte in JSON string.")
    if _SURROGATE_ESCAPE.search(data):
        # json.loads accepts unpaired surrogates; RapidJSON does not.
        why = _scan_error(data)
        if why is not None:
            raise _failure(data, why)
    try:
        raw = json.loads(
            data,
            object_pairs_hook=_Pairs,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
        )
    except (ValueError, _Reject, RecursionError):
        raise _failure(data, _scan_error(data) or "Unspecific syntax error.") from None
    return _to_datum(q, raw)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _failure(data: str, why: str) -> ReqlQueryLogicError:
    raw = data.encode("utf-8")
    if len(raw) > 40:
        shown = raw[:37].decode("utf-8", errors="ignore") + "..."
    else:
        shown = data
    return ReqlQueryLogicError(f'Failed to parse "{shown}" as JSON: {why}')


def _to_datum(q: Any, v: Any) -> Any:
    cls = v.__class__
    if cls is _Pairs:
        out: dict = {}
        for k, x in v:
            x = _to_datum(q, x)
            if k in out:
                raise ReqlQueryLogicError(f"Duplicate key {print_datum(k)} in JSON.")
            out[k] = x
        if REQL_TYPE in out:
            return sanitize_pseudo(out)
        return out
    if cls is list:
        check_array_limit(q, len(v))
        return [_to_datum(q, x) for x in v]
    if cls is float:
        return num(v)
    return v


# -- RapidJSON's error for a rejected document -------------------------------------------

_WS = " \t\n\r"


class _ParseError(Exception):
    pass


class _Scanner:
    """A validating JSON reader with RapidJSON's error messages (no values are built)."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.n = len(s)

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else "\x00"

    def ws(self) -> None:
        while self.i < self.n and self.s[self.i] in _WS:
            self.i += 1

    def document(self) -> None:
        self.ws()
        if self.i >= self.n:
            raise _ParseError("The document is empty.")
        self.value()
        self.ws()
        if self.i < self.n:
            raise _ParseError("The document root must not be followed by other values.")

    def value(self) -> None:
        c = self.peek()
        if c == "n":
            self.literal("null")
        elif c == "t":
            self.literal("true")
        elif c == "f":
            self.literal("false")
        elif c == '"':
            self.string()
        elif c == "{":
            self.obj()
        elif c == "[":
            self.arr()
        else:
            self.number()

    def literal(self, word: str) -> None:
        if self.s.startswith(word, self.i):
            self.i += len(word)
        else:
            raise _ParseError("Invalid value.")

    def hex4(self) -> int:
        h = self.s[self.i : self.i + 4]
        if len(h) < 4 or any(c not in "0123456789abcdefABCDEF" for c in h):
            raise _ParseError("Incorrect hex digit after \\u escape in string.")
        self.i += 4
        return int(h, 16)

    def string(self) -> None:
        self.i += 1
        s = self.s
        while True:
            if self.i >= self.n:
                raise _ParseError("Missing a closing quotation mark in string.")
            c = s[self.i]
            self.i += 1
            if c == '"':
                return
            if c == "\\":
                e = self.peek()
                self.i += 1
                if e == "u":
                    cp = self.hex4()
                    if 0xD800 <= cp <= 0xDBFF:
                        if s[self.i : self.i + 2] != "\\u":
                            raise _ParseError("The surrogate pair in string is invalid.")
                        self.i += 2
                        if not 0xDC00 <= self.hex4() <= 0xDFFF:
                            raise _ParseError("The surrogate pair in string is invalid.")
                    elif 0xDC00 <= cp <= 0xDFFF:
                        # RapidJSON lets a lone low surrogate through and RethinkDB then
                        # refuses the string as invalid UTF-8; refused here as a bad pair.
                        raise _ParseError("The surrogate pair in string is invalid.")
                elif e not in '"\\/bfnrt':
                    raise _ParseError("Invalid escape character in string.")
            elif c < " ":
                raise _ParseError("Invalid escape character in string.")
            elif "\ud800" <= c <= "\udfff":
                raise _ParseError("Invalid encoding in string.")

    def obj(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "}" and self.i < self.n:
            self.i += 1
            return
        while True:
            if self.peek() != '"' or self.i >= self.n:
                raise _ParseError("Missing a name for object member.")
            self.string()
            self.ws()
            if self.peek() != ":" or self.i >= self.n:
                raise _ParseError("Missing a colon after a name of object member.")
            self.i += 1
            self.ws()
            self.value()
            self.ws()
            c = self.peek() if self.i < self.n else ""
            self.i += 1
            if c == ",":
                self.ws()
            elif c == "}":
                return
            else:
                raise _ParseError("Missing a comma or '}' after an object member.")

    def arr(self) -> None:
        self.i += 1
        self.ws()
        if self.peek() == "]" and self.i < self.n:
            self.i += 1
            return
        while True:
            self.value()
            self.ws()
            c = self.peek() if self.i < self.n else ""
            self.i += 1
            if c == ",":
                self.ws()
            elif c == "]":
                return
            else:
                raise _ParseError("Missing a comma or ']' after an array element.")

    def digits(self) -> int:
        start = self.i
        while self.i < self.n and "0" <= self.s[self.i] <= "9":
            self.i += 1
        return self.i - start

    def number(self) -> None:
        start = self.i
        if self.peek() == "-":
            self.i += 1
        c = self.peek() if self.i < self.n else ""
        if c == "0":
            self.i += 1
        elif "1" <= c <= "9":
            self.digits()
        else:
            raise _ParseError("Invalid value.")
        if self.peek() == "." and self.i < self.n:
            self.i += 1
            if not self.digits():
                raise _ParseError("Miss fraction part in number.")
        if self.peek() in "eE" and self.i < self.n:
            self.i += 1
            if self.peek() in "+-" and self.i < self.n:
                self.i += 1
            if not self.digits():
                raise _ParseError("Miss exponent in number.")
        try:
            f = float(self.s[start : self.i])
        except ValueError:  # pragma: no cover - the syntax was checked above
            raise _ParseError("Invalid value.") from None
        if f in (float("inf"), float("-inf")):
            raise _ParseError("Number too big to be stored in double.")


def _scan_error(data: str) -> str | None:
    """RapidJSON's error message for ``data``, or None if it parses."""
    try:
        _Scanner(data).document()
    except _ParseError as e:
        return str(e)
    except RecursionError:
        return "Unspecific syntax error."
    return None


@register(T.JSON)
class Json(Term):
    __slots__ = ()
    name = "json"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        return parse_json(q, as_string(await self.args[0].eval(q, env)))


@register(T.TO_JSON_STRING)
class ToJsonString(Term):
    __slots__ = ()
    name = "to_json_string"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> str:
        return to_json_string(as_datum(await self.args[0].eval(q, env)))
