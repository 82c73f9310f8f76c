"""Arithmetic (RethinkDB's arith.cc): add, sub, mul, div, mod, floor, ceil, round and the
bitwise operators.

Numbers are doubles in RethinkDB: every result goes through ``_finite`` (a result that
overflows is refused with "Non-finite number: inf") and ``num`` (integral values within
2**53 become ints). Integer operations (``mod``, the bitwise family, array repetition)
first convert their operands like ``datum_t::as_int``: integral and within +-2**53.
"""

from __future__ import annotations

import math
from typing import Any

from ...datum.printing import format_g20
from ...datum.types import MAX_SAFE_INT, checked_int, is_time, num
from ...errors import ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import check_array_limit
from ..term import Term, as_datum, as_number, register, type_error
from .time_logic import time_add, time_sub


def _finite(x: int | float) -> int | float:
    """A computed number as a datum: non-finite results are errors, integral ones ints."""
    if x.__class__ is float and not math.isfinite(x):
        raise ReqlQueryLogicError(f"Non-finite number: {format_g20(x)}")
    return num(x)


def _is_num(v: Any) -> bool:
    c = v.__class__
    return c is int or c is float


def _int_of(v: Any) -> int:
    """``as_int`` of an evaluated datum: a NUMBER that is an integer within +-2**53."""
    if not _is_num(v):
        raise type_error("NUMBER", v)
    if v.__class__ is int:
        return v
    return checked_int(v)


def _time_shift(t: dict, seconds: int | float) -> dict:
    return time_add(t, seconds)  # sanitized: epoch_time rounded to the millisecond


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
        if is_time(a) or is_time(b):
            t, d = (a, b) if is_time(a) else (b, a)
            if not _is_num(d):
                raise type_error("NUMBER", d)
            return _time_shift(t, d)
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
            check_array_limit(q, len(a) + len(b))
            return a + b
        raise type_error("NUMBER", a)


@register(T.SUB)
class Sub(_Fold):
    __slots__ = ()
    name = "sub"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if is_time(a):
            if is_time(b):
                return time_sub(a, b)
            if not _is_num(b):
                raise type_error("NUMBER", b)
            return _time_shift(a, -b)
        if not _is_num(a):
            raise type_error("NUMBER", a)
        if not _is_num(b):
            raise type_error("NUMBER", b)
        return _finite(a - b)


@register(T.MUL)
class Mul(_Fold):
    __slots__ = ()
    name = "mul"

    def op(self, q: Any, a: Any, b: Any) -> Any:
        if a.__class__ is list or b.__class__ is list:
            arr, n = (a, b) if a.__class__ is list else (b, a)
            copies = _int_of(n)
            if copies < 0:
                raise ReqlQueryLogicError("Cannot multiply an ARRAY by a negative number.")
            if arr:
                check_array_limit(q, len(arr) * copies)
            else:
                return []
            return arr * copies
        if not _is_num(a):
            raise type_error("NUMBER", a)
        if not _is_num(b):
            raise type_error("NUMBER", b)
        return _finite(a * b)


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
        a = _int_of(as_datum(await self.args[0].eval(q, env)))
        b = _int_of(as_datum(await self.args[1].eval(q, env)))
        if b == 0:
            raise ReqlQueryLogicError("Cannot take a number modulo 0.")
        # C semantics: the remainder takes the sign of the dividend
        r = abs(a) % abs(b)
        return -r if a < 0 else r


# -- floor, ceil, round ----------------------------------------------------------------


class _Rounding(Term):
    """One number in, the C library's floor/ceil/round of it out (keeping -0.0)."""

    __slots__ = ()
    argspec = (1, 1)

    @staticmethod
    def apply(x: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> int | float:
        x = as_number(await self.args[0].eval(q, env))
        if x.__class__ is int or abs(x) >= 2.0**52:
            return x  # already integral
        r = self.apply(x)
        if r == 0 and math.copysign(1.0, x) < 0:
            return -0.0  # floor(-0.0), ceil(-0.5), round(-0.4) are -0.0
        return num(r)


@register(T.FLOOR)
class Floor(_Rounding):
    __slots__ = ()
    name = "floor"
    apply = staticmethod(lambda x: float(math.floor(x)))


@register(T.CEIL)
class Ceil(_Rounding):
    __slots__ = ()
    name = "ceil"
    apply = staticmethod(lambda x: float(math.ceil(x)))


def _round_half_away(x: float) -> float:
    """C's ``round``: halfway cases away from zero (Python's ``round`` rounds to even)."""
    t = float(math.trunc(x))
    if abs(x - t) >= 0.5:  # exact: x - trunc(x) loses no bits
        t += math.copysign(1.0, x)
    return t


@register(T.ROUND)
class Round(_Rounding):
    __slots__ = ()
    name = "round"
    apply = staticmethod(_round_half_away)


# -- bitwise operators -----------------------------------------------------------------


def _bit_operand(v: Any) -> int:
    """An operand of a bitwise operator: an integer in [-2**53, 2**53)."""
    i = _int_of(as_datum(v))
    if i >= MAX_SAFE_INT:
        raise ReqlQueryLogicError(f"Integer too large: {i}")
    return i


class _BitFold(Term):
    __slots__ = ()
    argspec = (1, None)

    @staticmethod
    def op(a: int, b: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> int | float:
        args = self.args
        acc = _bit_operand(await args[0].eval(q, env))
        for a in args[1:]:
            acc = self.op(acc, _bit_operand(await a.eval(q, env)))
        return num(acc)


@register(T.BIT_AND)
class BitAnd(_BitFold):
    __slots__ = ()
    name = "bit_and"
    op = staticmethod(lambda a, b: a & b)


@register(T.BIT_OR)
class BitOr(_BitFold):
    __slots__ = ()
    name = "bit_or"
    op = staticmethod(lambda a, b: a | b)


@register(T.BIT_XOR)
class BitXor(_BitFold):
    __slots__ = ()
    name = "bit_xor"
    op = staticmethod(lambda a, b: a ^ b)


@register(T.BIT_NOT)
class BitNot(Term):
    __slots__ = ()
    name = "bit_not"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> int | float:
        return num(~_bit_operand(await self.args[0].eval(q, env)))


class _Shift(Term):
    __slots__ = ()
    argspec = (2, 2)

    @staticmethod
    def shift(a: int, n: int) -> int | float:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> int | float:
        a = _bit_operand(await self.args[0].eval(q, env))
        n = _int_of(as_datum(await self.args[1].eval(q, env)))
        if n < 0:
            raise ReqlQueryLogicError("Cannot bit-shift by a negative value")
        return _finite(self.shift(a, n))


def _sal(a: int, n: int) -> int | float:
    # ldexp semantics: an exact double, +-inf on overflow; huge shifts overflow to +inf
    # (RethinkDB returns HUGE_VAL for shifts of 4096 and more, whatever the sign).
    if a == 0:
        return 0
    if n >= 4096:
        return math.inf
    try:
        return math.ldexp(float(a), n)
    except OverflowError:
        return math.copysign(math.inf, a)


def _sar(a: int, n: int) -> int:
    if n > 63:
        return -1 if a < 0 else 0
    return a >> n


@register(T.BIT_SAL)
class BitSal(_Shift):
    __slots__ = ()
    name = "bit_sal"
    shift = staticmethod(_sal)


@register(T.BIT_SAR)
class BitSar(_Shift):
    __slots__ = ()
    name = "bit_sar"
    shift = staticmethod(_sar)
