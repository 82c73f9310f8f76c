"""Building values: arrays, objects, binary data, ``r.minval``/``r.maxval``, variables and
functions (RethinkDB's datum_terms/var/func)."""

from __future__ import annotations

from typing import Any

from ...datum.binary import is_binary, make_binary
from ...datum.types import MAXVAL_DATUM, MINVAL_DATUM
from ...errors import ReqlCompileError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..datum_input import sanitize_pseudo
from ..streams import check_array_limit
from ..term import DatumTerm, Term, as_datum, as_string, register
from ..values import Function


@register(T.MAKE_ARRAY)
class MakeArray(Term):
    __slots__ = ()
    name = "make_array"

    async def eval(self, q: Any, env: dict) -> Any:
        out = [as_datum(await a.eval(q, env)) for a in self.args]
        check_array_limit(q, len(out))
        return out


@register(T.MAKE_OBJ)
class MakeObj(Term):
    """An object literal whose values are computed (constant ones are folded at compile)."""

    __slots__ = ()
    name = "make_obj"

    @classmethod
    def check_optargs(cls, names: Any) -> None:
        """Every key is a field name, not an optional argument."""

    async def eval(self, q: Any, env: dict) -> Any:
        obj = {k: as_datum(await t.eval(q, env)) for k, t in self.optargs.items()}
        if "$reql_type$" in obj:
            return sanitize_pseudo(obj)
        return obj


@register(T.VAR)
class Var(Term):
    __slots__ = ("var_id",)
    name = "var"
    argspec = (1, 1)

    def __init__(self, args: list[Term], optargs: dict, bt: tuple) -> None:
        super().__init__(args, optargs, bt)
        a = args[0]
        if a.__class__ is not DatumTerm or a.value.__class__ is not int:
            raise ReqlCompileError("Variable name must be an integer.")
        self.var_id = a.value

    async def eval(self, q: Any, env: dict) -> Any:
        try:
            return env[self.var_id]
        except KeyError:
            raise ReqlQueryLogicError("Variable name not found.") from None


@register(T.IMPLICIT_VAR)
class ImplicitVar(Term):
    __slots__ = ()
    name = "implicit_var"
    argspec = (0, 0)

    async def eval(self, q: Any, env: dict) -> Any:
        raise ReqlCompileError("r.row is not defined in this context.")


@register(T.FUNC)
class Func(Term):
    """``[FUNC, [[MAKE_ARRAY, ids...], body]]``: evaluates to a closure."""

    __slots__ = ("params",)
    name = "func"
    argspec = (2, 2)

    def __init__(self, args: list[Term], optargs: dict, bt: tuple) -> None:
        super().__init__(args, optargs, bt)
        spec = args[0]
        if spec.__class__ is not DatumTerm or spec.value.__class__ is not list:
            raise ReqlCompileError("Function parameters must be an array of variable ids.")
        params = spec.value
        for p in params:
            if p.__class__ is not int:
                raise ReqlCompileError("Function parameters must be integers.")
        self.params = params

    async def eval(self, q: Any, env: dict) -> Function:
        return Function(self.params, self.args[1], env, self)

    def is_deterministic(self) -> bool:
        return self.args[1].is_deterministic()


@register(T.BINARY)
class Binary(Term):
    """``r.binary(x)``: binary data from a string's UTF-8 bytes (binary data passes through)."""

    __slots__ = ()
    name = "binary"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        v = as_datum(await self.args[0].eval(q, env))
        if is_binary(v):
            return v
        return make_binary(as_string(v).encode("utf-8"))


@register(T.MINVAL)
class MinVal(Term):
    """``r.minval``: sorts before every other value (only usable in comparisons and bounds)."""

    __slots__ = ()
    name = "minval"
    argspec = (0, 0)

    async def eval(self, q: Any, env: dict) -> Any:
        return MINVAL_DATUM


@register(T.MAXVAL)
class MaxVal(Term):
    """``r.maxval``: sorts after every other value."""

    __slots__ = ()
    name = "maxval"
    argspec = (0, 0)

    async def eval(self, q: Any, env: dict) -> Any:
        return MAXVAL_DATUM
