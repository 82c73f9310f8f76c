"""User accounts and their permissions in LMDB: the documents and the jobs that change them.

A user is stored under ``__meta__:users:{name}`` as ``{"name", "password", "has_password"}``
where ``password`` holds the SCRAM-SHA-256 credentials (salt, iteration count, StoredKey,
ServerKey; never the password itself) and ``has_password`` tells whether the password is
non-empty (what ``rethinkdb.users`` shows as ``password: true/false``). A user without a
password still has credentials: those of the empty password, as RethinkDB derives them.

A user's permissions are one document under ``__meta__:permissions:{name}``::

    {"global": {"read": true, "connect": false, ...},
     "databases": {db_id: {"read": true, ...}},
     "tables": {table_id: {"write": false, ...}}}

Each scope holds only the permissions that are set (true or false); an unset permission is
inherited from the wider scope (ql/permissions.py). Empty scopes are not stored. The
``admin`` user has every permission and no permissions document.

Jobs here are functions of a write transaction for the single write path; they report
expected conditions in their result rather than raising.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson

from . import layout

ADMIN = "admin"
NO_USER = "no_user"


def credentials_to_json(c: Any) -> dict:
    """SCRAM credentials (``wire.ScramCredentials``) as stored JSON."""
    return {
        "salt": base64.b64encode(c.salt).decode(),
        "iterations": c.iterations,
        "stored_key": base64.b64encode(c.stored_key).decode(),
        "server_key": base64.b64encode(c.server_key).decode(),
    }


def credentials_fields(d: dict) -> dict:
    """Stored credentials JSON back to the fields of ``wire.ScramCredentials``."""
    return {
        "salt": base64.b64decode(d["salt"]),
        "iterations": d["iterations"],
        "stored_key": base64.b64decode(d["stored_key"]),
        "server_key": base64.b64decode(d["server_key"]),
    }


def user_doc(name: str, credentials: Any, has_password: bool) -> dict:
    return {"name": name, "password": credentials_to_json(credentials), "has_password": has_password}


def read_user(txn: Any, name: str) -> dict | None:
    raw = txn.get(layout.user_key(name))
    return None if raw is None else orjson.loads(raw)


def all_users(txn: Any) -> list[tuple[str, dict]]:
    """Every user as ``(name, document)``, in name order."""
    out = []
    prefix = layout.USERS
    cur = txn.cursor()
    if cur.set_range(prefix):
        for k, v in cur:
            if not k.startswith(prefix):
                break
            out.append((k[len(prefix):].decode(), orjson.loads(v)))
    return out


def read_permissions(txn: Any, name: str) -> dict:
    raw = txn.get(layout.permissions_key(name))
    return {} if raw is None else orjson.loads(raw)


def put_user_job(name: str, doc: dict) -> Callable[[Any], bool]:
    """Create or replace a user; the result tells whether the user existed."""
    data = orjson.dumps(doc)

    def job(txn: Any) -> bool:
        key = layout.user_key(name)
        existed = txn.get(key) is not None
        txn.put(key, data)
        return existed

    return job


def delete_user_job(name: str) -> Callable[[Any], bool]:
    """Delete a user and its permissions; the result tells whether the user existed."""

    def job(txn: Any) -> bool:
        existed = txn.delete(layout.user_key(name))
        txn.delete(layout.permissions_key(name))
        return bool(existed)

    return job


def update_permissions_job(name: str, change: Callable[[dict], tuple[bool, Any]]) -> Callable[[Any], Any]:
    """Apply ``change`` to the user's permissions document inside the write transaction.

    ``change(doc)`` edits ``doc`` in place and returns ``(ok, value)``: when ``ok`` the
    document is written back (removed when empty) and ``value`` is the job's result;
    otherwise nothing is written and ``value`` is returned as is. The result is
    ``NO_USER`` if the user does not exist.
    """

    def job(txn: Any) -> Any:
        if txn.get(layout.user_key(name)) is None:
            return NO_USER
        key = layout.permissions_key(name)
        raw = txn.get(key)
        doc = {} if raw is None else orjson.loads(raw)
        ok, value = change(doc)
        if ok:
            for scope in ("databases", "tables"):
                if scope in doc and not doc[scope]:
                    del doc[scope]
            if "global" in doc and not doc["global"]:
                del doc["global"]
            if doc:
                txn.put(key, orjson.dumps(doc))
            elif raw is not None:
                txn.delete(key)
        return value

    return job


__all__ = [
    "ADMIN",
    "NO_USER",
    "all_users",
    "credentials_fields",
    "credentials_to_json",
    "delete_user_job",
    "put_user_job",
    "read_permissions",
    "read_user",
    "update_permissions_job",
    "user_doc",
]
