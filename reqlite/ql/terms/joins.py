"""Joins: inner_join, outer_join, eq_join and zip.

``inner_join``/``outer_join`` follow RethinkDB's rewrites: for every left element the
right sequence is evaluated again and scanned, pairs the predicate accepts become
``{"left": l, "right": r}`` (``outer_join`` keeps a left element without match as
``{"left": l}``). ``eq_join`` looks every left element's key up in the right table's
primary index (a batch of left elements per read transaction) or in a secondary index,
and keeps the left order.
All of them are lazy streams (arrays when the left side is an array, except eq_join).
``zip`` merges each pair's ``right`` into its ``left``.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...datum.keys import encode_key
from ...errors import ReqlError, ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from .. import indexing
from ..streams import CHECK_EVERY, DEFAULT_HINT, MapStream, NativeStream, Stream
from ..term import Term, as_bool, as_datum, as_function, as_string, register, truthy
from ..values import Function, NativeFunction, Table
from .obj import merge_datums
from .seq import field_getter, filter_predicate, finish, per_group, seq_source, val_type_error


class _Join(Term):
    __slots__ = ()
    argspec = (3, 3)

    async def eval(self, q: Any, env: dict) -> Any:
        left = await self.args[0].eval(q, env)
        right_term = self.args[1]
        f = as_function(await self.args[2].eval(q, env), shortcut=False)
        each = self.each(q, env, right_term, f)
        g = await per_group(q, left, lambda v: finish(q, v, NativeStream(seq_source(q, v), each)))
        if g is not None:
            return g
        return await finish(q, left, NativeStream(seq_source(q, left), each))

    def each(self, q: Any, env: dict, right_term: Term, f: Function) -> Any:  # pragma: no cover
        raise NotImplementedError


async def _right_rows(q: Any, env: dict, right_term: Term) -> Stream:
    return seq_source(q, await right_term.eval(q, env))


@register(T.INNER_JOIN)
class InnerJoin(_Join):
    __slots__ = ()
    name = "inner_join"

    def each(self, q: Any, env: dict, right_term: Term, f: Function) -> Any:
        async def join(q_: Any, left: Any) -> list:
            out = []
            right = await _right_rows(q_, env, right_term)
            while True:
                batch = await right.next_batch(q_, DEFAULT_HINT)
                if batch is None:
                    return out
                for i, r in enumerate(batch):
                    if truthy(as_datum(await f.call(q_, [left, r]))):
                        out.append({"left": left, "right": r})
                    if i % CHECK_EVERY == CHECK_EVERY - 1:
                        await q_.checkpoint()

        return join


@register(T.OUTER_JOIN)
class OuterJoin(_Join):
    __slots__ = ()
    name = "outer_join"

    def each(self, q: Any, env: dict, right_term: Term, f: Function) -> Any:
        async def join(q_: Any, left: Any) -> list:
            async def call(q2: Any, r: Any) -> Any:
                return await f.call(q2, [left, r])

            pred = filter_predicate(NativeFunction(call, 1))
            out = []
            right = await _right_rows(q_, env, right_term)
            while True:
                batch = await right.next_batch(q_, DEFAULT_HINT)
                if batch is None:
                    break
                for i, r in enumerate(batch):
                    if await pred(q_, r):
                        out.append({"left": left, "right": r})
                    if i % CHECK_EVERY == CHECK_EVERY - 1:
                        await q_.checkpoint()
            return out if out else [{"left": left}]

        return join


class EqJoinStream(Stream):
    """``eq_join`` on the primary index: left rows joined to the right document whose
    primary key is the row's key (rows without a key or a match are dropped)."""

    __slots__ = ("src", "key", "right", "index", "spec")

    def __init__(self, src: Stream, key: Any, right: Table, index: str | None = None, spec: Any = None) -> None:
        super().__init__(None)
        self.src = src
        self.key = key
        self.right = right
        self.index = index  # a secondary index (None: the primary key)
        self.spec = spec

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    async def next_batch(self, q: Any, hint: int) -> list | None:
        prefix = self.right.config.docs_prefix
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            wanted = []
            for i, row in enumerate(batch):
                try:
                    k = as_datum(await self.key(q, row))
                except ReqlNonExistenceError:
                    continue
                if k is None:
                    continue
                if self.index is not None:
                    wanted.append((row, k))
                    continue
                try:
                    wanted.append((row, prefix + encode_key(k)))
                except (ReqlError, ValueError, TypeError):
                    continue  # not a possible primary key: no match
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    await q.checkpoint()
            out = []
            if wanted and self.index is not None:
                for row, k in wanted:
                    if indexing.encode_value(k) is None:
                        continue
                    scan = indexing.equal_scan(q, self.right, self.index, self.spec, k)
                    while True:
                        docs = await scan.next_batch(q, DEFAULT_HINT)
                        if docs is None:
                            break
                        out.extend({"left": row, "right": d} for d in docs)
            elif wanted:
                with q.store.read() as txn:
                    raws = [(row, txn.get(key)) for row, key in wanted]
                loads = orjson.loads
                out = [{"left": row, "right": loads(raw)} for row, raw in raws if raw is not None]
            if out:
                return out

    def close(self) -> None:
        self.src.close()


@register(T.EQ_JOIN)
class EqJoin(Term):
    __slots__ = ()
    name = "eq_join"
    argspec = (3, 3)
    optargspec = ("index", "ordered")
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Any:
        left = await self.args[0].eval(q, env)
        key = field_getter(await self.args[1].eval(q, env), self.args[1].bt)
        right = await self.args[2].eval(q, env)
        if not isinstance(right, Table):
            raise val_type_error("TABLE", right)
        index = spec = None
        if "index" in self.optargs:
            index = as_string(await self.optargs["index"].eval(q, env))
            if index == right.primary_key:
                index = None
            else:
                spec = indexing.ready_spec(right, index)
        if "ordered" in self.optargs:
            as_bool(await self.optargs["ordered"].eval(q, env))  # results keep the left order anyway
        g = await per_group(q, left, lambda v: finish(q, v, EqJoinStream(seq_source(q, v), key, right, index, spec)))
        if g is not None:
            return g
        return EqJoinStream(seq_source(q, left), key, right, index, spec)


async def _zip_one(q: Any, x: Any) -> Any:
    d = as_datum(x)
    if d.__class__ is not dict or "left" not in d:
        raise ReqlQueryLogicError("ZIP can only be called on the result of a join.")
    if "right" in d:
        return merge_datums(d["left"], d["right"])
    return d["left"]


@register(T.ZIP)
class Zip(Term):
    __slots__ = ()
    name = "zip"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        v = await self.args[0].eval(q, env)
        fn = NativeFunction(_zip_one, 1)
        g = await per_group(q, v, lambda x: finish(q, x, MapStream(seq_source(q, x), fn)))
        if g is not None:
            return g
        return await finish(q, v, MapStream(seq_source(q, v), fn))
