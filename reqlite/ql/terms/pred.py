"""Comparisons and negation in ReQL's total order (RethinkDB's pred terms)."""

from __future__ import annotations

from typing import Any

from ...datum.order import compare, datum_eq
from ...wire.ql2 import TermType as T
from ..term import Term, as_datum, register, truthy


class _Chain(Term):
    """``r.lt(a, b, c)`` means a < b < c: each neighbouring pair must satisfy the test.

    Like RethinkDB, evaluation stops at the first pair that fails (later arguments are
    not evaluated); ``ne`` is the negation of ``eq`` over the same chain.
    """

    __slots__ = ()
    argspec = (2, None)
    invert = False

    @staticmethod
    def test(a: Any, b: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    async def eval(self, q: Any, env: dict) -> bool:
        args = self.args
        test = self.test
        prev = as_datum(await args[0].eval(q, env))
        for a in args[1:]:
            cur = as_datum(await a.eval(q, env))
            if not test(prev, cur):
                return self.invert
            prev = cur
        return not self.invert


@register(T.EQ)
class Eq(_Chain):
    __slots__ = ()
    name = "eq"
    test = staticmethod(datum_eq)


@register(T.NE)
class Ne(_Chain):
    """``r.ne(a, b, c)`` is ``not r.eq(a, b, c)``."""

    __slots__ = ()
    name = "ne"
    invert = True
    test = staticmethod(datum_eq)


@register(T.LT)
class Lt(_Chain):
    __slots__ = ()
    name = "lt"
    test = staticmethod(lambda a, b: compare(a, b) < 0)


@register(T.LE)
class Le(_Chain):
    __slots__ = ()
    name = "le"
    test = staticmethod(lambda a, b: compare(a, b) <= 0)


@register(T.GT)
class Gt(_Chain):
    __slots__ = ()
    name = "gt"
    test = staticmethod(lambda a, b: compare(a, b) > 0)


@register(T.GE)
class Ge(_Chain):
    __slots__ = ()
    name = "ge"
    test = staticmethod(lambda a, b: compare(a, b) >= 0)


@register(T.NOT)
class Not(Term):
    __slots__ = ()
    name = "not"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> bool:
        return not truthy(as_datum(await self.args[0].eval(q, env)))
