"""Text ReQL: Python-driver syntax in, the driver's JSON term tree out.

``parse("r.table('t').filter(r.row['age'] > 30).count()")`` returns a
:class:`ParsedQuery` whose ``term`` is exactly the JSON the official Python driver
sends for that expression (up to the numbering of lambda variables), so it runs through
``reqlite.ql.query.start`` — or any RethinkDB server — unchanged.

The grammar (``reql.lark``) says what the text looks like; :class:`ReqlTransformer`
(one method per rule) gives it the driver's meaning: plain Python values are computed
as Python would (``1 + 2`` is ``3``), operators on terms build ADD/EQ/... terms with the
driver's operand order (``1 < r.row['a']`` is ``r.row['a'] > 1``), arguments mentioning
``r.row`` become functions where the driver wraps them, and the driver's own refusals
(``a < b | c``, unknown methods) are reported with a caret under the text.
"""

from __future__ import annotations

import ast
import difflib
import operator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from ..wire.ql2 import TermType
from . import methods as M
from .nodes import (
    Converter,
    Lambda,
    Lit,
    Name,
    Node,
    NotPlain,
    PyDict,
    PyList,
    Q,
    RNamespace,
    ShellError,
    Span,
    Term,
    check_bound,
    from_plain,
    plain_value,
    python_type_name,
)

__all__ = ["ParsedQuery", "ShellError", "parse", "parse_term"]

MAX_PLAIN_SIZE = 1_000_000  # longest str/list a plain Python operation may build

DRIVER_ITER_MESSAGE = (
    "__iter__ called on an RqlQuery object.\n"
    "To iterate over the results of a query, call run first.\n"
    "To iterate inside a query, use map or for_each."
)


@lru_cache(maxsize=1)
def grammar_parser() -> Lark:
    """The LALR parser for ``reql.lark`` (built once)."""
    text = resources.files("reqlite.shell").joinpath("reql.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


@dataclass
class ParsedQuery:
    """A parsed query: the term as JSON, its node tree (for error carets), run options."""

    text: str
    root: Q
    term: Any
    global_optargs: dict[str, Q] = field(default_factory=dict)

    def optargs_json(self) -> dict[str, Any]:
        """The global optional arguments as the driver sends them (``db`` as a DB term)."""
        out: dict[str, Any] = {}
        for k, v in self.global_optargs.items():
            out[k] = [int(TermType.DB), [v.build()]] if k == "db" else v.build()
        return out

    def span_of(self, frames: list[int | str] | None) -> Span:
        """The text span of the term a server backtrace designates."""
        from .nodes import locate

        if not frames:
            return self.root.span
        return locate(self.root, frames).span


class RunCall(Node):
    """``query.run(...)`` at the end of the text: the query and its run options."""

    __slots__ = ("query", "optargs")

    def __init__(self, query: Node, optargs: dict[str, Node], span: Span) -> None:
        super().__init__(span)
        self.query = query
        self.optargs = optargs


class SliceSpec(Node):
    """``a:b:c`` inside brackets."""

    __slots__ = ("start", "stop", "step")

    def __init__(self, start: Node | None, stop: Node | None, step: Node | None, span: Span) -> None:
        super().__init__(span)
        self.start = start
        self.stop = stop
        self.step = step


def parse(text: str) -> ParsedQuery:
    """Parse one ReQL expression in Python-driver syntax; raises :class:`ShellError`."""
    try:
        return _parse(text)
    except RecursionError:
        raise ShellError("expression too deeply nested", (0, len(text)), text) from None


def _parse(text: str) -> ParsedQuery:
    try:
        tree = grammar_parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    transformer = ReqlTransformer(text)
    try:
        node = transformer.transform(tree)
        optargs: dict[str, Q] = {}
        if isinstance(node, RunCall):
            optargs = {k: transformer.conv.expr(v) for k, v in node.optargs.items()}
            node = node.query
        root = transformer.term(node)
        check_bound(root)
        for v in optargs.values():
            check_bound(v)
        term = root.build()
    except VisitError as exc:
        err = exc.orig_exc
        if isinstance(err, ShellError):
            err.text = text
            raise err from None
        raise
    except ShellError as err:
        err.text = text
        raise
    return ParsedQuery(text, root, term, optargs)


def parse_term(text: str) -> Any:
    """Just the JSON term of ``text``."""
    return parse(text).term


def receiver_class(text: str) -> str | None:
    """The driver class of the term ``text`` evaluates to ("Table", "DB", ...), or
    ``"r"`` for the namespace, or None when it is no term (for tab completion)."""
    try:
        node = ReqlTransformer(text).transform(grammar_parser().parse(text))
    except (UnexpectedInput, VisitError, ShellError, RecursionError):
        return None
    if isinstance(node, RNamespace):
        return "r"
    if isinstance(node, Q):
        return node.cls
    return None


# -- syntax errors -------------------------------------------------------------------------

_TOKEN_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "$END": "end of input",
}


