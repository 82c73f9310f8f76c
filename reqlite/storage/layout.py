"""The LMDB key layout: every key reqlite writes is built here and nowhere else.

One LMDB environment, one keyspace, prefixes by purpose::

    __meta__:databases:{name}              -> DatabaseConfig JSON {id, name, created_at}
    __meta__:database_ids:{id}             -> name
    __meta__:tables:{db}.{table}           -> TableConfig JSON {id, name, db, database_id,
                                              primary_key, created_at, durability,
                                              indexes, write_hook}
    __meta__:table_ids:{id}                -> "{db}.{table}"
    __meta__:doc_counts:{table_id}         -> document count (ASCII integer)
    __meta__:users:{name}                  -> user JSON (SCRAM credentials)
    __meta__:permissions:{name}            -> a user's permissions JSON {global, databases: {db_id: ...},
                                              tables: {table_id: ...}} (storage/users.py)
    __meta__:format                        -> layout version of this directory
    db:{db_id}:table:{table_id}:docs:{pk}  -> document JSON (pk: datum.keys.encode_key)
    __meta__:index_epoch:{table_id}        -> bumped by every index create/drop (ASCII integer)
    db:{db_id}:table:{table_id}:sindex:{index_id}:{skey}{pk} -> b"T"/b"F" + pk key
                                              (secondary indexes; T: skey was truncated)

Database and table ids are UUIDs, so ``db:{db_id}:`` and ``db:{db_id}:table:{id}:``
are unambiguous prefixes: dropping a database or a table is one prefix range delete.
"""

from __future__ import annotations

META = b"__meta__:"
FORMAT_KEY = b"__meta__:format"
FORMAT_VERSION = b"reqlite-1"

DATABASES = b"__meta__:databases:"
DATABASE_IDS = b"__meta__:database_ids:"
TABLES = b"__meta__:tables:"
TABLE_IDS = b"__meta__:table_ids:"
DOC_COUNTS = b"__meta__:doc_counts:"
INDEX_EPOCHS = b"__meta__:index_epoch:"
USERS = b"__meta__:users:"
PERMISSIONS = b"__meta__:permissions:"


def database_key(name: str) -> bytes:
    return DATABASES + name.encode()


def database_id_key(db_id: str) -> bytes:
    return DATABASE_IDS + db_id.encode()


def table_key(db: str, table: str) -> bytes:
    return TABLES + f"{db}.{table}".encode()


def tables_of_db_prefix(db: str) -> bytes:
    return TABLES + f"{db}.".encode()


def table_id_key(table_id: str) -> bytes:
    return TABLE_IDS + table_id.encode()


def doc_count_key(table_id: str) -> bytes:
    return DOC_COUNTS + table_id.encode()


def index_epoch_key(table_id: str) -> bytes:
    return INDEX_EPOCHS + table_id.encode()


def user_key(name: str) -> bytes:
    return USERS + name.encode()


def permissions_key(name: str) -> bytes:
    return PERMISSIONS + name.encode()


def database_prefix(db_id: str) -> bytes:
    return f"db:{db_id}:".encode()


def table_prefix(db_id: str, table_id: str) -> bytes:
    return f"db:{db_id}:table:{table_id}:".encode()


def docs_prefix(db_id: str, table_id: str) -> bytes:
    return f"db:{db_id}:table:{table_id}:docs:".encode()


def sindex_prefix(db_id: str, table_id: str, index_id: str) -> bytes:
    """Entries of one secondary index (by the index's id, so renaming moves nothing)."""
    return f"db:{db_id}:table:{table_id}:sindex:{index_id}:".encode()


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    p = bytearray(prefix)
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return b"\xff" * 512
