"""Compiled terms: the base class, the registry from term type to class, and the
argument helpers every term family uses.

A term family module defines classes like::

    @register(TermType.ADD)
    class Add(Term):
        name = "add"
        argspec = (1, None)          # at least one argument, no maximum
        optargspec = ()              # accepted optional arguments

        async def eval(self, q, env):
            ...

The compiler checks arity and optional arguments against ``argspec``/``optargspec``
once, with RethinkDB's messages, so no term writes those checks itself. ``eval``
receives the query context ``q`` (store, run options, limits) and ``env``, the
variable bindings in scope (var id -> value).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..datum.types import MAX_SAFE_INT, _Extreme, type_name
from ..errors import ReqlCompileError, ReqlNonExistenceError, ReqlQueryLogicError
from .values import ConstFunction, Function, kind_of

REGISTRY: dict[int, type[Term]] = {}


def register(*term_types: int):
    """Class decorator: make a Term subclass the implementation of ``term_types``."""

    def deco(cls: type[Term]) -> type[Term]:
        for tt in term_types:
            if tt in REGISTRY:
                raise RuntimeError(f"term type {tt} registered twice ({REGISTRY[tt].__name__}, {cls.__name__})")
            REGISTRY[tt] = cls
        if not term_types:
            raise RuntimeError("register() needs a term type")
        cls.tt = term_types[0]
        return cls

    return deco


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Term:
    """A node of a compiled query."""

    __slots__ = ("args", "optargs", "bt")

    tt: ClassVar[int] = 0
    name: ClassVar[str] = "term"
    argspec: ClassVar[tuple[int, int | None]] = (0, None)
    optargspec: ClassVar[tuple[str, ...] | frozenset[str]] = ()
    # True when the term reads nothing outside its arguments and always gives the same
    # result (used for the non_atomic checks of writes).
    deterministic: ClassVar[bool] = True
    # True for terms that need the JSON of their arguments as sent (they get `raw_args`;
    # such a class must declare a `raw_args` slot).
    keeps_raw_args: ClassVar[bool] = False

    def __init__(self, args: list[Term], optargs: dict[str, Term], bt: tuple) -> None:
        self.args = args
        self.optargs = optargs
        self.bt = bt

    @classmethod
    def check_arity(cls, nargs: int) -> None:
        lo, hi = cls.argspec
        if hi is not None and lo == hi:
            if nargs != lo:
                raise ReqlCompileError(f"Expected {_plural(lo, 'argument')} but found {nargs}.")
        elif hi is None:
            if nargs < lo:
                raise ReqlCompileError(f"Expected {lo} or more arguments but found {nargs}.")
        elif not lo <= nargs <= hi:
            raise ReqlCompileError(f"Expected between {lo} and {hi} arguments but found {nargs}.")

    @classmethod
    def check_optargs(cls, names: Any) -> None:
        allowed = cls.optargspec
        for name in names:
            if name not in allowed:
                raise ReqlCompileError(f"Unrecognized optional argument `{name}`.")

    async def eval(self, q: Any, env: dict) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_deterministic(self) -> bool:
        """Whether this subtree always gives the same result and reads no other table."""
        if not self.deterministic:
            return False
        for a in self.args:
            if not a.is_deterministic():
                return False
        for a in self.optargs.values():
            if not a.is_deterministic():
                return False
        return True

    # -- argument helpers ----------------------------------------------------------

    async def arg(self, i: int, q: Any, env: dict) -> Any:
        return await self.args[i].eval(q, env)

    async def datum_arg(self, i: int, q: Any, env: dict) -> Any:
        return as_datum(await self.args[i].eval(q, env))

    async def num_arg(self, i: int, q: Any, env: dict) -> int | float:
        return as_number(await self.args[i].eval(q, env))

    async def int_arg(self, i: int, q: Any, env: dict) -> int:
        return as_int(await self.args[i].eval(q, env))

    async def str_arg(self, i: int, q: Any, env: dict) -> str:
        return as_string(await self.args[i].eval(q, env))

    async def bool_arg(self, i: int, q: Any, env: dict) -> bool:
        return as_bool(await self.args[i].eval(q, env))

    async def func_arg(self, i: int, q: Any, env: dict) -> Function:
        return as_function(await self.args[i].eval(q, env))

    def has_opt(self, name: str) -> bool:
        return name in self.optargs

    async def opt(self, name: str, q: Any, env: dict, default: Any = None) -> Any:
        t = self.optargs.get(name)
        if t is None:
            return default
        return await t.eval(q, env)

    async def datum_opt(self, name: str, q: Any, env: dict, default: Any = None) -> Any:
        t = self.optargs.get(name)
        if t is None:
            return default
        return as_datum(await t.eval(q, env))

    async def bool_opt(self, name: str, q: Any, env: dict, default: bool = False) -> bool:
        t = self.optargs.get(name)
        if t is None:
            return default
        return as_bool(await t.eval(q, env))


class DatumTerm(Term):
    """A literal value (also the result of constant-folding MAKE_ARRAY/MAKE_OBJ)."""

    __slots__ = ("value",)
    name = "datum"

    def __init__(self, value: Any, bt: tuple) -> None:
        super().__init__([], {}, bt)
        self.value = value

    async def eval(self, q: Any, env: dict) -> Any:
        return self.value


# -- conversions with RethinkDB's error messages ------------------------------------


def type_error(expected: str, value: Any) -> ReqlQueryLogicError:
    """RethinkDB's type error: "Expected type X but found Y." for a datum (a non-existence
    error when it is null), "Expected type X but found Y:" and the printed value otherwise."""
    found = kind_of(value)
    if found == "DATUM":
        found = type_name(value)
        if value is None:
            return ReqlNonExistenceError(f"Expected type {expected} but found {found}.")
        return ReqlQueryLogicError(f"Expected type {expected} but found {found}.")
    kind_name = getattr(value, "kind_name", None)
    if kind_name is not None:
        found = kind_name()
    return ReqlQueryLogicError(f"Expected type {expected} but found {found}:\n{print_value(value)}")


def print_value(value: Any) -> str:
    """RethinkDB's ``val_t::print``: the datum, or ``db("x")``, ``table("x")``, ..."""
    kind = kind_of(value)
    if kind == "DATUM":
        from ..datum.printing import print_datum

        return print_datum(value)
    if kind == "SINGLE_SELECTION":
        from ..datum.printing import print_datum

        return print_datum(value.doc)
    if kind == "DATABASE":
        return f'db("{value.name}")'
    if kind == "TABLE":
        return f'table("{value.name}")'
    table = getattr(value, "table", None)
    if table is not None and kind == "SEQUENCE":
        return f"SELECTION ON table({table.name})"
    kind_name = getattr(value, "kind_name", None)
    return f"VALUE {kind_name() if kind_name is not None else kind}"


