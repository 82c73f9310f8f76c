"""Values a term can evaluate to besides datums: databases, tables, selections,
functions and grouped data — and RethinkDB's names for each kind.

RethinkDB distinguishes these in its error messages ("Expected type SEQUENCE but
found DATABASE.") and in ``type_of`` ("TABLE", "SELECTION<STREAM>", …); the two naming
schemes live here next to each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ..datum.types import type_name

if TYPE_CHECKING:
    from ..storage import DatabaseConfig, TableConfig


class Database:
    """``r.db(name)``."""

    __slots__ = ("config",)
    kind = "DATABASE"
    type_of = "DB"

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name


class Table:
    """``r.table(name)``: a sequence of documents and a target for writes."""

    __slots__ = ("db", "config", "read_mode")
    kind = "TABLE"
    type_of = "TABLE"

    def __init__(self, db: DatabaseConfig, config: TableConfig, read_mode: str = "single") -> None:
        self.db = db
        self.config = config
        self.read_mode = read_mode

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def primary_key(self) -> str:
        return self.config.primary_key

    def display_name(self) -> str:
        return f"{self.db.name}.{self.config.name}"


class SingleSelection:
    """A document addressed by primary key (``get``, ``nth`` of a selection): readable and writable.

    ``raw`` optionally holds the document's stored JSON; ``doc`` is then decoded only if
    someone looks at it, and a query that just returns the document sends ``raw`` as is.
    """

    __slots__ = ("table", "key", "_doc", "raw")
    kind = "SINGLE_SELECTION"
    type_of = "SELECTION<OBJECT>"

    def __init__(self, table: Table, key: Any, doc: Any = None, raw: bytes | None = None) -> None:
        self.table = table
        self.key = key
        self._doc = _UNDECODED if raw is not None else doc  # the document, or None if missing
        self.raw = raw

    @property
    def doc(self) -> Any:
        d = self._doc
        if d is _UNDECODED:
            d = self._doc = orjson.loads(self.raw)
        return d

    @doc.setter
    def doc(self, value: Any) -> None:
        self._doc = value
        self.raw = None


_UNDECODED = object()


class Function:
    """A closure: parameter variable ids, a body term, and the bindings it captured."""

    __slots__ = ("params", "body", "env", "term")
    kind = "FUNCTION"
    type_of = "FUNCTION"

    def __init__(self, params: list[int], body: Any, env: dict, term: Any = None) -> None:
        self.params = params
        self.body = body
        self.env = env
        self.term = term

    @property
    def arity(self) -> int:
        return len(self.params)

    async def call(self, q: Any, args: list[Any]) -> Any:
        return await self.body.eval(q, self.bind(args))

    def bind(self, args: list[Any]) -> dict:
        """The environment of a call with ``args`` (checks the arity as RethinkDB does:
        a function without parameters accepts, and ignores, any arguments)."""
        params = self.params
        if len(args) != len(params):
            if not params:
                return self.env
            from ..errors import ReqlQueryLogicError

            raise ReqlQueryLogicError(
                f"Expected function with {len(args)} argument{'s' if len(args) != 1 else ''} "
                f"but found function with {len(params)} argument{'s' if len(params) != 1 else ''}."
            )
        env = dict(self.env)
        for p, a in zip(params, args, strict=True):
            env[p] = a
        return env

    async def call1(self, q: Any, arg: Any) -> Any:
        """Call a one-argument function (the hot path of map/filter)."""
        params = self.params
        if len(params) != 1:
            return await self.call(q, [arg])
        env = dict(self.env)
        env[params[0]] = arg
        return await self.body.eval(q, env)


class ConstFunction(Function):
    """A datum used where a function is expected: ignores its arguments."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        super().__init__([], None, {})
        self.value = value

    @property
    def arity(self) -> int:
        return -1

    async def call(self, q: Any, args: list[Any]) -> Any:
        return self.value

    async def call1(self, q: Any, arg: Any) -> Any:
        return self.value


class NativeFunction(Function):
    """A Python coroutine function standing in for a ReQL function (internal use)."""

    __slots__ = ("fn", "n")

    def __init__(self, fn: Any, n: int) -> None:
        super().__init__([], None, {})
        self.fn = fn
        self.n = n

    @property
    def arity(self) -> int:
        return self.n

    async def call(self, q: Any, args: list[Any]) -> Any:
        return await self.fn(q, *args)

    async def call1(self, q: Any, arg: Any) -> Any:
        return await self.fn(q, arg)


class GroupedData:
    """Result of ``group``: an ordered mapping from group key to a value (datum or list)."""

    __slots__ = ("groups",)
    kind = "GROUPED_DATA"
    type_of = "GROUPED_DATA"

    def __init__(self, groups: dict[Any, tuple[Any, Any]]) -> None:
        # hashable(key) -> (key, value)
        self.groups = groups


def kind_of(value: Any) -> str:
    """RethinkDB's coarse value type, as used in "Expected type X but found Y."."""
    kind = getattr(value.__class__, "kind", None)
    if kind is not None:
        return kind
    return "DATUM"


def type_of(value: Any) -> str:
    """What ``r.type_of`` answers."""
    t = getattr(value.__class__, "type_of", None)
    if t is not None:
        if callable(t):
            return t(value)
        return t
    return type_name(value)
