"""The ``reqlite`` command: ``reqlite serve`` (the default) with RethinkDB-style flags,
``reqlite shell`` (the interactive ReQL shell), ``reqlite query EXPR`` (one query) and
``reqlite backup DEST`` (a consistent hot backup)."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

DEFAULT_DIRECTORY = "reqlite_data"
DEFAULT_DRIVER_PORT = 28015


def _serve_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="ADDR",
        help="address to listen on (repeatable; 'all' for every interface; default 127.0.0.1)",
    )
    p.add_argument(
        "--driver-port",
        type=int,
        default=DEFAULT_DRIVER_PORT,
        metavar="N",
        help=f"port for client drivers (default {DEFAULT_DRIVER_PORT}; 0 picks a free port)",
    )
    p.add_argument(
        "-d",
        "--directory",
        default=DEFAULT_DIRECTORY,
        metavar="PATH",
        help=f"data directory (default ./{DEFAULT_DIRECTORY})",
    )
    p.add_argument(
        "--initial-password",
        default=None,
        metavar="PW",
        help="password of the admin user when the directory is created (default: empty)",
    )
    p.add_argument("--log-file", default=None, metavar="FILE", help="write the log here instead of stderr")


def _client_parser(p: argparse.ArgumentParser) -> None:
    """Options saying where the shell's queries go: a server, or a data directory."""
    p.add_argument("--host", default="localhost", help="server to connect to (default localhost)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_DRIVER_PORT, metavar="N",
        help=f"its client driver port (default {DEFAULT_DRIVER_PORT})",
    )
    p.add_argument("--user", default="admin", help="user name (default admin)")
    p.add_argument(
        "-p", "--password", action="store_true",
        help="ask for the password (as RethinkDB's tools do; default: empty password)",
    )
    p.add_argument(
        "--password-file", default=None, metavar="FILE", help="read the password from the first line of FILE",
    )
    p.add_argument(
        "-d", "--directory", default=None, metavar="PATH",
        help="open this data directory in-process instead of connecting to a server "
        "(no server may be running on it)",
    )
    p.add_argument("--db", default=None, metavar="NAME", help="default database of the queries")
    p.add_argument("--timeout", type=float, default=20, metavar="S", help="connection timeout (default 20 s)")
    p.add_argument(
        "--format", choices=("pretty", "json", "lines"), default="pretty",
        help="output: indented JSON (default), compact JSON, or one compact JSON value per line",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reqlite", description="A RethinkDB-compatible database server."
    )
    parser.add_argument("--version", action="version", version=f"reqlite {__version__} (RethinkDB 2.4 protocol)")
    sub = parser.add_subparsers(dest="command")
    serve_p = sub.add_parser("serve", help="run the server (the default command)")
    _serve_parser(serve_p)
    shell_p = sub.add_parser("shell", help="interactive ReQL shell (Python driver syntax)")
    _client_parser(shell_p)
    shell_p.add_argument("--no-history", action="store_true", help="do not read or write the history file")
    backup_p = sub.add_parser(
        "backup", help="consistent hot backup of a data directory (safe while a server runs on it)"
    )
    backup_p.add_argument(
        "-d", "--directory", default=DEFAULT_DIRECTORY, metavar="PATH",
        help=f"data directory to back up (default ./{DEFAULT_DIRECTORY})",
    )
    backup_p.add_argument("dest", metavar="DEST", help="new directory for the copy (a data directory itself)")
    query_p = sub.add_parser("query", help="run one ReQL query and print its result")
    query_p.add_argument("expr", metavar="EXPR", help="the query, e.g. \"r.db_list()\" ('-' reads it from stdin)")
    _client_parser(query_p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["serve", *argv]
    args = build_parser().parse_args(argv)
    if args.command in (None, "serve"):
        if args.command is None:
            args = build_parser().parse_args(["serve"])
        return run_serve(args)
    if args.command == "shell":
        return run_shell(args)
    if args.command == "query":
        return run_query(args)
    if args.command == "backup":
        return run_backup(args)
    return 2


def run_backup(args: argparse.Namespace) -> int:
    from .storage import StorageError
    from .storage.backup import hot_backup

    try:
        info = hot_backup(args.directory, args.dest)
    except StorageError as exc:
        print(f"reqlite: error: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {info['source']} to {info['dest']} ({info['bytes']:,} bytes)")
    return 0


def _open_session(args: argparse.Namespace):
    """Connect as the client options say; None (after printing why) on failure."""
    from rethinkdb.errors import ReqlError

    from .shell.session import Session, connect

    password = ""
    if args.password_file is not None:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except OSError as exc:
            print(f"reqlite: error: cannot read the password file: {exc}", file=sys.stderr)
            return None
    elif args.password:
        import getpass

        password = getpass.getpass(f"Password for {args.user}: ")
    try:
        conn = connect(
            host=args.host, port=args.port, user=args.user, password=password, db=args.db,
            directory=args.directory, timeout=args.timeout,
        )
    except ReqlError as exc:
        print(f"reqlite: error: {exc.message}", file=sys.stderr)
        return None
    return Session(conn, fmt=args.format)


def _close(conn) -> None:
    """Close after the server has finished any `run(noreply=True)` query."""
    from rethinkdb.errors import ReqlError

    try:
        conn.close(noreply_wait=True)
    except (ReqlError, OSError):
        conn.close(noreply_wait=False)


def run_query(args: argparse.Namespace) -> int:
    """``reqlite query EXPR``: exit status 0 on success, 1 on any error."""
    text = sys.stdin.read() if args.expr == "-" else args.expr
    from .shell import ShellError, parse

    try:
        parsed = parse(text)
    except ShellError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    session = _open_session(args)
    if session is None:
        return 1
    try:
        return 0 if session.run_parsed(parsed) else 1
    except KeyboardInterrupt:
        return 130
    finally:
        _close(session.conn)


def run_shell(args: argparse.Namespace) -> int:
    """``reqlite shell``: interactive on a terminal, line by line from a pipe."""
    from .shell.repl import Repl, default_history_file

    session = _open_session(args)
    if session is None:
        return 1
    repl = Repl(session)
    try:
        if sys.stdin.isatty() and sys.stdout.isatty():
            where = args.directory if args.directory is not None else f"{args.host}:{args.port}"
            print(f"reqlite {__version__} shell on {where} (help for help, Ctrl-D to quit)")
            history = None if args.no_history else default_history_file()
            return repl.run_interactive(history)
        return repl.run_lines(sys.stdin)
    finally:
        _close(session.conn)


def run_serve(args: argparse.Namespace) -> int:
    import trio

    from .server.server import serve
    from .storage import StorageError, Store

    logging.basicConfig(
        level=logging.INFO,
        filename=args.log_file,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        store = Store(args.directory)
    except StorageError as exc:
        print(f"reqlite: error: {exc}", file=sys.stderr)
        return 1

    def ready(addrs: list[tuple[str, int]]) -> None:
        print(f"Running reqlite {__version__} with data directory {store.engine.path}", flush=True)
        for host, port in addrs:
            print(f"Listening for client driver connections on {host} port {port}", flush=True)
        print("Server ready", flush=True)

    try:
        trio.run(serve, store, args.bind, args.driver_port, args.initial_password, ready)
    except OSError as exc:
        print(f"reqlite: error: cannot listen: {exc}", file=sys.stderr)
        store.close()
        return 1
    except KeyboardInterrupt:
        pass
    store.close()
    print("Server stopped", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
