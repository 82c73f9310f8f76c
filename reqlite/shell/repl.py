"""``reqlite shell``: the interactive ReQL shell (prompt-toolkit), and its piped mode.

Interactive: history (``~/.reqlite_history``), multi-line input (Enter runs the query
once it is complete — brackets closed, no dangling operator — and inserts a newline
otherwise; Esc then Enter always runs it), tab completion of ``r.`` functions and of
methods (those of the receiver's class when it can be worked out: ``r.table('t').``
offers ``insert``, ``get``...).  Ctrl-C abandons the input line or stops a running
query or changefeed; Ctrl-D leaves.

Piped (standard input is not a terminal): the same loop without prompt-toolkit — lines
are accumulated until they form a complete query, which is run; the exit status is 1
if any query failed.

Besides queries, the shell knows ``help``, ``use DB`` (default database) and
``exit``/``quit``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from . import methods as M
from .nodes import ShellError
from .parser import parse, receiver_class
from .session import Session

PROMPT = "reqlite> "
CONTINUATION = "      ... "

HELP = """\
Type ReQL as you would write it with the Python driver, e.g.
    r.db_list()
    r.table('users').filter(r.row['age'] > 30).count()
    r.table('users').get(1).update({'visits': r.row['visits'] + 1})
    r.table('users').changes()          (Ctrl-C stops a feed)
Run options go in .run(...): r.table('t').count().run(read_mode='outdated')
Shell commands: help, use DB, exit (or Ctrl-D).
Tab completes r. functions and methods; Enter on an unfinished query adds a line.
"""


def is_complete(text: str) -> bool:
    """True when ``text`` should run now: it parses, or fails for a reason other than
    having ended too early."""
    if not text.strip():
        return False
    if _command(text) is not None:
        return True
    try:
        parse(text)
    except ShellError as exc:
        return not exc.incomplete
    return True


def _command(text: str) -> tuple[str, str] | None:
    """A shell command (not ReQL) as (name, argument)."""
    m = re.fullmatch(r"\s*(help|exit|quit|exit\(\)|quit\(\)|use\s+(\S+))\s*", text)
    if m is None:
        return None
    word = m.group(1)
    if word.startswith("use"):
        return ("use", m.group(2))
    return (word.rstrip("()"), "")


# -- completion -------------------------------------------------------------------------------

_DELIMS = set("([{,=: \t\n+-*/%&|~<>!")
MAX_COMPLETION_PARSES = 64  # suffixes tried per Tab (each is a parse)


def completions(text_before_cursor: str) -> tuple[str, list[str]]:
    """(the word being typed, the names that complete it) for the text left of the cursor."""
    m = re.search(r"\.(\w*)$", text_before_cursor)
    if m is None:
        return "", []
    prefix = m.group(1)
    receiver_text = text_before_cursor[: m.start()]
    cls = _receiver(receiver_text)
    if cls == "r":
        names = M.r_names()
    elif cls is not None:
        names = sorted({*M.methods_for(cls), "run"})
    else:
        names = M.method_names()
    return prefix, [n for n in names if n.startswith(prefix)]


def _receiver(text: str) -> str | None:
    """The class of the expression a dot after ``text`` applies to: the shortest
    complete expression ending ``text`` (``1 + r.table('t')`` -> the table), found by
    trying the suffixes that start after a delimiter, shortest first."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch in _DELIMS]
    for start in reversed(starts[-MAX_COMPLETION_PARSES:]):
        piece = text[start:].strip()
        if not piece:
            continue
        if piece == "r":
            return "r"
        cls = receiver_class(piece)
        if cls is not None:
            return cls
    return None


def _make_completer() -> Any:
    from prompt_toolkit.completion import Completer, Completion

    class ReqlCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
            prefix, names = completions(document.text_before_cursor)
            for name in names:
                yield Completion(name, start_position=-len(prefix))

    return ReqlCompleter()


# -- the loops ---------------------------------------------------------------------------------


class Repl:
    """The shell loop around a :class:`Session`."""

    def __init__(self, session: Session, out: TextIO | None = None) -> None:
        self.session = session
        self.out = out if out is not None else sys.stdout
        self.failures = 0

    def handle(self, text: str) -> bool:
        """Run one complete input (query or command); False means leave the shell."""
        cmd = _command(text)
        if cmd is not None:
            name, arg = cmd
            if name in ("exit", "quit"):
                return False
            if name == "help":
                self.out.write(HELP)
            elif name == "use":
                self.session.conn.use(arg)
                self.out.write(f"default database: {arg}\n")
            self.out.flush()
            return True
        try:
            ok = self.session.run_text(text)
        except KeyboardInterrupt:
            self.session.err.write("(interrupted)\n")
            ok = False
        except Exception as exc:  # noqa: BLE001 - a shell bug must not end the session
            self.session.err.write(f"internal error: {type(exc).__name__}: {exc}\n")
            ok = False
        if not ok:
            self.failures += 1
        return True

    def run_lines(self, lines: Iterable[str]) -> int:
        """Piped mode: queries from ``lines``; exit status 1 if any failed."""
        buffer = ""
        for line in lines:
            buffer += line if line.endswith("\n") else line + "\n"
            if not buffer.strip():
                buffer = ""
                continue
            if is_complete(buffer):
                text, buffer = buffer.rstrip("\n"), ""
                if not self.handle(text):
                    return 1 if self.failures else 0
        if buffer.strip():
            self.handle(buffer.rstrip("\n"))
        return 1 if self.failures else 0

    def run_interactive(self, history_file: str | None = None, input: Any = None, output: Any = None) -> int:
        """The prompt-toolkit loop (``input``/``output`` are for tests)."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.key_binding import KeyBindings

        bindings = KeyBindings()

        @bindings.add("enter")
        def _enter(event: Any) -> None:
            buf = event.current_buffer
            if not buf.text.strip() or is_complete(buf.text):
                buf.validate_and_handle()
            else:
                buf.insert_text("\n")

        @bindings.add("escape", "enter")
        def _force(event: Any) -> None:
            event.current_buffer.validate_and_handle()

        history: Any = InMemoryHistory()
        if history_file:
            try:
                open(history_file, "a").close()  # noqa: SIM115 - creating it if absent
                history = FileHistory(history_file)
            except OSError:
                pass
        prompt = PromptSession(
            history=history,
            completer=_make_completer(),
            complete_while_typing=False,
            multiline=True,
            key_bindings=bindings,
            prompt_continuation=lambda width, line, wrap: CONTINUATION[-width:] if width else CONTINUATION,
            input=input,
            output=output,
        )
        while True:
            try:
                text = prompt.prompt(PROMPT)
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if not text.strip():
                continue
            if not self.handle(text):
                break
        return 0


def default_history_file() -> str:
    return os.environ.get("REQLITE_HISTORY") or os.path.join(os.path.expanduser("~"), ".reqlite_history")
