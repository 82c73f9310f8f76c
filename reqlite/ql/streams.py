"""Lazy sequences: streams that are pulled in batches.

A ``Stream`` produces its elements through ``await next_batch(q, hint)``, which
returns a non-empty list, or None once exhausted. ``hint`` is how many elements the
consumer would like (a ``limit(10)`` asks for 10); a stream may return fewer or more.
Transformations wrap their source stream and do their work only when pulled, so
``r.table('big').map(f).limit(10)`` reads a handful of documents, and the server sends
a stream to the client batch by batch (CONTINUE pulls the next batch).

Source streams call ``q.checkpoint()`` once per batch: that is where a long query
yields to other connections and where STOP or a client disconnect cancels it.

Selections: a stream whose elements are unmodified documents of one table carries that
table in ``table`` so writes (``filter(...).update(...)``) can target it.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import ReqlQueryLogicError, ReqlResourceLimitError
from .values import Function

DEFAULT_HINT = 1000


class Stream:
    """Base class for lazy sequences."""

    __slots__ = ("table",)
    kind = "SEQUENCE"
    infinite = False

    def __init__(self, table: Any = None) -> None:
        self.table = table

    def type_of_name(self) -> str:
        return "SELECTION<STREAM>" if self.table is not None else "STREAM"

    def kind_name(self) -> str:
        """The name RethinkDB uses in "Expected type X but found Y" for this stream."""
        return "SELECTION" if self.table is not None else "SEQUENCE"

    async def next_batch(self, q: Any, hint: int) -> list | None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Release resources early (the consumer stopped reading)."""


class ArrayStream(Stream):
    """An array datum viewed as a stream."""

    __slots__ = ("items", "pos", "is_array")

    def __init__(self, items: list, table: Any = None, is_array: bool = True) -> None:
        super().__init__(table)
        self.items = items
        self.pos = 0
        self.is_array = is_array  # False: a computed stream (e.g. get_all), not an array datum

    def type_of_name(self) -> str:
        if self.is_array:
            return "SELECTION<ARRAY>" if self.table is not None else "ARRAY"
        return "SELECTION<STREAM>" if self.table is not None else "STREAM"

    async def next_batch(self, q: Any, hint: int) -> list | None:
        pos = self.pos
        items = self.items
        if pos >= len(items):
            return None
        n = max(hint, DEFAULT_HINT)
        batch = items[pos : pos + n]
        self.pos = pos + len(batch)
        if len(batch) >= DEFAULT_HINT:
            await q.checkpoint()
        return batch


class RangeStream(Stream):
    """``r.range``: integers from ``start`` to ``end`` (exclusive); infinite without end."""

    __slots__ = ("cur", "end")

    def __init__(self, start: int, end: int | None) -> None:
        super().__init__(None)
        self.cur = start
        self.end = end

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.end is None

    async def next_batch(self, q: Any, hint: int) -> list | None:
        cur = self.cur
        n = max(1, min(hint, DEFAULT_HINT))
        stop = cur + n if self.end is None else min(self.end, cur + n)
        if cur >= stop:
            return None
        self.cur = stop
        await q.checkpoint()
        return list(range(cur, stop))


class TableScan(Stream):
    """Documents of a table in primary-key order, read in batches.

    Each batch opens its own short read transaction and resumes after the last key it
    returned, so a scan never pins an old LMDB snapshot between batches and never
    holds the whole table in memory.
    """

    __slots__ = ("store", "prefix", "start", "end", "reverse", "last_key", "done", "batch", "slice_kind")

    def __init__(
        self,
        store: Any,
        table: Any,
        start: bytes | None = None,
        end: bytes | None = None,
        reverse: bool = False,
    ) -> None:
        super().__init__(table)
        self.store = store
        self.prefix = table.config.docs_prefix
        self.start = start
        self.end = end
        self.reverse = reverse
        self.last_key: bytes | None = None
        self.done = False
        self.batch = 16  # first batch small (answer fast), then grow
        self.slice_kind = False

    def type_of_name(self) -> str:
        return "TABLE_SLICE" if self.slice_kind else "SELECTION<STREAM>"

    async def next_batch(self, q: Any, hint: int) -> list | None:
        if self.done:
            return None
        from ..storage import scan

        n = max(1, min(max(hint, self.batch), DEFAULT_HINT))
        self.batch = min(self.batch * 4, DEFAULT_HINT)
        with self.store.read() as txn:
            rows = scan(txn, self.prefix, self.start, self.end, n, self.reverse, self.last_key)
        if len(rows) < n:
            self.done = True
        if not rows:
            return None
        self.last_key = rows[-1][0]
        loads = orjson.loads
        await q.checkpoint()
        return [loads(v) for _, v in rows]