def as_datum(value: Any) -> Any:
    cls = value.__class__
    if cls is dict or cls is list or cls is str or cls is int or cls is float or cls is bool or value is None:
        return value
    if cls is _Extreme:
        return value
    if getattr(cls, "kind", None) == "SINGLE_SELECTION":
        return value.doc
    raise type_error("DATUM", value)


def as_number(value: Any) -> int | float:
    value = as_datum(value)
    cls = value.__class__
    if cls is int or cls is float:
        return value
    raise type_error("NUMBER", value)


def as_int(value: Any) -> int:
    n = as_number(value)
    if n.__class__ is int:
        return n
    from ..datum.types import checked_int

    return checked_int(n)  # RethinkDB's messages, including the +-2^53 range


def as_safe_int(value: Any) -> int:
    n = as_int(value)
    if abs(n) > MAX_SAFE_INT:
        from ..datum.printing import format_number

        raise ReqlQueryLogicError(
            f"Number not an integer (out of exact range): {format_number(float(n))}"
        )
    return n


def as_string(value: Any) -> str:
    value = as_datum(value)
    if value.__class__ is str:
        return value
    raise type_error("STRING", value)


def as_bool(value: Any) -> bool:
    value = as_datum(value)
    if value.__class__ is bool:
        return value
    raise type_error("BOOL", value)


def as_array(value: Any) -> list:
    value = as_datum(value)
    if value.__class__ is list:
        return value
    raise type_error("ARRAY", value)


def as_object(value: Any) -> dict:
    value = as_datum(value)
    if value.__class__ is dict:
        return value
    raise type_error("OBJECT", value)


def as_function(value: Any, shortcut: bool = True) -> Function:
    """The value as a function; a datum stands for a constant function unless
    ``shortcut`` is False (RethinkDB's NO_SHORTCUT: ``map``, ``concat_map``, ``reduce``...),
    where it is "Expected type FUNCTION but found DATUM:"."""
    if isinstance(value, Function):
        return value
    if shortcut and kind_of(value) == "DATUM":
        return ConstFunction(value)
    if kind_of(value) == "DATUM":
        raise ReqlQueryLogicError(f"Expected type FUNCTION but found DATUM:\n{print_value(value)}")
    raise type_error("FUNCTION", value)


def truthy(value: Any) -> bool:
    """ReQL truthiness: everything but ``false`` and ``null`` is true."""
    return not (value is None or value is False)