def _describe_expected(parser: Lark, names: set[str]) -> str:
    words = []
    for n in sorted(names):
        if n in _TOKEN_WORDS:
            words.append(_TOKEN_WORDS[n])
            continue
        try:
            pattern = parser.get_terminal(n).pattern
        except KeyError:
            words.append(n)
            continue
        if pattern.type == "str":
            words.append(repr(pattern.value))
        else:
            words.append(n.lower())
    words = sorted(set(words))
    if len(words) > 8:
        return ""
    return " (expected " + ", ".join(words) + ")"


def _syntax_error(text: str, exc: UnexpectedInput) -> ShellError:
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            return ShellError("unexpected end of input", (len(text), len(text) + 1), text, incomplete=True)
        kind = {"NAME": "name ", "NUMBER": "number ", "STRING": "string "}.get(tok.type, "")
        shown = f"'{tok.value}'" if tok.type != "STRING" and kind != "number " else tok.value
        msg = f"unexpected {kind}{shown}"
        prev = exc.token_history[-1] if exc.token_history else None
        if tok.type == "LPAR" and prev is not None and prev.type == "NAME":
            msg += f": only methods can be called (did you mean r.{prev.value}(...)?)"
        elif tok.value in ("for", "if"):
            msg += ": comprehensions and conditional expressions are not supported (use r.range(...).map(...), r.branch(...))"
        else:
            msg += _describe_expected(grammar_parser(), set(exc.expected))
        end = pos + max(1, len(str(tok.value)))
        return ShellError(msg, (pos, end), text)
    if isinstance(exc, UnexpectedCharacters):
        rest = text[pos:]
        if rest[:1] in ("'", '"') and text[max(0, pos - 2):pos + 1] == rest[0] * 3:
            # The lexer took the first two quotes for an empty string: a triple-quoted
            # string is still open (the REPL reads on).
            return ShellError("unterminated triple-quoted string", (pos - 2, pos + 1), text, incomplete=True)
        if rest[:1] in ("'", '"') or rest[:2].lower() in ("r'", 'r"', "b'", 'b"', "u'", 'u"'):
            return ShellError("unterminated string literal", (pos, pos + 1), text)
        return ShellError(f"unexpected character {rest[:1]!r}", (pos, pos + 1), text)
    return ShellError(str(exc), (pos, pos + 1), text)


# -- the transformer ------------------------------------------------------------------------


def _is_plain(node: Node) -> bool:
    try:
        plain_value(node)
    except NotPlain:
        return False
    return True


def _py_equal(a: Node, b: Node) -> bool:
    """Python's ``a == b`` as a truth value, for values that may hold terms."""
    if a is b or isinstance(a, Q) or isinstance(b, Q):
        return True  # identity, or an EQ term (always true to Python)
    if isinstance(a, PyList) and isinstance(b, PyList):
        return a.is_tuple == b.is_tuple and len(a.items) == len(b.items) and all(
            _py_equal(x, y) for x, y in zip(a.items, b.items)
        )
    if isinstance(a, PyDict) and isinstance(b, PyDict):
        return a.entries.keys() == b.entries.keys() and all(
            _py_equal(v, b.entries[k]) for k, v in a.entries.items()
        )
    if _is_plain(a) and _is_plain(b):
        return bool(plain_value(a) == plain_value(b))
    return False  # functions, the namespace: identity only