class MapStream(Stream):
    __slots__ = ("src", "func")

    def __init__(self, src: Stream, func: Function) -> None:
        super().__init__(None)
        self.src = src
        self.func = func

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    async def next_batch(self, q: Any, hint: int) -> list | None:
        batch = await self.src.next_batch(q, hint)
        if batch is None:
            return None
        call = self.func.call1
        return [await call(q, x) for x in batch]


class FilterStream(Stream):
    """Keeps elements for which the predicate is truthy; ``default`` handles missing fields."""

    __slots__ = ("src", "pred", "default")

    _NO_DEFAULT = object()

    def __init__(self, src: Stream, pred: Function, default: Any = _NO_DEFAULT) -> None:
        super().__init__(src.table)
        self.src = src
        self.pred = pred
        self.default = default

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    def type_of_name(self) -> str:
        return self.src.type_of_name() if self.src.table is not None else "STREAM"

    async def next_batch(self, q: Any, hint: int) -> list | None:
        from ..errors import ReqlNonExistenceError
        from .term import truthy

        call = self.pred.call1
        default = self.default
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out = []
            for x in batch:
                try:
                    keep = await call(q, x)
                except ReqlNonExistenceError:
                    if default is FilterStream._NO_DEFAULT:
                        keep = False
                    elif isinstance(default, Function):
                        keep = await default.call(q, [])
                    else:
                        keep = default
                if keep is not None and keep is not False:
                    out.append(x)
            if out:
                return out


class ConcatMapStream(Stream):
    __slots__ = ("src", "func", "pending")

    def __init__(self, src: Stream, func: Function) -> None:
        super().__init__(None)
        self.src = src
        self.func = func
        self.pending: Stream | None = None

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while True:
            if self.pending is not None:
                b = await self.pending.next_batch(q, hint)
                if b is not None:
                    return b
                self.pending = None
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out: list = []
            for x in batch:
                v = await self.func.call1(q, x)
                if isinstance(v, list):
                    out.extend(v)
                elif isinstance(v, Stream):
                    while True:
                        b = await v.next_batch(q, DEFAULT_HINT)
                        if b is None:
                            break
                        out.extend(b)
                else:
                    from .term import as_datum, type_error

                    raise type_error("SEQUENCE", as_datum(v))
            if out:
                return out


class SkipStream(Stream):
    __slots__ = ("src", "n")

    def __init__(self, src: Stream, n: int) -> None:
        super().__init__(src.table)
        self.src = src
        self.n = n

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    def type_of_name(self) -> str:
        return self.src.type_of_name()

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while True:
            batch = await self.src.next_batch(q, hint + self.n if self.n else hint)
            if batch is None:
                return None
            if self.n:
                if len(batch) <= self.n:
                    self.n -= len(batch)
                    continue
                batch = batch[self.n :]
                self.n = 0
            return batch


class LimitStream(Stream):
    __slots__ = ("src", "n")

    def __init__(self, src: Stream, n: int) -> None:
        super().__init__(src.table)
        self.src = src
        self.n = n

    def type_of_name(self) -> str:
        return self.src.type_of_name()

    async def next_batch(self, q: Any, hint: int) -> list | None:
        if self.n <= 0:
            self.src.close()
            return None
        batch = await self.src.next_batch(q, min(hint, self.n))
        if batch is None:
            return None
        if len(batch) > self.n:
            batch = batch[: self.n]
        self.n -= len(batch)
        return batch

    def close(self) -> None:
        self.src.close()


def check_array_limit(q: Any, n: int) -> None:
    limit = q.array_limit
    if n > limit:
        raise ReqlResourceLimitError(
            f"Array over size limit `{limit}`.  To raise the number of allowed elements, "
            "modify the `array_limit` option to `.run` (not available in the Data Explorer), "
            "or use an index."
        )


async def to_list(q: Any, stream: Stream, limit_check: bool = True) -> list:
    """Drain a stream into a list (enforcing ``array_limit``)."""
    if stream.infinite:
        raise ReqlQueryLogicError(
            "Cannot use an infinite stream with an aggregation function (`reduce`, `count`, etc.) "
            "or coerce it to an array."
        )
    out: list = []
    while True:
        batch = await stream.next_batch(q, DEFAULT_HINT)
        if batch is None:
            return out
        out.extend(batch)
        if limit_check:
            check_array_limit(q, len(out))


def to_stream(q: Any, value: Any) -> Stream:
    """A stream over any sequence value (array datum, table, stream); type error otherwise."""
    if isinstance(value, Stream):
        return value
    cls = value.__class__
    if cls is list:
        return ArrayStream(value)
    kind = getattr(cls, "kind", None)
    if kind == "TABLE":
        return TableScan(q.store, value)
    from .term import as_datum, type_error

    raise type_error("SEQUENCE", as_datum(value) if kind is None else value)


def is_sequence(value: Any) -> bool:
    return value.__class__ is list or isinstance(value, Stream) or getattr(value.__class__, "kind", None) == "TABLE"
