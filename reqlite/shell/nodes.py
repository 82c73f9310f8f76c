"""What the text-ReQL transformer builds: plain Python values and ReQL term nodes.

The Python driver works in two worlds, and so does the shell: plain Python values
(``1 + 2`` is ``3`` before the driver ever sees it, ``[1] + [2]`` is a list) and ReQL
terms (``r.row['a'] + 2`` builds an ADD term).  Nodes of the first kind (:class:`Lit`,
:class:`PyList`, :class:`PyDict`, :class:`Lambda`) become terms only where the driver
converts them (its ``expr``): as a method argument, or at the top.  Every node keeps its
span in the source text, so a server error's backtrace can be mapped back to the text.

``build()`` gives the JSON the official driver would send for the same expression.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

from ..wire.ql2 import TermType

Span = tuple[int, int]
NESTING_DEPTH = 20


class ShellError(Exception):
    """A query text that cannot be turned into a term (syntax or driver-side error).

    ``span`` is the (start, end) character range to underline in ``text``; ``incomplete``
    says the text merely ended too early (the REPL then reads another line).
    """

    def __init__(
        self, message: str, span: Span | None = None, text: str | None = None,
        incomplete: bool = False, kind: str = "SyntaxError",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.text = text
        self.incomplete = incomplete
        self.kind = kind

    def __str__(self) -> str:
        if self.text is None or self.span is None:
            return f"{self.kind}: {self.message}"
        return f"{self.kind}: {self.message}\n{caret_excerpt(self.text, self.span)}"


def caret_excerpt(text: str, span: Span, indent: str = "") -> str:
    """``text`` line by line, each line the span touches followed by carets under it
    (the span may start at the very end: a caret after the last character)."""
    start, end = span
    start = max(0, min(start, len(text)))
    end = max(start + 1, min(end, len(text)))
    out: list[str] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        out.append(indent + line.replace("\t", " "))
        a = max(start, line_start)
        if a == line_start and start < line_start:
            a += len(line) - len(line.lstrip())  # a continuation line: skip its indentation
        b = min(end, line_end)
        if start <= line_end and end > line_start and (b > a or start == line_end == a):
            out.append(indent + " " * (a - line_start) + "^" * max(1, b - a))
        line_start = line_end + 1
    return "\n".join(out)


class Node:
    """Anything an expression can evaluate to."""

    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span


# -- plain Python values -------------------------------------------------------------


class Lit(Node):
    """A Python scalar: None, bool, int, float, str or bytes."""

    __slots__ = ("value",)

    def __init__(self, value: Any, span: Span) -> None:
        super().__init__(span)
        self.value = value


class PyList(Node):
    """A Python list (or tuple) literal; its items are nodes."""

    __slots__ = ("items", "is_tuple")

    def __init__(self, items: list[Node], span: Span, is_tuple: bool = False) -> None:
        super().__init__(span)
        self.items = items
        self.is_tuple = is_tuple


class PyDict(Node):
    """A Python dict literal: keys are Python values, values are nodes (insertion order)."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict[Any, Node], span: Span) -> None:
        super().__init__(span)
        self.entries = entries


class Lambda(Node):
    """``lambda x, y: body``: a Python function, which the driver turns into a FUNC term."""

    __slots__ = ("params", "body")

    def __init__(self, params: tuple[str, ...], body: Node, span: Span) -> None:
        super().__init__(span)
        self.params = params
        self.body = body


class RNamespace(Node):
    """The ``r`` object itself."""

    __slots__ = ()


# -- ReQL terms --------------------------------------------------------------------------


class Q(Node):
    """A ReQL term.  ``cls`` is the driver's class name (it decides the methods)."""

    __slots__ = ("cls", "infix")

    def __init__(self, span: Span, cls: str, infix: bool = False) -> None:
        super().__init__(span)
        self.cls = cls
        self.infix = infix

    def build(self) -> Any:
        raise NotImplementedError

    def children(self) -> list[Q]:
        return []

    def frame(self, f: int | str) -> Q | None:
        """The child a backtrace frame designates (None if there is none)."""
        return None


