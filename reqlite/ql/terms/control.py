"""Control flow: funcall (``r.do``), branch, and/or, default, error and ``r.args``."""

from __future__ import annotations

from typing import Any

from ...errors import ReqlCompileError, ReqlNonExistenceError, ReqlQueryLogicError, ReqlUserError
from ...wire.ql2 import TermType as T
from ..term import DatumTerm, Term, as_array, as_datum, as_function, as_string, register, truthy
from ..values import Function, GroupedData, kind_of


@register(T.FUNCALL)
class Funcall(Term):
    """``[FUNCALL, [func, arg1, ...]]`` — the driver's ``r.do(arg1, ..., func)``.

    The function is evaluated first (a datum stands for a constant function), then the
    arguments, which must be datums; on grouped data the function runs per group.
    """

    __slots__ = ()
    name = "funcall"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        f = as_function(await self.args[0].eval(q, env))
        if len(self.args) == 1:
            return await f.call(q, [])
        first = await self.args[1].eval(q, env)
        rest = [as_datum(await a.eval(q, env)) for a in self.args[2:]]
        if getattr(first, "is_grouped", False):
            first = await first.materialize(q)
        if first.__class__ is GroupedData:
            out = {}
            for h, (key, value) in first.groups.items():
                out[h] = (key, as_datum(await f.call(q, [value, *rest])))
            return GroupedData(out)
        return await f.call(q, [as_datum(first), *rest])


@register(T.BRANCH)
class Branch(Term):
    """``r.branch(c1, v1, c2, v2, ..., else)``: only the chosen value is evaluated."""

    __slots__ = ()
    name = "branch"
    argspec = (3, None)

    @classmethod
    def check_arity(cls, nargs: int) -> None:
        super().check_arity(nargs)
        if nargs % 2 == 0:
            raise ReqlQueryLogicError("Cannot call `branch` term with an even number of arguments.")

    async def eval(self, q: Any, env: dict) -> Any:
        args = self.args
        n = len(args)
        i = 0
        while i + 1 < n:
            if truthy(as_datum(await args[i].eval(q, env))):
                return await args[i + 1].eval(q, env)
            i += 2
        return await args[n - 1].eval(q, env)


@register(T.OR)
class Or(Term):
    __slots__ = ()
    name = "or"
    argspec = (0, None)

    async def eval(self, q: Any, env: dict) -> Any:
        v: Any = False
        for a in self.args:
            v = as_datum(await a.eval(q, env))
            if truthy(v):
                return v
        return v


@register(T.AND)
class And(Term):
    __slots__ = ()
    name = "and"
    argspec = (0, None)

    async def eval(self, q: Any, env: dict) -> Any:
        v: Any = True
        for a in self.args:
            v = as_datum(await a.eval(q, env))
            if not truthy(v):
                return v
        return v


class ReqlEmptyUserError(ReqlQueryLogicError):
    """``r.error()`` without a message: inside a ``default`` handler (or a filter's
    ``default``) it re-raises the error being handled; anywhere else it reaches the
    client as "Empty ERROR term outside a default block."."""


EMPTY_ERROR = "Empty ERROR term outside a default block."


@register(T.DEFAULT)
class Default(Term):
    """``x.default(d)``: d when x is null or fails with a non-existence error.

    A function ``d`` receives the error message (or null when x was null). When
    evaluating ``d`` raises ``r.error()`` the original error is raised again (or null is
    returned when there was none).
    """

    __slots__ = ()
    name = "default"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        caught: ReqlNonExistenceError | None = None
        try:
            v = await self.args[0].eval(q, env)
        except ReqlNonExistenceError as exc:
            caught = exc
            arg: Any = exc.message
        else:
            kind = kind_of(v)
            if kind != "DATUM" and kind != "SINGLE_SELECTION":
                return v
            if as_datum(v) is not None:
                return v
            arg = None
        try:
            d = await self.args[1].eval(q, env)
            if isinstance(d, Function):
                return await d.call(q, [arg])
            return d
        except ReqlEmptyUserError:
            if caught is not None:
                raise caught from None
            return None


async def filter_default(q: Any, env: dict, default: Term, exc: ReqlNonExistenceError) -> bool:
    """Whether ``filter(..., default=d)`` keeps a row whose predicate failed with ``exc``.

    RethinkDB evaluates ``d`` lazily, only after such an error (a function is called
    without arguments); ``r.error()`` in it re-raises ``exc``.
    """
    try:
        d = await default.eval(q, env)
        if isinstance(d, Function):
            d = await d.call(q, [])
        return truthy(as_datum(d))
    except ReqlEmptyUserError:
        raise exc from None


@register(T.ERROR)
class Error(Term):
    __slots__ = ()
    name = "error"
    argspec = (0, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        if not self.args:
            raise ReqlEmptyUserError(EMPTY_ERROR)
        raise ReqlUserError(as_string(await self.args[0].eval(q, env)))


@register(T.ARGS)
class Args(Term):
    """``r.args(array)``: only meaningful as an argument, where it is spliced in."""

    __slots__ = ()
    name = "args"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        return as_array(await self.args[0].eval(q, env))


class ArgsSplice(Term):
    """A term some of whose arguments are ``r.args(...)``: expand them, then run the term.

    Arity can only be checked once the arrays are known, so it is checked here at run
    time, where RethinkDB reports it as a runtime (query logic) error.
    """

    __slots__ = ("impl",)
    name = "args"

    def __init__(self, impl: type[Term], args: list[Term], optargs: dict, bt: tuple) -> None:
        super().__init__(args, optargs, bt)
        self.impl = impl

    def is_deterministic(self) -> bool:
        return self.impl.deterministic and super().is_deterministic()

    async def eval(self, q: Any, env: dict) -> Any:
        expanded: list[Term] = []
        for a in self.args:
            if a.tt == T.ARGS:
                for v in as_array(await a.eval(q, env)):
                    expanded.append(DatumTerm(v, a.bt))
            else:
                expanded.append(a)
        try:
            self.impl.check_arity(len(expanded))
        except ReqlCompileError as exc:
            raise ReqlQueryLogicError(exc.message, self) from None
        return await self.impl(expanded, self.optargs, self.bt).eval(q, env)
