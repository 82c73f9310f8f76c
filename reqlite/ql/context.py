"""The query context: what one running query knows besides its variable bindings.

One ``QueryContext`` is created per START and shared by every term of that query and
by the streams it returns: the store, the run options (``db``, ``array_limit``,
``durability``, …), the query's fixed ``r.now()``, and the cooperative checkpoint that
lets long evaluations yield to Trio and be cancelled.
"""

from __future__ import annotations

import time
from typing import Any

import trio

from ..errors import ReqlOpFailedError
from .values import Database, Table

DEFAULT_ARRAY_LIMIT = 100_000


class QueryContext:
    __slots__ = (
        "store",
        "catalog",
        "optargs",
        "default_db",
        "array_limit",
        "now",
        "durability",
        "read_mode",
        "_since",
        "server",
        "conn",
        "user",
        "user_is_admin",
        "perms",
    )

    def __init__(self, store: Any, server: Any = None, conn: Any = None) -> None:
        self.store = store
        self.catalog = store.catalog
        self.optargs: dict[str, Any] = {}
        self.default_db = "test"
        self.array_limit = DEFAULT_ARRAY_LIMIT
        self.now = time.time()
        self.durability: str | None = None
        self.read_mode = "single"
        self._since = time.monotonic()
        self.server = server
        self.conn = conn
        # The connection's user; checks (ql/permissions.py) only run for non-admin users.
        user = getattr(conn, "username", None)
        self.user = user
        self.user_is_admin = user is None or user == "admin"
        self.perms: dict | None = None  # the user's permissions, read on the first check

    async def checkpoint(self) -> None:
        """Yield to other tasks (and honour cancellation) at most every few milliseconds."""
        now = time.monotonic()
        if now - self._since >= 0.002:
            self._since = now
            await trio.lowlevel.checkpoint()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()

    def database(self, name: str) -> Database:
        cfg = self.catalog.get_db(name)
        if cfg is None:
            if name == "rethinkdb":  # the system database (ql/terms/admin.py)
                from .terms.admin import system_database

                return system_database()
            from .terms.db_table import check_name

            check_name("Database", name)
            raise ReqlOpFailedError(f"Database `{name}` does not exist.")
        return Database(cfg)

    def table(self, db: Database, name: str) -> Table:
        cfg = self.catalog.get_table(db.name, name)
        if cfg is None:
            from .terms.db_table import check_name

            check_name("Table", name)
            raise ReqlOpFailedError(f"Table `{db.name}.{name}` does not exist.")
        return Table(db.config, cfg, self.read_mode)
