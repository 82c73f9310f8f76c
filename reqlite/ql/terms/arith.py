"""Arithmetic: add, sub, mul, div, mod (numbers, plus the string/array/time forms)."""

from __future__ import annotations

import math
from typing import Any

from ...datum.printing import format_number
from ...datum.types import REQL_TYPE, is_time, num
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import check_array_limit
from ..term import Term, as_datum, register, type_error


def _finite(x: float, q: Any = None) -> int | float:
    if x.__class__ is float and not math.isfinite(x):
        raise ReqlQueryLogicError(f"Non-finite number: {x!r}".replace("inf", "inf"))
    return num(x)


def _is_num(v: Any) -> bool:
    c = v.__class__
    return c is int or c is float


def _time_shift(t: dict, seconds: float) -> dict:
    out = dict(t)
    out["epoch_time"] = num(t["epoch_time"] + seconds)
    return out


class _Fold(Term):
    """A left fold of a binary operation over one or more arguments."""

    __slots__ = ()
    argspec = (1, None)

    def op(self, q: Any, a: Any, b: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> Any:
        args = self.args
        acc = as_datum(await args[0].eval(q, env))
        for a in args[1:]:
            acc = self.op(q, acc, as_datum(await a.eval(q, env)))
        return acc


@register(T.ADD)
class Add(_Fold):
    __slots__ = ()
    name = "add"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if _is_num(a):
            if not _is_num(b):
                raise type_error("NUMBER", b)
            return _finite(a + b)
        ca = a.__class__
        if ca is str:
            if b.__class__ is not str:
                raise type_error("STRING", b)
            return a + b
        if ca is list:
            if b.__class__ is not list:
                raise type_error("ARRAY", b)
            out = a + b
            check_array_limit(q, len(out))
            return out
        if is_time(a):
            if not _is_num(b):
                raise type_error("NUMBER", b)
            return _time_shift(a, b)
        raise type_error("NUMBER", a)


@register(T.SUB)
class Sub(_Fold):
    __slots__ = ()
    name = "sub"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if _is_num(a):
            if not _is_num(b):
                raise type_error("NUMBER", b)
            return _finite(a - b)
        if is_time(a):
            if is_time(b):
                return num(round(a["epoch_time"] - b["epoch_time"], 3))
            if not _is_num(b):
                raise type_error("NUMBER", b)
            return _time_shift(a, -b)
        raise type_error("NUMBER", a)


@register(T.MUL)
class Mul(_Fold):
    __slots__ = ()
    name = "mul"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if _is_num(a) and _is_num(b):
            return _finite(a * b)
        if a.__class__ is list and _is_num(b):
            return _repeat(q, a, b)
        if _is_num(a) and b.__class__ is list:
            return _repeat(q, b, a)
        if not _is_num(a):
            raise type_error("NUMBER", a)
        raise type_error("NUMBER", b)


def _repeat(q: Any, arr: list, n: int | float) -> list:
    if n.__class__ is float and not n.is_integer():
        raise ReqlQueryLogicError(f"Number not an integer: {format_number(n)}")
    n = int(n)
    if n < 0:
        n = 0
    check_array_limit(q, len(arr) * n)
    return arr * n


@register(T.DIV)
class Div(_Fold):
    __slots__ = ()
    name = "div"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if not _is_num(a):
            raise type_error("NUMBER", a)
        if not _is_num(b):
            raise type_error("NUMBER", b)
        if b == 0:
            raise ReqlQueryLogicError("Cannot divide by zero.")
        return _finite(a / b)


@register(T.MOD)
class Mod(Term):
    __slots__ = ()
    name = "mod"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        a = as_datum(await self.args[0].eval(q, env))
        b = as_datum(await self.args[1].eval(q, env))
        if not _is_num(a):
            raise type_error("NUMBER", a)
        if not _is_num(b):
            raise type_error("NUMBER", b)
        if a.__class__ is float and not a.is_integer():
            raise ReqlQueryLogicError(f"Number not an integer: {format_number(a)}")
        if b.__class__ is float and not b.is_integer():
            raise ReqlQueryLogicError(f"Number not an integer: {format_number(b)}")
        a = int(a)
        b = int(b)
        if b == 0:
            raise ReqlQueryLogicError("Cannot take a number modulo 0.")
        # C semantics: the result takes the sign of the dividend
        r = abs(a) % abs(b)
        return num(-r if a < 0 else r)


__all__ = ["Add", "Sub", "Mul", "Div", "Mod", "REQL_TYPE"]
