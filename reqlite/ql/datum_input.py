"""Datums arriving from clients: normalise numbers and validate pseudo-types.

Every JSON value in a query passes through ``datum_from_json`` once, at compile time.
Numbers are brought to the datum invariant (integral → int) and objects carrying
``$reql_type$`` are checked by the sanitizer registered for their type (times, binary,
geometry register theirs), exactly where RethinkDB sanitizes them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from ..datum.printing import print_datum
from ..datum.types import MAX_SAFE_INT, REQL_TYPE
from ..errors import ReqlQueryLogicError

PSEUDO_SANITIZERS: dict[str, Callable[[dict], dict]] = {}


def pseudo_sanitizer(reql_type: str):
    """Decorator: register the validator/normaliser of one pseudo-type."""

    def deco(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        PSEUDO_SANITIZERS[reql_type] = fn
        return fn

    return deco


def datum_from_json(value: Any, checked: bool = False) -> Any:
    """Normalise a decoded JSON value into a datum.

    ``checked``: the values inside are already datums; only the top object's
    pseudo-type (if any) still needs validating.
    """
    cls = value.__class__
    if cls is str or cls is bool or value is None:
        return value
    if cls is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
        return float(value)
    if cls is float:
        if value.is_integer() and -MAX_SAFE_INT <= value <= MAX_SAFE_INT and value != 0:
            return int(value)
        if value == 0 and str(value)[0] != "-":
            return 0
        return value
    if cls is list:
        if checked:
            return value
        return [datum_from_json(v) for v in value]
    if cls is dict:
        if not checked:
            value = {k: datum_from_json(v) for k, v in value.items()}
        if REQL_TYPE in value:
            return sanitize_pseudo(value)
        return value
    raise ReqlQueryLogicError(f"Cannot convert {value!r} to a datum.")


def sanitize_pseudo(obj: dict) -> dict:
    """Validate (and normalise) an object with a ``$reql_type$`` field."""
    rt = obj.get(REQL_TYPE)
    fn = PSEUDO_SANITIZERS.get(rt) if rt.__class__ is str else None
    if fn is None:
        name = f"PTYPE<{rt}>" if rt.__class__ is str else print_datum(rt)
        raise ReqlQueryLogicError(f"Unknown $reql_type$ `{name}`.")
    return fn(obj)


@pseudo_sanitizer("BINARY")
def _sanitize_binary(obj: dict) -> dict:
    data = obj.get("data")
    for key in obj:
        if key not in (REQL_TYPE, "data"):
            raise ReqlQueryLogicError(f"Invalid binary pseudotype: illegal `{key}` key.")
    if data.__class__ is not str:
        if "data" not in obj:
            raise ReqlQueryLogicError("Invalid binary pseudotype: lacking `data` key.")
        raise ReqlQueryLogicError(f"Expected type STRING but found {_tn(data)}.")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ReqlQueryLogicError(f"Invalid base64 format, data found: {data}") from None
    canonical = base64.b64encode(raw).decode("ascii")
    if canonical != data:
        return {REQL_TYPE: "BINARY", "data": canonical}
    return obj


def _tn(v: Any) -> str:
    from ..datum.types import type_name

    return type_name(v)
