"""The ``reqlite`` command: ``reqlite serve`` (the default) with RethinkDB-style flags."""

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reqlite", description="A RethinkDB-compatible database server."
    )
    parser.add_argument("--version", action="version", version=f"reqlite {__version__} (RethinkDB 2.4 protocol)")
    sub = parser.add_subparsers(dest="command")
    serve_p = sub.add_parser("serve", help="run the server (the default command)")
    _serve_parser(serve_p)
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
    return 2


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
