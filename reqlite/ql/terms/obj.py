"""Objects: field access, pluck/without with nested selectors, merge and r.literal."""

from __future__ import annotations

from typing import Any

from ...datum.printing import print_datum, trunc_print
from ...datum.types import REQL_TYPE
from ...errors import ReqlNonExistenceError, ReqlQueryLogicError
from ...wire.ql2 import TermType as T
from ..streams import MapStream, Stream, to_stream
from ..term import Term, as_datum, register, type_error
from ..values import Function, NativeFunction, SingleSelection

LITERAL = "LITERAL"


def get_field(obj: Any, field: str) -> Any:
    try:
        return obj[field]
    except KeyError:
        raise ReqlNonExistenceError(f"No attribute `{field}` in object:\n{print_datum(obj)}") from None


def is_sequence_value(v: Any) -> bool:
    return v.__class__ is list or isinstance(v, Stream) or getattr(v.__class__, "kind", None) == "TABLE"


async def map_over(q: Any, value: Any, fn, name: str, arg_desc: Any = None) -> Any:
    """Apply ``fn(datum)`` to a datum, or lazily to each element of a sequence."""
    if value.__class__ is dict:
        return fn(value)
    if isinstance(value, SingleSelection):
        return fn(value.doc) if value.doc is not None else fn(None)
    if is_sequence_value(value):
        async def each(q_: Any, x: Any) -> Any:
            return fn(x)

        if value.__class__ is list:
            return [fn(x) for x in value]
        return MapStream(to_stream(q, value), NativeFunction(each, 1))
    raise ReqlQueryLogicError(
        f"Cannot perform {name} on a non-object non-sequence `{trunc_print(as_datum(value))}`."
    )


@register(T.GET_FIELD)
class GetField(Term):
    __slots__ = ()
    name = "get_field"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        field = await self.str_arg(1, q, env)
        return await field_of(q, value, field, "get_field")


async def field_of(q: Any, value: Any, field: str, name: str) -> Any:
    if value.__class__ is dict:
        return get_field(value, field)
    if isinstance(value, SingleSelection):
        if value.doc is None:
            raise ReqlNonExistenceError(f"No attribute `{field}` in object:\n{print_datum(None)}")
        return get_field(value.doc, field)
    if is_sequence_value(value):
        # On a sequence: the field of every element that has it (others are skipped).
        src = to_stream(q, value) if value.__class__ is not list else None
        if value.__class__ is list:
            out = []
            for x in value:
                if x.__class__ is not dict:
                    raise ReqlQueryLogicError(
                        f"Cannot perform {name} on a non-object non-sequence `{trunc_print(x)}`."
                    )
                if field in x:
                    out.append(x[field])
            return out
        return _FieldStream(src, field, name)
    raise ReqlQueryLogicError(
        f"Cannot perform {name} on a non-object non-sequence `{trunc_print(as_datum(value))}`."
    )


class _FieldStream(Stream):
    __slots__ = ("src", "field", "opname")

    def __init__(self, src: Stream, field: str, opname: str) -> None:
        super().__init__(None)
        self.src = src
        self.field = field
        self.opname = opname

    async def next_batch(self, q: Any, hint: int) -> list | None:
        f = self.field
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out = []
            for x in batch:
                if x.__class__ is not dict:
                    raise ReqlQueryLogicError(
                        f"Cannot perform {self.opname} on a non-object non-sequence `{trunc_print(x)}`."
                    )
                if f in x:
                    out.append(x[f])
            if out:
                return out


@register(T.BRACKET)
class Bracket(Term):
    __slots__ = ()
    name = "bracket"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        key = as_datum(await self.args[1].eval(q, env))
        if key.__class__ is str:
            return await field_of(q, value, key, "bracket")
        if key.__class__ is int or key.__class__ is float:
            from .seq import nth_of

            return await nth_of(q, value, key, self)
        raise ReqlQueryLogicError(
            f"Expected NUMBER or STRING as second argument to `bracket` but found {type_error('', key).message.split('found ')[1][:-1]}."
        )


# -- pluck / without with nested selectors ------------------------------------------


def _selector_tree(paths: list[Any]) -> dict:
    """Turn pluck/without arguments (strings, arrays, nested objects) into a tree."""
    tree: dict = {}
    for p in paths:
        _add_selector(tree, p)
    return tree


def _add_selector(tree: dict, p: Any) -> None:
    cls = p.__class__
    if cls is str:
        tree[p] = True
    elif cls is list:
        for x in p:
            _add_selector(tree, x)
    elif cls is dict and REQL_TYPE not in p:
        for k, v in p.items():
            if v is True:
                tree[k] = True
                continue
            sub = tree.get(k)
            if sub is True:
                continue
            if sub is None:
                sub = {}
                tree[k] = sub
            if v is False:
                continue
            _add_selector(sub, v)
            if not sub:
                tree[k] = True
    else:
        raise ReqlQueryLogicError(f"Invalid path argument `{print_datum(p)}`.")


