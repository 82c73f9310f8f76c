"""rethinkdb.jobs: running queries are listed, and deleting one kills it."""

from __future__ import annotations

import threading
import time

from rethinkdb import r
from rethinkdb.errors import ReqlOpFailedError


def test_running_query_is_listed_and_can_be_killed(server, conn):
    errors: list[Exception] = []

    def long_query() -> None:
        c = r.connect("127.0.0.1", server.port)
        try:
            r.range(10**12).count().run(c)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        c.close()

    th = threading.Thread(target=long_query)
    th.start()
    time.sleep(0.3)
    jobs = list(r.db("rethinkdb").table("jobs").filter({"type": "query"}).run(conn))
    runaway = [j for j in jobs if "1000000000000" in j["info"]["query"]]
    assert len(runaway) == 1
    job = runaway[0]
    assert job["id"][0] == "query" and job["duration_sec"] > 0.1
    assert job["info"]["client_address"] == "127.0.0.1" and job["info"]["user"] == "admin"
    res = r.db("rethinkdb").table("jobs").get(job["id"]).delete().run(conn)
    assert res["deleted"] == 1
    th.join(5)
    assert not th.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ReqlOpFailedError)
    assert "interrupted" in str(errors[0])
    # the listing query sees itself too
    mine = list(r.db("rethinkdb").table("jobs").run(conn))
    assert any("jobs" in j["info"]["query"] for j in mine)


def test_jobs_rows_are_not_writable(conn):
    res = r.db("rethinkdb").table("jobs").insert({"id": ["query", "x"]}).run(conn)
    assert res["errors"] == 1 and "illegal to write" in res["first_error"]
