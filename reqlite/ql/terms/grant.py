"""``r.grant``, ``db.grant`` and ``table.grant``: set a user's permissions at one scope.

``grant(user, {read, write, config, connect})`` merges the given permissions into the
user's permissions at the global scope, on a database or on a table: ``true``/``false``
set one, ``null`` unsets it (it is then inherited from the wider scope); ``connect``
exists only at the global scope. The answer is RethinkDB's
``{granted: 1, permissions_changes: [{old_val, new_val}]}`` where each value is the scope's
permissions before and after (``null`` when none is set).

The caller needs ``read`` and ``write`` on ``rethinkdb.permissions`` (ql/permissions.py);
the ``admin`` user's permissions can't be changed. Storage: storage/users.py.
"""

from __future__ import annotations

from typing import Any

from ...errors import ReqlOpFailedError
from ...storage import users
from ...wire.ql2 import TermType as T
from ..permissions import (
    PERMISSIONS_TABLE_ID,
    SYSTEM_DB_ID,
    change_scope,
    eval_target,
    parse_permissions,
    require,
)
from ..term import Term, register
from ..values import Database, Table
from .admin import _typed


@register(T.GRANT)
class Grant(Term):
    __slots__ = ()
    name = "grant"
    argspec = (2, 3)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        db_id = table_id = None
        i = 0
        if len(self.args) == 3:
            scope = await eval_target(self, q, env)  # a table is not read: no read check
            if isinstance(scope, Database):
                db_id = scope.config.id
            elif isinstance(scope, Table):
                db_id, table_id = scope.db.id, scope.config.id
            else:
                raise _typed("TABLE", scope)
            i = 1
        user = await self.str_arg(i, q, env)
        value = await self.datum_arg(i + 1, q, env)
        return await grant(q, user, db_id, table_id, value)


async def grant(q: Any, user: str, db_id: str | None, table_id: str | None, value: Any) -> dict:
    """Merge ``value`` into ``user``'s permissions at one scope (global when both ids are None)."""
    if user == users.ADMIN:
        raise ReqlOpFailedError(f"The permissions of the user `{user}` can't be modified.")
    if not q.user_is_admin:
        require(q, "read", SYSTEM_DB_ID, PERMISSIONS_TABLE_ID)
        require(q, "write", SYSTEM_DB_ID, PERMISSIONS_TABLE_ID)
    with q.store.read() as txn:
        exists = users.read_user(txn, user) is not None
    if not exists:
        raise ReqlOpFailedError(f"User `{user}` not found.")
    changes = parse_permissions(value, db_id is None and table_id is None)
    res = await q.store.write(users.update_permissions_job(user, change_scope(db_id, table_id, changes)))
    if res == users.NO_USER:
        raise ReqlOpFailedError(f"User `{user}` not found.")
    old, new = res
    return {"granted": 1, "permissions_changes": [{"new_val": new, "old_val": old}]}