def pluck_obj(obj: Any, tree: dict) -> Any:
    if obj.__class__ is list:
        return [pluck_obj(x, tree) for x in obj]
    if obj.__class__ is not dict:
        return obj
    out = {}
    for k, sub in tree.items():
        if k in obj:
            if sub is True:
                out[k] = obj[k]
            else:
                v = obj[k]
                if v.__class__ is dict or v.__class__ is list:
                    out[k] = pluck_obj(v, sub)
    return out


def without_obj(obj: Any, tree: dict) -> Any:
    if obj.__class__ is list:
        return [without_obj(x, tree) for x in obj]
    if obj.__class__ is not dict:
        return obj
    out = {}
    for k, v in obj.items():
        sub = tree.get(k)
        if sub is True:
            continue
        if sub is None:
            out[k] = v
        else:
            out[k] = without_obj(v, sub)
    return out


@register(T.PLUCK)
class Pluck(Term):
    __slots__ = ()
    name = "pluck"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        paths = [as_datum(await a.eval(q, env)) for a in self.args[1:]]
        tree = _selector_tree(paths)

        def one(x: Any) -> Any:
            if x.__class__ is not dict:
                raise ReqlQueryLogicError(
                    f"Cannot perform pluck on a non-object non-sequence `{trunc_print(x)}`."
                )
            return pluck_obj(x, tree)

        return await map_over(q, value, one, "pluck")


@register(T.WITHOUT)
class Without(Term):
    __slots__ = ()
    name = "without"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        paths = [as_datum(await a.eval(q, env)) for a in self.args[1:]]
        tree = _selector_tree(paths)

        def one(x: Any) -> Any:
            if x.__class__ is not dict:
                raise ReqlQueryLogicError(
                    f"Cannot perform without on a non-object non-sequence `{trunc_print(x)}`."
                )
            return without_obj(x, tree)

        return await map_over(q, value, one, "without")


# -- merge and literal -------------------------------------------------------------


def is_literal(v: Any) -> bool:
    return v.__class__ is dict and v.get(REQL_TYPE) == LITERAL


def merge_datums(a: Any, b: Any) -> Any:
    """RethinkDB's recursive merge: objects merge key by key, r.literal replaces."""
    if is_literal(b):
        return b.get("value", _DELETE)
    if a.__class__ is not dict or b.__class__ is not dict or REQL_TYPE in b:
        return strip_literals(b)
    out = dict(a)
    for k, v in b.items():
        if k in out:
            m = merge_datums(out[k], v)
        else:
            m = strip_literals(v) if not is_literal(v) else v.get("value", _DELETE)
        if m is _DELETE:
            out.pop(k, None)
        else:
            out[k] = m
    return out


_DELETE = object()


def strip_literals(v: Any) -> Any:
    if is_literal(v):
        return v.get("value")
    if v.__class__ is dict:
        out = {}
        for k, x in v.items():
            if is_literal(x):
                if "value" in x:
                    out[k] = strip_literals(x["value"])
            else:
                out[k] = strip_literals(x)
        return out
    if v.__class__ is list:
        return [strip_literals(x) for x in v]
    return v


@register(T.MERGE)
class Merge(Term):
    __slots__ = ()
    name = "merge"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> Any:
        value = await self.args[0].eval(q, env)
        others = [await a.eval(q, env) for a in self.args[1:]]

        async def one(q_: Any, x: Any) -> Any:
            x = as_datum(x)
            for o in others:
                if isinstance(o, Function):
                    o = as_datum(await o.call1(q, x))
                else:
                    o = as_datum(o)
                if x.__class__ is not dict:
                    raise type_error("OBJECT", x)
                if o.__class__ is not dict:
                    raise type_error("OBJECT", o)
                x = merge_datums(x, o)
            return x

        if value.__class__ is dict or isinstance(value, SingleSelection):
            return await one(q, as_datum(value))
        if value.__class__ is list:
            return [await one(q, x) for x in value]
        if is_sequence_value(value):
            return MapStream(to_stream(q, value), NativeFunction(one, 1))
        raise type_error("OBJECT", as_datum(value))


@register(T.LITERAL)
class Literal(Term):
    __slots__ = ()
    name = "literal"
    argspec = (0, 1)

    async def eval(self, q: Any, env: dict) -> Any:
        if not self.args:
            return {REQL_TYPE: LITERAL}
        return {REQL_TYPE: LITERAL, "value": as_datum(await self.args[0].eval(q, env))}
