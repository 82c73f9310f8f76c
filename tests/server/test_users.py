"""User accounts and permissions through the official driver: `rethinkdb.users`,
`rethinkdb.permissions`, `grant` at every scope, SCRAM logins, RethinkDB's errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlAuthError, ReqlOpFailedError, ReqlPermissionError

USERS = r.db("rethinkdb").table("users")
PERMISSIONS = r.db("rethinkdb").table("permissions")


@pytest.fixture
def user(conn) -> Iterator[str]:
    """A fresh user with password "secret" and no permissions; deleted afterwards."""
    name = "u_" + uuid.uuid4().hex[:10]
    res = USERS.insert({"id": name, "password": "secret"}).run(conn)
    assert res["inserted"] == 1
    yield name
    USERS.get(name).delete().run(conn)


def connect_as(server, name: str, password: str = "secret"):
    return r.connect("127.0.0.1", server.port, user=name, password=password)


def denied(name: str, perm: str) -> str:
    return f"User `{name}` does not have the required `{perm}` permission."


def test_created_user_reads_back_without_password_and_can_connect(server, conn, user):
    assert USERS.get(user).run(conn) == {"id": user, "password": True}
    assert USERS.get("admin").run(conn) == {"id": "admin", "password": False}
    with connect_as(server, user) as c:
        assert r.expr(1).run(c) == 1


def test_wrong_password_and_unknown_user_are_refused(server, user):
    with pytest.raises(ReqlAuthError):
        connect_as(server, user, "wrong")
    with pytest.raises(ReqlAuthError):
        connect_as(server, "nobody_" + uuid.uuid4().hex[:6], "secret")


def test_user_without_password_connects_with_empty_password(server, conn):
    name = "u_" + uuid.uuid4().hex[:10]
    assert USERS.insert({"id": name, "password": False}).run(conn)["inserted"] == 1
    try:
        assert USERS.get(name)["password"].run(conn) is False
        with connect_as(server, name, "") as c:
            assert r.expr("ok").run(c) == "ok"
    finally:
        USERS.get(name).delete().run(conn)


def test_password_change_takes_effect(server, conn, user):
    res = USERS.get(user).update({"password": "n3w"}).run(conn)
    assert res["replaced"] == 1
    with pytest.raises(ReqlAuthError):
        connect_as(server, user, "secret")
    with connect_as(server, user, "n3w") as c:
        assert r.expr(2).run(c) == 2
    # password: true keeps it; an object sets the iteration count too
    assert USERS.get(user).update({"password": True}).run(conn)["unchanged"] == 1
    USERS.get(user).update({"password": {"password": "it", "iterations": 64}}).run(conn)
    with connect_as(server, user, "it") as c:
        assert r.expr(3).run(c) == 3
    USERS.get(user).update({"password": False}).run(conn)
    assert USERS.get(user)["password"].run(conn) is False
    with connect_as(server, user, "") as c:
        assert r.expr(4).run(c) == 4


def test_users_table_errors(conn, user):
    def first_error(q):
        res = q.run(conn)
        assert res["errors"] == 1, res
        return res["first_error"]

    fresh = "u_" + uuid.uuid4().hex[:10]
    assert first_error(USERS.insert({"id": fresh, "password": True})) == (
        "Expected an object or string to set the password, or `false` to keep it unset, got true."
    )
    assert first_error(USERS.insert({"id": fresh, "password": 5})) == (
        "Expected an object, string or boolean for `password`, got 5."
    )
    assert first_error(USERS.insert({"id": fresh, "password": "x", "extra": 1})) == "Unexpected key(s) `extra`."
    assert first_error(USERS.insert({"id": fresh})) == "Expected a field named `password`."
    assert first_error(USERS.insert({"id": fresh, "password": {"password": "x", "iterations": 0}})) == (
        "Expected iterations to be a number greater than zero, got 0."
    )
    assert first_error(USERS.get("admin").delete()) == "The user `admin` can't be deleted"
    assert USERS.get(fresh).run(conn) is None


def test_permission_denied_then_granted_at_table_scope(server, conn, db, user):
    r.db(db).table_create("t").run(conn)
    r.db(db).table("t").insert({"id": 1}).run(conn)
    with connect_as(server, user) as c:
        with pytest.raises(ReqlPermissionError, match="read"):
            r.db(db).table("t").run(c)
        res = r.db(db).table("t").grant(user, {"read": True}).run(conn)
        assert res == {
            "granted": 1,
            "permissions_changes": [{"new_val": {"read": True}, "old_val": None}],
        }
        assert list(r.db(db).table("t").run(c)) == [{"id": 1}]
        assert r.db(db).table("t").get(1).run(c) == {"id": 1}
        with pytest.raises(ReqlPermissionError) as exc:
            r.db(db).table("t").insert({"id": 2}).run(c)
        assert exc.value.message == denied(user, "write")
        r.db(db).table("t").grant(user, {"write": True}).run(conn)
        assert r.db(db).table("t").insert({"id": 2}).run(c)["inserted"] == 1
        assert r.db(db).table("t").get(2).update({"x": 1}).run(c)["replaced"] == 1
        assert r.db(db).table("t").filter({"id": 2}).delete().run(c)["deleted"] == 1
        # config is separate: no index without it
        with pytest.raises(ReqlPermissionError, match="config"):
            r.db(db).table("t").index_create("x").run(c)
        r.db(db).table("t").grant(user, {"config": True}).run(conn)
        assert r.db(db).table("t").index_create("x").run(c) == {"created": 1}
        assert r.db(db).table("t").config()["name"].run(c) == "t"


def test_database_scope_and_table_overrides(server, conn, db, user):
    r.db(db).table_create("open").run(conn)
    r.db(db).table_create("secret").run(conn)
    r.db(db).grant(user, {"read": True, "write": True}).run(conn)
    r.db(db).table("secret").grant(user, {"read": False}).run(conn)
    with connect_as(server, user) as c:
        assert r.db(db).table("open").insert({"id": 1}).run(c)["inserted"] == 1
        assert r.db(db).table("open").count().run(c) == 1
        with pytest.raises(ReqlPermissionError, match="read"):
            r.db(db).table("secret").count().run(c)
        # write needs read too
        with pytest.raises(ReqlPermissionError) as exc:
            r.db(db).table("secret").insert({"id": 1}).run(c)
        assert exc.value.message == denied(user, "write")
        # creating tables needs config on the database
        with pytest.raises(ReqlPermissionError, match="config"):
            r.db(db).table_create("more").run(c)
        r.db(db).grant(user, {"config": True}).run(conn)
        assert r.db(db).table_create("more").run(c)["tables_created"] == 1
        assert r.db(db).table_drop("more").run(c)["tables_dropped"] == 1


def test_global_scope_and_system_database(server, conn, user):
    name = "g_" + uuid.uuid4().hex[:8]
    with connect_as(server, user) as c:
        with pytest.raises(ReqlPermissionError, match="config"):
            r.db_create(name).run(c)
        r.grant(user, {"read": True, "write": True, "config": True}).run(conn)
        try:
            assert r.db_create(name).run(c)["dbs_created"] == 1
            r.db(name).table_create("t").run(c)
            r.db(name).table("t").insert({"id": 1}).run(c)
            assert r.db(name).table("t").count().run(c) == 1
            # global permissions do not reach the system database
            with pytest.raises(ReqlPermissionError, match="read"):
                USERS.run(c)
            with pytest.raises(ReqlPermissionError, match="read"):
                r.grant(user, {"read": False}).run(c)
            r.db("rethinkdb").grant(user, {"read": True}).run(conn)
            assert {row["id"] for row in USERS.run(c)} >= {"admin", user}
            assert r.db_drop(name).run(c)["dbs_dropped"] == 1
        finally:
            if name in r.db_list().run(conn):
                r.db_drop(name).run(conn)


def test_permissions_table_rows_and_writes(conn, db, user):
    r.db(db).table_create("t").run(conn)
    table_id = r.db(db).table("t").config()["id"].run(conn)
    db_id = r.db(db).config()["id"].run(conn)
    r.grant(user, {"read": True, "connect": False}).run(conn)
    r.db(db).grant(user, {"write": True}).run(conn)
    r.db(db).table("t").grant(user, {"config": False}).run(conn)
    rows = sorted(PERMISSIONS.filter({"user": user}).run(conn), key=lambda row: len(row["id"]))
    assert rows == [
        {"id": [user], "permissions": {"read": True, "connect": False}, "user": user},
        {"database": db, "id": [user, db_id], "permissions": {"write": True}, "user": user},
        {
            "database": db,
            "id": [user, db_id, table_id],
            "permissions": {"config": False},
            "table": "t",
            "user": user,
        },
    ]
    admin_rows = list(PERMISSIONS.filter({"user": "admin"}).run(conn))
    assert {"id": ["admin"], "permissions": {"read": True, "write": True, "config": True, "connect": True},
            "user": "admin"} in admin_rows
    # writing rows merges into the scope; deleting a row unsets the scope
    res = PERMISSIONS.get([user]).update({"permissions": {"write": True}}).run(conn)
    assert res["replaced"] == 1
    assert PERMISSIONS.get([user])["permissions"].run(conn) == {"read": True, "write": True, "connect": False}
    assert PERMISSIONS.filter({"user": user}).delete().run(conn)["deleted"] == 3
    assert list(PERMISSIONS.filter({"user": user}).run(conn)) == []
    res = PERMISSIONS.insert({"id": [user, db_id], "permissions": {"read": True}}).run(conn)
    assert res["inserted"] == 1
    assert r.db(db).grant(user, {}).run(conn)["permissions_changes"] == [
        {"new_val": {"read": True}, "old_val": {"read": True}}
    ]
    # unsetting every permission of a scope removes its row
    res = PERMISSIONS.get([user, db_id]).update({"permissions": {"read": None}}).run(conn)
    assert res["deleted"] == 1
    assert PERMISSIONS.get([user, db_id]).run(conn) is None
    res = PERMISSIONS.insert({"id": ["admin"], "permissions": {}}, conflict="replace").run(conn)
    assert res["first_error"] == "The permissions of the user `admin` can't be modified."
    res = PERMISSIONS.insert({"id": [user, db_id], "permissions": {"connect": True}}, conflict="update").run(conn)
    assert res["first_error"] == "The `connect` permission is only valid at the global scope."


def test_grant_errors(conn, db):
    with pytest.raises(ReqlOpFailedError, match="The permissions of the user `admin` can't be modified."):
        r.grant("admin", {"read": True}).run(conn)
    with pytest.raises(ReqlOpFailedError, match="not found"):
        r.grant("nobody_" + uuid.uuid4().hex[:6], {"read": True}).run(conn)


def test_grant_applies_to_open_connections_and_deleted_user_loses_everything(server, conn, db, user):
    r.db(db).table_create("t").run(conn)
    with connect_as(server, user) as c:
        with pytest.raises(ReqlPermissionError):
            r.db(db).table("t").count().run(c)
        r.db(db).grant(user, {"read": True}).run(conn)
        assert r.db(db).table("t").count().run(c) == 0
        r.db(db).grant(user, {"read": None}).run(conn)
        with pytest.raises(ReqlPermissionError):
            r.db(db).table("t").count().run(c)
        r.db(db).grant(user, {"read": True}).run(conn)
        assert USERS.get(user).delete().run(conn)["deleted"] == 1
        with pytest.raises(ReqlPermissionError):
            r.db(db).table("t").count().run(c)
    assert list(PERMISSIONS.filter({"user": user}).run(conn)) == []
    with pytest.raises(ReqlAuthError):
        connect_as(server, user)
    # the fixture deletes the user again: recreate it so that works
    USERS.insert({"id": user, "password": False}).run(conn)


@pytest.mark.parametrize("password", ["", "pw"])
def test_admin_document_from_an_older_directory_gets_its_password_flag(tmp_path, password):
    import orjson

    from reqlite.server.server import Server, _credentials_to_json
    from reqlite.storage import Store, layout
    from reqlite.wire import make_scram_credentials

    store = Store(str(tmp_path / "data"))
    try:
        legacy = orjson.dumps({"name": "admin", "password": _credentials_to_json(make_scram_credentials(password))})
        store.engine.write_blocking(lambda txn: txn.put(layout.user_key("admin"), legacy))
        Server(store)
        with store.read() as txn:
            doc = orjson.loads(txn.get(layout.user_key("admin")))
        assert doc["has_password"] is bool(password)
    finally:
        store.close()


def test_system_table_writes_need_write_there_and_config_for_the_change(server, conn, user):
    name = "s_" + uuid.uuid4().hex[:8]
    db_config = r.db("rethinkdb").table("db_config")
    try:
        with connect_as(server, user) as c:
            with pytest.raises(ReqlPermissionError) as exc:
                db_config.insert({"name": name}).run(c)
            assert exc.value.message == denied(user, "write")
            r.db("rethinkdb").table("db_config").grant(user, {"read": True, "write": True}).run(conn)
            with pytest.raises(ReqlPermissionError) as exc:
                db_config.insert({"name": name}).run(c)
            assert exc.value.message == denied(user, "config")
            r.grant(user, {"config": True}).run(conn)
            assert db_config.insert({"name": name}).run(c)["inserted"] == 1
            assert name in r.db_list().run(conn)
    finally:
        if name in r.db_list().run(conn):
            r.db_drop(name).run(conn)