class Term(Q):
    """``[type, [args...], {optargs...}]``."""

    __slots__ = ("type", "args", "optargs")

    def __init__(
        self, type: int, args: list[Q], optargs: dict[str, Q], span: Span, cls: str,
        infix: bool = False,
    ) -> None:
        super().__init__(span, cls, infix)
        self.type = type
        self.args = args
        self.optargs = optargs

    def build(self) -> Any:
        out: list[Any] = [int(self.type), [a.build() for a in self.args]]
        if self.optargs:
            out.append({k: v.build() for k, v in self.optargs.items()})
        return out

    def children(self) -> list[Q]:
        return [*self.args, *self.optargs.values()]

    def frame(self, f: int | str) -> Q | None:
        if isinstance(f, int):
            return self.args[f] if 0 <= f < len(self.args) else None
        return self.optargs.get(f)


class Datum(Q):
    """A JSON scalar (what the driver's ``Datum`` sends)."""

    __slots__ = ("value",)

    def __init__(self, value: Any, span: Span) -> None:
        super().__init__(span, "Datum")
        self.value = value

    def build(self) -> Any:
        return self.value


class BinaryLit(Q):
    """``r.binary(b'...')`` or a bytes literal: sent as a BINARY pseudo-type object."""

    __slots__ = ("data",)

    def __init__(self, data: bytes, span: Span) -> None:
        super().__init__(span, "Binary")
        self.data = data

    def build(self) -> Any:
        return {"$reql_type$": "BINARY", "data": base64.b64encode(self.data).decode()}


class MakeObj(Q):
    """An object whose values are terms: sent as a JSON object of terms."""

    __slots__ = ("items",)

    def __init__(self, items: dict[str, Q], span: Span) -> None:
        super().__init__(span, "MakeObj")
        self.items = items

    def build(self) -> Any:
        return {k: v.build() for k, v in self.items.items()}

    def children(self) -> list[Q]:
        return list(self.items.values())

    def frame(self, f: int | str) -> Q | None:
        return self.items.get(f) if isinstance(f, str) else None


class Var(Q):
    """A function parameter: ``[VAR, [id]]``."""

    __slots__ = ("id",)

    def __init__(self, id: int, span: Span) -> None:
        super().__init__(span, "Var")
        self.id = id

    def build(self) -> Any:
        return [int(TermType.VAR), [self.id]]


class Name(Q):
    """A name not bound yet (a lambda parameter, bound when the lambda is converted)."""

    __slots__ = ("name",)

    def __init__(self, name: str, span: Span) -> None:
        super().__init__(span, "Var")
        self.name = name

    def build(self) -> Any:
        raise ShellError(f"name '{self.name}' is not defined", self.span, kind="NameError")


class Func(Q):
    """``[FUNC, [[MAKE_ARRAY, [ids...]], body]]``."""

    __slots__ = ("ids", "body")

    def __init__(self, ids: list[int], body: Q, span: Span) -> None:
        super().__init__(span, "Func")
        self.ids = ids
        self.body = body

    def build(self) -> Any:
        return [int(TermType.FUNC), [[int(TermType.MAKE_ARRAY), list(self.ids)], self.body.build()]]

    def children(self) -> list[Q]:
        return [self.body]

    def frame(self, f: int | str) -> Q | None:
        if f == 1:
            return self.body
        return None


def is_term(node: Node) -> bool:
    return isinstance(node, Q)


# -- conversions (the driver's expr and func_wrap) -------------------------------------


class Converter:
    """Turns plain values into terms, numbering function variables as it goes."""

    def __init__(self) -> None:
        self.next_var = 1

    def new_var(self) -> int:
        v = self.next_var
        self.next_var += 1
        return v

    def expr(self, node: Node, depth: int = NESTING_DEPTH) -> Q:
        """The driver's ``r.expr``: a node as a term."""
        if depth <= 0:
            raise ShellError("Nesting depth limit exceeded.", node.span, kind="ReqlDriverCompileError")
        if isinstance(node, Q):
            return node
        if isinstance(node, Lit):
            v = node.value
            if isinstance(v, bytes):
                return BinaryLit(v, node.span)
            if isinstance(v, float) and not math.isfinite(v):
                raise ShellError(
                    f"Out of range float values are not JSON compliant: {v!r}", node.span, kind="ValueError"
                )
            return Datum(v, node.span)
        if isinstance(node, PyList):
            items = [self.expr(i, depth - 1) for i in node.items]
            return Term(TermType.MAKE_ARRAY, items, {}, node.span, "MakeArray")
        if isinstance(node, PyDict):
            obj: dict[str, Q] = {}
            for k, v in node.entries.items():
                if not isinstance(k, str):
                    raise ShellError("Object keys must be strings.", node.span, kind="ReqlDriverCompileError")
                obj[k] = self.expr(v, depth - 1)
            return MakeObj(obj, node.span)
        if isinstance(node, Lambda):
            return self.func(node)
        if isinstance(node, RNamespace):
            raise ShellError(
                "`r` is the ReQL namespace, not a value: use r.expr(...), r.table(...), ...",
                node.span, kind="TypeError",
            )
        raise ShellError(f"cannot convert {type(node).__name__} to ReQL", node.span, kind="TypeError")

    def func(self, lam: Lambda) -> Func:
        """A Python lambda as a FUNC term: its parameters become fresh variables."""
        ids = [self.new_var() for _ in lam.params]
        bound = dict(zip(lam.params, ids))
        body = substitute(lam.body, bound)
        return Func(ids, self.expr(body), lam.span)

    def func_wrap(self, node: Node) -> Q:
        """The driver's ``func_wrap``: a term mentioning ``r.row`` becomes a function."""
        term = self.expr(node)
        if mentions_row(term):
            return Func([self.new_var()], term, term.span)
        return term


