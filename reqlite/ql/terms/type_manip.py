"""Types: type_of and coerce_to between the types RethinkDB converts."""

from __future__ import annotations

from typing import Any

from ...datum.printing import format_number, print_datum
from ...datum.types import REQL_TYPE, type_name
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import Stream, to_list, to_stream
from ..term import Term, as_datum, as_string, register
from ..values import type_of


@register(T.TYPE_OF)
class TypeOf(Term):
    __slots__ = ()
    name = "type_of"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> str:
        v = await self.args[0].eval(q, env)
        if isinstance(v, Stream):
            return v.type_of_name()
        return type_of(v)


def _parse_number(s: str) -> int | float:
    import re

    from ...datum.types import num

    text = s.strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)", text):
        raise ReqlQueryLogicError(f"Could not coerce `{s}` to NUMBER.")
    try:
        v = float(int(text, 16)) if text.lower().lstrip("+-").startswith("0x") else float(text)
    except ValueError:
        raise ReqlQueryLogicError(f"Could not coerce `{s}` to NUMBER.") from None
    import math

    if not math.isfinite(v):
        raise ReqlQueryLogicError(f"Non-finite number: {s}")
    return num(v)


@register(T.COERCE_TO)
class CoerceTo(Term):
    __slots__ = ()
    name = "coerce_to"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        target = as_string(await self.args[1].eval(q, env)).upper()
        if isinstance(v, Stream) or getattr(v.__class__, "kind", None) == "TABLE":
            if target == "ARRAY":
                return await to_list(q, to_stream(q, v))
            if target == "OBJECT":
                return _pairs_to_object(await to_list(q, to_stream(q, v)))
            if target == "STREAM" or (target == "SELECTION<STREAM>"):
                return v
            src_name = v.type_of_name() if isinstance(v, Stream) else "TABLE"
            raise ReqlQueryLogicError(f"Cannot coerce {src_name} to {target}.")
        v = as_datum(v)
        src = type_name(v)
        if target == src:
            return v
        if target == "STRING":
            if src == "NUMBER":
                return format_number(v)
            if src == "PTYPE<BINARY>":
                import base64

                return base64.b64decode(v["data"]).decode("utf-8", errors="replace")
            return print_datum(v).replace("\n", "").replace("\t", "") if False else _json_string(v)
        if target == "NUMBER" and src == "STRING":
            return _parse_number(v)
        if target == "ARRAY":
            if src == "OBJECT":
                return [[k, x] for k, x in v.items()]
            if src == "STRING":
                return list(v)
            if src == "PTYPE<BINARY>":
                pass
        if target == "OBJECT" and src == "ARRAY":
            return _pairs_to_object(v)
        if target == "BOOL":
            return not (v is None or v is False)
        if target == "BINARY" and src == "STRING":
            import base64

            return {REQL_TYPE: "BINARY", "data": base64.b64encode(v.encode("utf-8")).decode("ascii")}
        if target == "NULL" and v is None:
            return None
        raise ReqlQueryLogicError(f"Cannot coerce {src} to {target}.")


def _json_string(v: Any) -> str:
    import orjson

    return orjson.dumps(v).decode()


def _pairs_to_object(items: list) -> dict:
    out: dict = {}
    for pair in items:
        if pair.__class__ is not list or len(pair) != 2:
            raise ReqlQueryLogicError(
                f"Expected array of size 2, but got size {len(pair) if pair.__class__ is list else 0}."
                if pair.__class__ is list
                else f"Expected type ARRAY but found {type_name(pair)}."
            )
        k, x = pair
        if k.__class__ is not str:
            raise ReqlQueryLogicError(f"Expected type STRING but found {type_name(k)}.")
        out[k] = x
    return out
