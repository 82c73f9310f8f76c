"""Running text ReQL through the official driver and printing what comes back.

A :class:`Session` owns a driver connection (TCP, or the embedded engine) and runs
parsed queries on it: the parser's JSON term goes out as it is (wrapped in a tiny
``RqlQuery`` whose ``build()`` returns it), results are printed as JSON — cursors
streamed item by item, changefeeds included — and errors are printed with RethinkDB's
message and a caret under the failing part of the text the user typed (the server's
backtrace is mapped onto the parsed nodes).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from rethinkdb import ast as driver_ast
from rethinkdb import net
from rethinkdb.errors import ReqlDriverError, ReqlError

from .nodes import Datum, ShellError, caret_excerpt
from .parser import ParsedQuery, parse

FORMATS = ("pretty", "json", "lines")


class RawTerm(driver_ast.RqlQuery):
    """A term already in JSON form, sent by the driver as it is."""

    def __init__(self, term: Any) -> None:
        self._args = []
        self.optargs = {}
        self.term = term

    def build(self) -> Any:
        return self.term

    def compose(self, args: Any, optargs: Any) -> str:
        return "<text query>"


class RawDecoder(driver_ast.ReQLDecoder):
    """The driver's decoder with every pseudo-type left as JSON (times, binary, groups)."""

    def __init__(self, reql_format_opts: dict | None = None) -> None:
        opts = dict(reql_format_opts or {})
        opts.update(time_format="raw", group_format="raw", binary_format="raw")
        super().__init__(opts)


def connect(
    host: str = "localhost", port: int = 28015, user: str = "admin", password: str = "",
    db: str | None = None, directory: str | None = None, timeout: float = 20,
) -> net.Connection:
    """A driver connection for the shell: to a server, or to ``directory`` in-process."""
    if directory is not None:
        from .. import embedded

        conn: net.Connection = embedded.connect(directory, db=db, user=user, password=password, timeout=timeout)
    else:
        from rethinkdb import r

        conn = r.connect(host=host, port=port, user=user, password=password, db=db, timeout=timeout)
    conn._json_decoder = RawDecoder
    return conn


class Session:
    """Runs query texts on a connection and prints results and errors."""

    def __init__(
        self, conn: net.Connection, out: TextIO | None = None, err: TextIO | None = None,
        fmt: str = "pretty",
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}")
        self.conn = conn
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.fmt = fmt

    # -- running ------------------------------------------------------------------------

    def run_text(self, text: str) -> bool:
        """Parse and run one query; print its result or error.  True on success."""
        try:
            parsed = parse(text)
        except ShellError as exc:
            self._print_error(str(exc))
            return False
        return self.run_parsed(parsed)

    def run_parsed(self, parsed: ParsedQuery) -> bool:
        optargs: dict[str, Any] = {}
        for name, node in parsed.global_optargs.items():
            # Plain values go as themselves (the driver reads `noreply` itself); the
            # driver wraps `db` in r.db() as it does for `run(db=...)`.
            optargs[name] = node.value if isinstance(node, Datum) else RawTerm(node.build())
        try:
            result = self.conn._start(RawTerm(parsed.term), **optargs)
            if isinstance(result, net.Cursor):
                self._print_cursor(result)
            elif optargs.get("noreply") is True:
                pass
            else:
                self._print_value(result)
        except ReqlError as exc:
            self._print_error(self.format_error(exc, parsed))
            return False
        return True

    # -- output ---------------------------------------------------------------------------

    def _dump(self, value: Any, indent: int | None) -> str:
        return json.dumps(value, indent=indent, ensure_ascii=False, separators=None if indent else (",", ":"))

    def _print_value(self, value: Any) -> None:
        self.out.write(self._dump(value, 2 if self.fmt == "pretty" else None) + "\n")
        self.out.flush()

    def _print_cursor(self, cursor: net.Cursor) -> None:
        """Stream a cursor: a JSON array written item by item (or one item per line)."""
        out, fmt = self.out, self.fmt
        first = True
        try:
            for item in cursor:
                if fmt == "lines":
                    out.write(self._dump(item, None) + "\n")
                elif fmt == "json":
                    out.write(("[" if first else ",") + self._dump(item, None))
                else:
                    text = self._dump(item, 2).replace("\n", "\n  ")
                    out.write(("[\n  " if first else ",\n  ") + text)
                first = False
                out.flush()
        except KeyboardInterrupt:
            cursor.close()
            raise
        finally:
            if fmt == "json":
                out.write("[]\n" if first else "]\n")
            elif fmt == "pretty":
                out.write("[]\n" if first else "\n]\n")
            out.flush()

    def _print_error(self, text: str) -> None:
        self.err.write(text.rstrip("\n") + "\n")
        self.err.flush()

    @staticmethod
    def format_error(exc: ReqlError, parsed: ParsedQuery) -> str:
        """RethinkDB's message, then the query text with carets under the failing term."""
        name = type(exc).__name__.lstrip("_")
        message = exc.message if isinstance(exc.message, str) else str(exc.message)
        frames = getattr(exc, "frames", None)
        if frames is None or isinstance(exc, ReqlDriverError):
            return f"{name}: {message}"
        span = parsed.span_of(list(frames))
        return f"{name}: {message.rstrip('.')} in:\n{caret_excerpt(parsed.text, span)}"