def mentions_row(term: Q) -> bool:
    if term.cls == "ImplicitVar":
        return True
    return any(mentions_row(c) for c in term.children())


def substitute(node: Node, bound: dict[str, int]) -> Node:
    """``node`` with the free names in ``bound`` replaced (a copy where anything changed)."""
    if not bound:
        return node
    if isinstance(node, Name):
        var_id = bound.get(node.name)
        return node if var_id is None else Var(var_id, node.span)
    if isinstance(node, Term):
        args = [_sub_q(a, bound) for a in node.args]
        optargs = {k: _sub_q(v, bound) for k, v in node.optargs.items()}
        return Term(node.type, args, optargs, node.span, node.cls, node.infix)
    if isinstance(node, MakeObj):
        return MakeObj({k: _sub_q(v, bound) for k, v in node.items.items()}, node.span)
    if isinstance(node, Func):
        return Func(node.ids, _sub_q(node.body, bound), node.span)
    if isinstance(node, Lambda):
        inner = {k: v for k, v in bound.items() if k not in node.params}
        return Lambda(node.params, substitute(node.body, inner), node.span)
    if isinstance(node, PyList):
        return PyList([substitute(i, bound) for i in node.items], node.span, node.is_tuple)
    if isinstance(node, PyDict):
        return PyDict({k: substitute(v, bound) for k, v in node.entries.items()}, node.span)
    return node


def _sub_q(q: Q, bound: dict[str, int]) -> Q:
    out = substitute(q, bound)
    assert isinstance(out, Q)
    return out


def check_bound(term: Q) -> None:
    """Raise NameError-like errors for names no lambda binds."""
    if isinstance(term, Name):
        term.build()
    for c in term.children():
        check_bound(c)


def locate(root: Q, frames: list[int | str]) -> Q:
    """The node a RethinkDB backtrace (a list of frames) designates."""
    node = root
    for f in frames:
        nxt = node.frame(f)
        if nxt is None:
            break
        node = nxt
    return node


# -- plain Python values ------------------------------------------------------------------


class NotPlain(Exception):
    """The node holds a term or a function: it has no plain Python value."""


def plain_value(node: Node) -> Any:
    """The Python value of a node made only of literals."""
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, PyList):
        items = [plain_value(i) for i in node.items]
        return tuple(items) if node.is_tuple else items
    if isinstance(node, PyDict):
        return {k: plain_value(v) for k, v in node.entries.items()}
    raise NotPlain


def from_plain(value: Any, span: Span) -> Node:
    """A plain Python value (as computed by Python) back as a node."""
    if isinstance(value, (list, tuple)):
        return PyList([from_plain(v, span) for v in value], span, isinstance(value, tuple))
    if isinstance(value, dict):
        return PyDict({k: from_plain(v, span) for k, v in value.items()}, span)
    return Lit(value, span)


def python_type_name(node: Node) -> str:
    """How Python would name the type of this node's value (for TypeError messages)."""
    if isinstance(node, Lit):
        return type(node.value).__name__
    if isinstance(node, PyList):
        return "tuple" if node.is_tuple else "list"
    if isinstance(node, PyDict):
        return "dict"
    if isinstance(node, Lambda):
        return "function"
    if isinstance(node, RNamespace):
        return "RethinkDB"
    if isinstance(node, Q):
        return node.cls
    return type(node).__name__


def walk_terms(term: Q, fn: Callable[[Q], None]) -> None:
    fn(term)
    for c in term.children():
        walk_terms(c, fn)