def _span(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return (0, 0)
    return (meta.start_pos, meta.end_pos)


def _tok_span(tok: Token) -> Span:
    return (tok.start_pos, tok.end_pos)


_BINOPS: dict[str, tuple[TermType | None, str, Any]] = {
    "+": (TermType.ADD, "Add", operator.add),
    "-": (TermType.SUB, "Sub", operator.sub),
    "*": (TermType.MUL, "Mul", operator.mul),
    "/": (TermType.DIV, "Div", operator.truediv),
    "%": (TermType.MOD, "Mod", operator.mod),
    "&": (TermType.AND, "And", operator.and_),
    "|": (TermType.OR, "Or", operator.or_),
    "^": (None, "bit_xor", operator.xor),
    "//": (None, "div(...).floor", operator.floordiv),
    "**": (None, "", operator.pow),
    "<<": (None, "bit_sal", operator.lshift),
    ">>": (None, "bit_sar", operator.rshift),
}

_COMPARE: dict[str, tuple[TermType, str, str, Any]] = {
    # op: (term, class, reflected op, Python function)
    "==": (TermType.EQ, "Eq", "==", operator.eq),
    "!=": (TermType.NE, "Ne", "!=", operator.ne),
    "<": (TermType.LT, "Lt", ">", operator.lt),
    "<=": (TermType.LE, "Le", ">=", operator.le),
    ">": (TermType.GT, "Gt", "<", operator.gt),
    ">=": (TermType.GE, "Ge", "<=", operator.ge),
}

_PLAIN_ONLY_COMPARE = {
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "is": operator.is_,
    "is not": operator.is_not,
}


@v_args(inline=True, meta=True)
class ReqlTransformer(Transformer):
    """One method per grammar rule; see the module docstring for the semantics."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.conv = Converter()

    # ---- helpers ------------------------------------------------------------------------

    def term(self, node: Node) -> Q:
        if isinstance(node, RunCall):
            raise ShellError("run(...) must be the last call of the query", node.span, kind="TypeError")
        if isinstance(node, SliceSpec):
            raise ShellError("a slice is only valid inside [...]", node.span)
        return self.conv.expr(node)

    def _operand(self, node: Node) -> Node:
        if isinstance(node, RunCall):
            raise ShellError("run(...) must be the last call of the query", node.span, kind="TypeError")
        return node

    def _src(self, span: Span) -> str:
        return self.text[span[0]:span[1]]

    def _check_infix(self, cls: str, args: list[Node], span: Span) -> None:
        """The driver refuses comparisons on the result of an infix & or |."""
        statement = M.COMPARISONS.get(cls)
        if statement is None:
            return
        for a in args:
            if isinstance(a, Q) and a.infix:
                raise ShellError(
                    f"Calling '{statement}' on result of infix bitwise operator:\n"
                    f"{self._src(span)}.\n"
                    "This is almost always a precedence error.\n"
                    "Note that `a < b | b < c` <==> `a < (b | b) < c`.\n"
                    "If you really want this behavior, use `.or_` or `.and_` instead.",
                    a.span, kind="ReqlDriverCompileError",
                )

    def _make(self, tt: TermType, cls: str, args: list[Node], span: Span, infix: bool = False,
              optargs: dict[str, Node] | None = None) -> Term:
        self._check_infix(cls, args, span)
        terms = [self.term(a) for a in args]
        opts = {k: self.term(v) for k, v in (optargs or {}).items()}
        return Term(tt, terms, opts, span, cls, infix)

    @staticmethod
    def _truthy(node: Node) -> bool:
        """Python truthiness, where it is defined without running anything."""
        if isinstance(node, Lit):
            return bool(node.value)
        if isinstance(node, PyList):
            return bool(node.items)
        if isinstance(node, PyDict):
            return bool(node.entries)
        return True  # terms (the driver's RqlQuery has no __bool__), functions

    # ---- atoms -----------------------------------------------------------------------------

    def name(self, meta: Any, tok: Token) -> Node:
        if tok.value == "r":
            return RNamespace(_tok_span(tok))
        return Name(tok.value, _tok_span(tok))

    def number(self, meta: Any, tok: Token) -> Node:
        try:
            value = ast.literal_eval(tok.value)
        except (SyntaxError, ValueError) as exc:
            msg = getattr(exc, "msg", None) or str(exc)
            raise ShellError(f"invalid number literal: {msg}", _tok_span(tok)) from None
        return Lit(value, _tok_span(tok))

    def string(self, meta: Any, *toks: Token) -> Node:
        parts = []
        for t in toks:
            try:
                parts.append(ast.literal_eval(t.value))
            except (SyntaxError, ValueError) as exc:
                msg = getattr(exc, "msg", None) or str(exc)
                raise ShellError(f"invalid string literal: {msg}", _tok_span(t)) from None
        if len({type(p) for p in parts}) > 1:
            raise ShellError("cannot mix bytes and nonbytes literals", _span(meta))
        value = parts[0]
        for p in parts[1:]:
            value = value + p
        return Lit(value, _span(meta))

    def true(self, meta: Any) -> Node:
        return Lit(True, _span(meta))

    def false(self, meta: Any) -> Node:
        return Lit(False, _span(meta))

    def none(self, meta: Any) -> Node:
        return Lit(None, _span(meta))

    def empty_tuple(self, meta: Any) -> Node:
        return PyList([], _span(meta), is_tuple=True)

    def tuple(self, meta: Any, *items: Node | None) -> Node:
        return PyList([self._operand(i) for i in items if i is not None], _span(meta), is_tuple=True)

    def list(self, meta: Any, *items: Node | None) -> Node:
        return PyList([self._operand(i) for i in items if i is not None], _span(meta))

    def dict(self, meta: Any, *pairs: tuple[Node, Node] | None) -> Node:
        entries: dict[Any, Node] = {}
        for p in pairs:
            if p is None:
                continue
            key_node, value = p
            entries[self._hashable(key_node)] = self._operand(value)
        return PyDict(entries, _span(meta))

    def pair(self, meta: Any, key: Node, value: Node) -> tuple[Node, Node]:
        return (key, value)

    def _hashable(self, node: Node) -> Any:
        try:
            value = plain_value(node)
        except NotPlain:
            raise ShellError(
                f"unhashable type: '{python_type_name(node)}'", node.span, kind="TypeError"
            ) from None
        try:
            hash(value)
        except TypeError as exc:
            raise ShellError(str(exc), node.span, kind="TypeError") from None
        return value

    # ---- lambdas ------------------------------------------------------------------------------

    def lambda_params(self, meta: Any, *names: Token | None) -> list[Token]:
        return [n for n in names if n is not None]

    def lambdef(self, meta: Any, params: list[Token] | None, body: Node) -> Node:
        names: list[str] = []
        for tok in params or []:
            if tok.value == "r":
                raise ShellError("`r` cannot be a lambda parameter here (it names the ReQL namespace)", _tok_span(tok))
            if tok.value in names:
                raise ShellError(f"duplicate argument '{tok.value}' in function definition", _tok_span(tok))
            names.append(tok.value)
        return Lambda(tuple(names), self._operand(body), _span(meta))

    # ---- boolean keywords ----------------------------------------------------------------------

    def _refuse_bool_keyword(self, word: str, operand: Node, span: Span) -> None:
        if isinstance(operand, Q):
            alt = {"and": "& (or r.and_(...))", "or": "| (or r.or_(...))", "not": "~ (or .not_())"}[word]
            raise ShellError(
                f"Python's `{word}` cannot be applied to ReQL terms: use {alt}", span, kind="TypeError"
            )

    def bool_or(self, meta: Any, a: Node, b: Node) -> Node:
        a, b = self._operand(a), self._operand(b)
        for x in (a, b):
            self._refuse_bool_keyword("or", x, _span(meta))
        return a if self._truthy(a) else b

    def bool_and(self, meta: Any, a: Node, b: Node) -> Node:
        a, b = self._operand(a), self._operand(b)
        for x in (a, b):
            self._refuse_bool_keyword("and", x, _span(meta))
        return b if self._truthy(a) else a

    def bool_not(self, meta: Any, a: Node) -> Node:
        a = self._operand(a)
        self._refuse_bool_keyword("not", a, _span(meta))
        return Lit(not self._truthy(a), _span(meta))

    # ---- comparisons ----------------------------------------------------------------------------

    def comp_op(self, meta: Any, *toks: Token) -> str:
        return " ".join(t.value for t in toks)

    def comparison(self, meta: Any, *children: Any) -> Node:
        span = _span(meta)
        operands = [self._operand(c) for c in children[0::2]]
        ops: list[str] = list(children[1::2])
        has_term = any(isinstance(o, (Q, Lambda, RNamespace)) for o in operands)
        if len(ops) > 1:
            if has_term:
                # The driver builds the first comparison before Python drops it, so its
                # own refusal (an operand that is an infix & or |) comes first.
                self._compare(ops[0], operands[0], operands[1], (operands[0].span[0], operands[1].span[1]))
                raise ShellError(
                    "chained comparisons (a < b < c) cannot involve ReQL terms (Python would "
                    "silently drop all but the last comparison): use (a < b) & (b < c)",
                    span, kind="TypeError",
                )
            for left, op, right in zip(operands, ops, operands[1:]):
                result = self._compare(op, left, right, span)
                if not self._truthy(result):
                    return Lit(False, span)
            return Lit(True, span)
        return self._compare(ops[0], operands[0], operands[1], span)

    def _compare(self, op: str, a: Node, b: Node, span: Span) -> Node:
        if op in _PLAIN_ONLY_COMPARE:
            if isinstance(a, Q) or isinstance(b, Q):
                hint = ".contains(...)" if "in" in op else "== (or .eq())"
                raise ShellError(
                    f"the `{op}` operator cannot be used with ReQL terms: use {hint}", span, kind="TypeError"
                )
            if not (_is_plain(a) and _is_plain(b)):
                return self._python_compare(op, a, b, span)
            return self._plain_binop(op, _PLAIN_ONLY_COMPARE[op], a, b, span)
        tt, cls, reflected, fn = _COMPARE[op]
        if isinstance(a, Q):
            return self._make(tt, cls, [a, b], span)
        if isinstance(b, Q):
            rtt, rcls, _, _ = _COMPARE[reflected]
            return self._make(rtt, rcls, [b, a], span)
        if not (_is_plain(a) and _is_plain(b)):
            return self._python_compare(op, a, b, span)
        return self._plain_binop(op, fn, a, b, span)

    def _python_compare(self, op: str, a: Node, b: Node, span: Span) -> Node:
        """Python's comparison of values that hold terms or functions (list == list...).

        Python compares containers element by element, taking an element comparison
        that yields a term as true (the driver's terms have no __bool__), and returns
        the first differing elements' comparison itself for < <= > >=."""
        if op in ("==", "!="):
            return Lit(_py_equal(a, b) == (op == "=="), span)
        if op in ("is", "is not"):
            return Lit((a is b) == (op == "is"), span)
        if op in ("in", "not in"):
            if isinstance(b, PyList):
                found = any(_py_equal(item, a) for item in b.items)
            elif isinstance(b, PyDict):
                found = self._hashable(a) in b.entries
            else:
                raise ShellError(
                    f"argument of type '{python_type_name(b)}' is not iterable", span, kind="TypeError"
                )
            return Lit(found == (op == "in"), span)
        if isinstance(a, PyList) and isinstance(b, PyList) and a.is_tuple == b.is_tuple:
            for x, y in zip(a.items, b.items):
                if not _py_equal(x, y):
                    return self._compare(op, x, y, span)
            return Lit(_COMPARE[op][3](len(a.items), len(b.items)), span)
        raise ShellError(
            f"'{op}' not supported between instances of '{python_type_name(a)}' and '{python_type_name(b)}'",
            span, kind="TypeError",
        )

    # ---- arithmetic and bitwise operators -------------------------------------------------------

    def _binop(self, op: str, meta: Any, a: Node, b: Node) -> Node:
        span = _span(meta)
        a, b = self._operand(a), self._operand(b)
        tt, cls, fn = _BINOPS[op]
        if op == "%" and isinstance(a, Lit) and isinstance(a.value, (str, bytes)) and isinstance(b, Q):
            return self._format_with_term(a, span)
        if isinstance(a, Q) or isinstance(b, Q):
            if tt is None:
                hint = f": use .{cls}(...)" if cls else " (ReQL has no power operator)"
                raise ShellError(
                    f"unsupported operand type(s) for {op}: ReQL terms do not support {op}{hint}",
                    span, kind="TypeError",
                )
            return self._make(tt, cls, [a, b], span, infix=op in ("&", "|"))
        return self._plain_binop(op, fn, a, b, span)

    @staticmethod
    def _format_with_term(fmt: Lit, span: Span) -> Node:
        """``'...' % term`` is Python string formatting, not MOD: a term has __getitem__,
        so Python takes it for a mapping of named arguments."""
        text = fmt.value
        pct = "%" if isinstance(text, str) else b"%"
        if pct not in text.replace(pct * 2, pct[:0]):
            return Lit(text % {}, span)  # no conversion: the string (with %% as %)
        raise ShellError(
            "string formatting with a ReQL term is not supported (Python would print the "
            "driver's text of the query): use r.expr(...) % x for MOD",
            span, kind="TypeError",
        )

    def _plain_binop(self, op: str, fn: Any, a: Node, b: Node, span: Span) -> Node:
        for x in (a, b):
            if isinstance(x, (Lambda, RNamespace)):
                raise ShellError(
                    f"unsupported operand type(s) for {op}: '{python_type_name(a)}' and '{python_type_name(b)}'",
                    span, kind="TypeError",
                )
        try:
            va, vb = plain_value(a), plain_value(b)
        except NotPlain:
            return self._container_binop(op, a, b, span)
        self._check_size(op, va, vb, span)
        try:
            result = fn(va, vb)
        except (TypeError, ValueError, ArithmeticError, KeyError) as exc:
            raise ShellError(str(exc), span, kind=type(exc).__name__) from None
        return from_plain(result, span)

    def _container_binop(self, op: str, a: Node, b: Node, span: Span) -> Node:
        """Operators on lists/tuples that hold terms: Python's concatenation and repetition."""
        if op == "+" and isinstance(a, PyList) and isinstance(b, PyList) and a.is_tuple == b.is_tuple:
            return PyList(a.items + b.items, span, a.is_tuple)
        if op == "*":
            seq, times = (a, b) if isinstance(a, PyList) else (b, a)
            if isinstance(seq, PyList) and isinstance(times, Lit) and type(times.value) in (int, bool):
                n = int(times.value)
                if len(seq.items) * max(n, 0) > MAX_PLAIN_SIZE:
                    raise ShellError("result too large", span, kind="MemoryError")
                return PyList(seq.items * n, span, seq.is_tuple)
        raise ShellError(
            f"unsupported operation {op} on Python values holding ReQL terms: "
            f"'{python_type_name(a)}' and '{python_type_name(b)}' (wrap them with r.expr(...))",
            span, kind="TypeError",
        )

    @staticmethod
    def _check_size(op: str, va: Any, vb: Any, span: Span) -> None:
        def too_big() -> ShellError:
            return ShellError("result too large", span, kind="MemoryError")

        if op == "*":
            for seq, n in ((va, vb), (vb, va)):
                if isinstance(seq, (str, bytes, list, tuple)) and type(n) in (int, bool):
                    if len(seq) * max(int(n), 0) > MAX_PLAIN_SIZE:
                        raise too_big()
        elif op == "**":
            if type(va) is int and type(vb) is int and abs(va) > 1 and vb > 10_000:
                raise too_big()
        elif op == "<<":
            if type(vb) is int and vb > 100_000:
                raise too_big()
        elif op == "+":
            if isinstance(va, (str, bytes, list, tuple)) and isinstance(vb, (str, bytes, list, tuple)):
                if len(va) + len(vb) > MAX_PLAIN_SIZE:
                    raise too_big()

    def or_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("|", meta, a, b)

    def xor_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("^", meta, a, b)

    def and_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("&", meta, a, b)

    def lshift_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("<<", meta, a, b)

    def rshift_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop(">>", meta, a, b)

    def add_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("+", meta, a, b)

    def sub_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("-", meta, a, b)

    def mul_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("*", meta, a, b)

    def div_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("/", meta, a, b)

    def floordiv_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("//", meta, a, b)

    def mod_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("%", meta, a, b)

    def pow_op(self, meta: Any, a: Node, b: Node) -> Node:
        return self._binop("**", meta, a, b)

    def _unary(self, op: str, fn: Any, meta: Any, a: Node) -> Node:
        span = _span(meta)
        a = self._operand(a)
        if isinstance(a, Q):
            if op == "~":
                return self._make(TermType.NOT, "Not", [a], span)
            raise ShellError(
                f"bad operand type for unary {op}: '{a.cls}'"
                + (" (use r.expr(0) - x or x.mul(-1))" if op == "-" else ""),
                span, kind="TypeError",
            )
        try:
            value = plain_value(a)
        except NotPlain:
            raise ShellError(
                f"bad operand type for unary {op}: '{python_type_name(a)}'", span, kind="TypeError"
            ) from None
        try:
            return from_plain(fn(value), span)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ShellError(str(exc), span, kind=type(exc).__name__) from None

    def neg_op(self, meta: Any, a: Node) -> Node:
        return self._unary("-", operator.neg, meta, a)

    def pos_op(self, meta: Any, a: Node) -> Node:
        return self._unary("+", operator.pos, meta, a)

    def invert_op(self, meta: Any, a: Node) -> Node:
        return self._unary("~", operator.invert, meta, a)

    # ---- subscripts -------------------------------------------------------------------------------

    def slice(self, meta: Any, start: Node | None, stop: Node | None, step: Node | None) -> Node:
        return SliceSpec(start, stop, step, _span(meta))

    def index_tuple(self, meta: Any, *items: Node | None) -> Node:
        return PyList([self._operand(i) for i in items if i is not None], _span(meta), is_tuple=True)

    def getitem(self, meta: Any, recv: Node, index: Node) -> Node:
        span = _span(meta)
        recv = self._operand(recv)
        if isinstance(recv, Q):
            if isinstance(index, SliceSpec):
                return self._term_slice(recv, index, span)
            return self._make(TermType.BRACKET, "Bracket", [recv, self._operand(index)], span)
        if isinstance(recv, (RNamespace, Lambda)):
            raise ShellError(f"'{python_type_name(recv)}' object is not subscriptable", span, kind="TypeError")
        return self._plain_getitem(recv, index, span)

    def _term_slice(self, recv: Q, s: SliceSpec, span: Span) -> Node:
        """``x[a:b]``: the driver's SLICE, with its quirks (a falsy end means 'to the end')."""
        if s.step is not None:
            raise ShellError("ReQL slices take no step (x[a:b:c])", s.step.span, kind="TypeError")
        start: Node = s.start if s.start is not None and self._truthy(s.start) else Lit(0, s.span)
        if s.stop is not None and self._truthy(s.stop):
            return self._make(TermType.SLICE, "Slice", [recv, start, s.stop], span)
        return self._make(
            TermType.SLICE, "Slice", [recv, start, Lit(-1, s.span)], span,
            optargs={"right_bound": Lit("closed", s.span)},
        )

    def _plain_getitem(self, recv: Node, index: Node, span: Span) -> Node:
        if isinstance(index, SliceSpec):
            try:
                bounds = [None if b is None else plain_value(b) for b in (index.start, index.stop, index.step)]
            except NotPlain:
                raise ShellError("slice indices must be integers or None", index.span, kind="TypeError") from None
            key: Any = slice(*bounds)
        else:
            if isinstance(index, Q):
                kind = python_type_name(recv)
                msg = (
                    f"unhashable type: '{index.cls}'" if kind == "dict"
                    else f"{kind} indices must be integers or slices, not {index.cls}"
                )
                raise ShellError(msg + " (wrap the value with r.expr(...))", span, kind="TypeError")
            key = self._hashable(index) if not isinstance(index, SliceSpec) else None
        try:
            if isinstance(recv, PyList):
                picked = recv.items[key]
                return PyList(picked, span, recv.is_tuple) if isinstance(key, slice) else picked
            if isinstance(recv, PyDict):
                return recv.entries[key]
            return from_plain(plain_value(recv)[key], span)
        except (TypeError, IndexError, KeyError, ValueError) as exc:
            raise ShellError(str(exc), span, kind=type(exc).__name__) from None

    # ---- attributes and calls ------------------------------------------------------------------

    def attribute(self, meta: Any, recv: Node, name: Token) -> Node:
        span = _span(meta)
        recv = self._operand(recv)
        attr = name.value
        if isinstance(recv, RNamespace):
            if attr == "row":
                return Term(TermType.IMPLICIT_VAR, [], {}, span, "ImplicitVar")
            if attr in M.R_CONSTANTS:
                return Term(M.R_CONSTANTS[attr], [], {}, span, "RqlConstant")
            if attr in M.R_FUNCTIONS or attr in M.SPECIAL_R:
                raise ShellError(f"r.{attr} is a function: call it, e.g. r.{attr}(...)", span, kind="TypeError")
            raise self._no_attribute("RethinkDB", attr, M.r_names(), _tok_span(name))
        if isinstance(recv, Q):
            if attr in M.methods_for(recv.cls) or attr == "run":
                raise ShellError(f".{attr} is a method: call it, e.g. .{attr}(...)", span, kind="TypeError")
            raise self._no_attribute(recv.cls, attr, list(M.methods_for(recv.cls)), _tok_span(name))
        raise self._no_attribute(python_type_name(recv), attr, [], _tok_span(name))

    @staticmethod
    def _no_attribute(owner: str, attr: str, known: list[str], span: Span) -> ShellError:
        msg = f"'{owner}' object has no attribute '{attr}'"
        close = difflib.get_close_matches(attr, known, n=1)
        if close:
            msg += f" (did you mean {close[0]}?)"
        return ShellError(msg, span, kind="AttributeError")

    def arguments(self, meta: Any, *args: tuple[str, str | None, Node] | None) -> list:
        return [a for a in args if a is not None]

    def positional(self, meta: Any, value: Node) -> tuple[str, None, Node]:
        return ("pos", None, value)

    def keyword(self, meta: Any, name: Token, value: Node) -> tuple[str, str, Node]:
        return ("kw", name.value, value)

    def star(self, meta: Any, value: Node) -> tuple[str, None, Node]:
        return ("star", None, value)

    def double_star(self, meta: Any, value: Node) -> tuple[str, None, Node]:
        return ("dstar", None, value)

    def _collect_args(self, raw: list, span: Span) -> tuple[list[Node], dict[str, Node]]:
        """Python's argument rules: positional, *iterable, name=value, **mapping."""
        args: list[Node] = []
        kwargs: dict[str, Node] = {}
        seen_kw = seen_dstar = False
        for kind, key, value in raw:
            value = self._operand(value)
            if kind == "pos":
                if seen_dstar:
                    raise ShellError("positional argument follows keyword argument unpacking", value.span)
                if seen_kw:
                    raise ShellError("positional argument follows keyword argument", value.span)
                args.append(value)
            elif kind == "star":
                if seen_dstar:
                    raise ShellError("iterable argument unpacking follows keyword argument unpacking", value.span)
                args.extend(self._iterate(value))
            elif kind == "kw":
                if key in kwargs:
                    kind_ = "TypeError" if seen_dstar else "SyntaxError"
                    raise ShellError(f"keyword argument repeated: {key}", value.span, kind=kind_)
                seen_kw = True
                kwargs[key] = value
            else:
                seen_dstar = True
                if not isinstance(value, PyDict):
                    raise ShellError(
                        f"argument after ** must be a mapping, not {python_type_name(value)}",
                        value.span, kind="TypeError",
                    )
                for k, v in value.entries.items():
                    if not isinstance(k, str):
                        raise ShellError("keywords must be strings", value.span, kind="TypeError")
                    if k in kwargs:
                        raise ShellError(
                            f"got multiple values for keyword argument '{k}'", value.span, kind="TypeError"
                        )
                    kwargs[k] = v
        return args, kwargs

    def _iterate(self, value: Node) -> list[Node]:
        if isinstance(value, PyList):
            return list(value.items)
        if isinstance(value, PyDict):
            return [Lit(k, value.span) for k in value.entries]
        if isinstance(value, Q):
            raise ShellError(DRIVER_ITER_MESSAGE, value.span, kind="ReqlDriverError")
        if isinstance(value, Lit) and isinstance(value.value, (str, bytes)):
            return [Lit(c, value.span) for c in value.value]
        raise ShellError(
            f"argument after * must be an iterable, not {python_type_name(value)}", value.span, kind="TypeError"
        )

    def method_call(self, meta: Any, recv: Node, name: Token, raw_args: list | None) -> Node:
        span = _span(meta)
        recv = self._operand(recv)
        attr = name.value
        args, kwargs = self._collect_args(raw_args or [], span)
        if isinstance(recv, RNamespace):
            return self._r_call(attr, args, kwargs, span, _tok_span(name))
        if isinstance(recv, Q):
            if attr == "run":
                return self._run(recv, args, kwargs, span)
            spec = M.methods_for(recv.cls).get(attr)
            if spec is None:
                raise self._no_attribute(recv.cls, attr, list(M.methods_for(recv.cls)), _tok_span(name))
            return self._call(attr, spec, recv, args, kwargs, span)
        raise ShellError(
            f"'{python_type_name(recv)}' value has no ReQL method '{attr}': "
            "wrap the value with r.expr(...) first",
            _tok_span(name), kind="AttributeError",
        )

    def _run(self, recv: Q, args: list[Node], kwargs: dict[str, Node], span: Span) -> Node:
        # `.run(conn)` is accepted for copy-paste from Python code; the connection is the shell's.
        if len(args) > 1 or (args and not isinstance(args[0], Name)):
            raise ShellError(
                "run() takes only keyword arguments here (the shell supplies the connection)",
                span, kind="TypeError",
            )
        return RunCall(recv, kwargs, span)

    def _r_call(self, attr: str, args: list[Node], kwargs: dict[str, Node], span: Span, name_span: Span) -> Node:
        if attr == "expr":
            return self._r_expr(args, kwargs, span)
        if attr == "binary":
            return self._r_binary(args, kwargs, span)
        if attr == "row":
            raise ShellError("'r.row' is not callable, use 'r.row[...]' instead", span, kind="TypeError")
        if attr in M.R_CONSTANTS:
            raise ShellError("'RqlConstant' object is not callable", span, kind="TypeError")
        spec = M.R_FUNCTIONS.get(attr)
        if spec is None:
            raise self._no_attribute("RethinkDB", attr, M.r_names(), name_span)
        if spec.wrap == "first":
            if len(args) != 1:
                raise ShellError(
                    f"{attr}() takes exactly 1 positional argument ({len(args)} given)", span, kind="TypeError"
                )
        return self._call(attr, spec, None, args, kwargs, span)

    def _r_expr(self, args: list[Node], kwargs: dict[str, Node], span: Span) -> Node:
        extra = set(kwargs) - {"val", "nesting_depth"}
        if extra:
            raise ShellError(f"expr() got an unexpected keyword argument '{sorted(extra)[0]}'", span, kind="TypeError")
        params = list(args)
        if "val" in kwargs:
            if params:
                raise ShellError("expr() got multiple values for argument 'val'", span, kind="TypeError")
            params.append(kwargs["val"])
        if not params:
            raise ShellError("expr() missing 1 required positional argument: 'val'", span, kind="TypeError")
        if len(params) > 2 or (len(params) == 2 and "nesting_depth" in kwargs):
            raise ShellError("expr() takes from 1 to 2 positional arguments", span, kind="TypeError")
        depth_node = params[1] if len(params) == 2 else kwargs.get("nesting_depth")
        depth = 20
        if depth_node is not None:
            if not (isinstance(depth_node, Lit) and isinstance(depth_node.value, int)):
                raise ShellError(
                    "Second argument to `r.expr` must be a number.", depth_node.span, kind="ReqlDriverCompileError"
                )
            depth = depth_node.value
        value = params[0]
        if isinstance(value, Q):
            if depth <= 0:
                raise ShellError("Nesting depth limit exceeded.", span, kind="ReqlDriverCompileError")
            return value
        return self.conv.expr(value, depth)

    def _r_binary(self, args: list[Node], kwargs: dict[str, Node], span: Span) -> Node:
        if kwargs or len(args) != 1:
            raise ShellError("binary() takes exactly one argument (data)", span, kind="TypeError")
        data = args[0]
        if isinstance(data, Q):
            return Term(TermType.BINARY, [data], {}, span, "Binary")
        if isinstance(data, Lit) and isinstance(data.value, bytes):
            return self.conv.expr(Lit(data.value, span))
        if isinstance(data, Lit) and isinstance(data.value, str):
            raise ShellError(
                "Cannot convert a unicode string to binary, use `unicode.encode()` to specify the encoding.",
                data.span, kind="ReqlDriverCompileError",
            )
        raise ShellError(
            f"Cannot convert {python_type_name(data)} to binary, convert the object to a `bytes` object first.",
            data.span, kind="ReqlDriverCompileError",
        )

    def _call(
        self, name: str, spec: M.Method, recv: Q | None, args: list[Node], kwargs: dict[str, Node], span: Span,
    ) -> Node:
        """Build the term of ``recv.name(*args, **kwargs)`` (or ``r.name(...)`` without recv)."""
        if kwargs and not spec.kwargs:
            raise ShellError(
                f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'", span, kind="TypeError"
            )
        conv = self.conv
        if spec.wrap == "funcall":
            combined: list[Node] = ([recv] if recv is not None else []) + args
            if not combined:
                raise ShellError("Expected 1 or more arguments but found 0.", span, kind="ReqlDriverCompileError")
            final: list[Node] = [conv.func_wrap(combined[-1]), *combined[:-1]]
            return self._make(spec.term, spec.cls, final, span)
        wrapped: list[Node] = list(args)
        if spec.wrap == "all":
            wrapped = [conv.func_wrap(a) for a in args]
        elif spec.wrap == "last" and args:
            wrapped = [*args[:-1], conv.func_wrap(args[-1])]
        elif spec.wrap == "after_first" and len(args) > 1:
            wrapped = [args[0], *(conv.func_wrap(a) for a in args[1:])]
        elif spec.wrap == "ordering":
            wrapped = [a if isinstance(a, Q) and a.cls in ("Asc", "Desc") else conv.func_wrap(a) for a in args]
        elif spec.wrap == "first" and args:
            wrapped = [conv.func_wrap(args[0]), *args[1:]]
        if spec.kwargs == "wrap":
            kwargs = {k: conv.func_wrap(v) for k, v in kwargs.items()}
        full = ([recv] if recv is not None else []) + wrapped
        return self._make(spec.term, spec.cls, full, span, optargs=kwargs)

