"""Writes through the official driver: result objects, changes, errors, conflict
resolution, non-atomic checks, durability, write hooks and for_each.

These go beyond the polyglot files (mutation/*.yaml): exact shapes of ``changes`` for
every outcome, ordering, error entries, and the write-hook contract.
"""

from __future__ import annotations

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlOpFailedError, ReqlQueryLogicError

ZERO = {"deleted": 0, "errors": 0, "inserted": 0, "replaced": 0, "skipped": 0, "unchanged": 0}


def stats(**kw):
    return {**ZERO, **kw}


@pytest.fixture
def tbl(conn, db):
    r.db(db).table_create("w").run(conn)
    return r.db(db).table("w")


def test_changes_for_every_outcome_with_always(conn, tbl):
    tbl.insert([{"id": 1, "v": 1}, {"id": 2, "v": 2}]).run(conn)
    res = tbl.insert(
        [{"id": 1, "v": 1}, {"id": 2, "v": 20}, {"id": 3}],
        conflict="replace",
        return_changes="always",
    ).run(conn)
    assert res == stats(
        unchanged=1,
        replaced=1,
        inserted=1,
        changes=[
            {"new_val": {"id": 1, "v": 1}, "old_val": {"id": 1, "v": 1}},
            {"new_val": {"id": 2, "v": 20}, "old_val": {"id": 2, "v": 2}},
            {"new_val": {"id": 3}, "old_val": None},
        ],
    )
    res = tbl.get(99).delete(return_changes="always").run(conn)
    assert res == stats(skipped=1, changes=[{"new_val": None, "old_val": None}])


def test_return_changes_true_reports_only_real_changes(conn, tbl):
    tbl.insert({"id": 1}).run(conn)
    res = tbl.insert([{"id": 1}, {"id": 2}], return_changes=True).run(conn)
    assert res["changes"] == [{"new_val": {"id": 2}, "old_val": None}]
    assert res["errors"] == 1 and res["first_error"].startswith("Duplicate primary key `id`:")
    res = tbl.get(1).update({}, return_changes=True).run(conn)
    assert res == stats(unchanged=1, changes=[])


def test_error_entries_keep_input_order(conn, tbl):
    tbl.insert({"id": 5, "x": 1}).run(conn)
    res = tbl.insert(
        [7, {"id": 5}, {"id": {"a": 1}}, {"id": 6}, {"id": None}], return_changes="always"
    ).run(conn)
    assert res["inserted"] == 1 and res["errors"] == 4
    assert res["first_error"] == "Inserted value must be an OBJECT (got NUMBER):\n7"
    ch = res["changes"]
    assert [c.get("error", "").split(" ")[0] for c in ch] == ["Inserted", "Duplicate", "Primary", "", "Primary"]
    # A failed write reports the untouched document as both old and new value.
    assert ch[1]["old_val"] == ch[1]["new_val"] == {"id": 5, "x": 1}
    assert ch[2]["error"] == (
        "Primary keys must be either a number, string, bool, pseudotype or array (got type OBJECT):\n"
        '{\n\t"a":\t1\n}'
    )
    assert ch[4]["error"].endswith("(got type NULL):\nnull")
    assert ch[3] == {"new_val": {"id": 6}, "old_val": None}


def test_primary_key_too_long_and_generated_keys(conn, db):
    r.db(db).table_create("pk", primary_key="k").run(conn)
    t = r.db(db).table("pk")
    res = t.insert([{"k": "a" * 127}, {"k": "b" * 128}, {"v": 1}]).run(conn)
    assert res["inserted"] == 2 and res["errors"] == 1
    assert res["first_error"].startswith('Primary key too long (max 127 characters): "bbb')
    assert len(res["generated_keys"]) == 1
    assert t.get(res["generated_keys"][0]).run(conn) == {"k": res["generated_keys"][0], "v": 1}


def test_conflict_resolution(conn, tbl):
    tbl.insert({"id": 1, "a": 1, "b": {"c": 1}}).run(conn)
    assert tbl.insert({"id": 1, "b": {"d": 2}}, conflict="update").run(conn) == stats(replaced=1)
    assert tbl.get(1).run(conn) == {"id": 1, "a": 1, "b": {"c": 1, "d": 2}}
    res = tbl.insert({"id": 1, "n": 5}, conflict=lambda k, old, new: old.merge({"n": old["a"] + new["n"], "k": k}))
    assert res.run(conn) == stats(replaced=1)
    assert tbl.get(1)["n"].run(conn) == 6 and tbl.get(1)["k"].run(conn) == 1
    # A conflict function returning null deletes the document.
    assert tbl.insert({"id": 1}, conflict=lambda k, o, n: None).run(conn) == stats(deleted=1)
    # Changing the primary key from a conflict function is an error.
    tbl.insert({"id": 2}).run(conn)
    res = tbl.insert({"id": 2}, conflict=lambda k, o, n: {"id": 3}).run(conn)
    assert res["errors"] == 1 and res["first_error"].startswith("Primary key `id` cannot be changed")
    with pytest.raises(ReqlQueryLogicError, match="must be deterministic"):
        tbl.insert({"id": 2}, conflict=lambda k, o, n: r.table("w").get(2)).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="should expect 3 arguments"):
        tbl.insert({"id": 2}, conflict=lambda k, o: o).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Conflict option `nope` unrecognized"):
        tbl.insert({"id": 2}, conflict="nope").run(conn)


def test_update_replace_delete_forms(conn, tbl):
    tbl.insert([{"id": i, "n": i, "o": {"x": 1, "y": 2}} for i in range(5)]).run(conn)
    assert tbl.update({"o": {"y": r.literal()}}).run(conn) == stats(replaced=5)
    assert tbl.get(0)["o"].run(conn) == {"x": 1}
    assert tbl.filter(r.row["n"] > 2).update(lambda d: {"n": d["n"] * 10}).run(conn) == stats(replaced=2)
    assert tbl.get(4)["n"].run(conn) == 40
    assert tbl.get(1).update(lambda d: None).run(conn) == stats(unchanged=1)
    assert tbl.get(42).update({"n": 1}).run(conn) == stats(skipped=1)
    assert tbl.get(1).replace(lambda d: d.without("o")).run(conn) == stats(replaced=1)
    assert tbl.get(1).run(conn) == {"id": 1, "n": 1}
    res = tbl.get("nope").replace({"id": "other"}).run(conn)
    assert res["first_error"] == 'Primary key `id` cannot be changed (null -> {\n\t"id":\t"other"\n})'
    res = tbl.get(1).update({"id": 9}).run(conn)
    assert res["first_error"].startswith("Primary key `id` cannot be changed (`{")
    res = tbl.update(lambda d: d["missing"]).run(conn)
    assert res["errors"] == 5 and res["first_error"].startswith("No attribute `missing` in object:")
    res = tbl.get(1).update(5).run(conn)
    assert res["first_error"] == "Inserted value must be an OBJECT (got NUMBER):\n5"
    assert tbl.between(0, 2).delete(return_changes=True).run(conn)["deleted"] == 2
    with pytest.raises(ReqlQueryLogicError, match="Expected type SELECTION but found DATUM"):
        r.expr([1, 2]).delete().run(conn)
    with pytest.raises(ReqlQueryLogicError, match="obsolete optarg `return_vals`"):
        tbl.get(1).update({}, return_vals=True).run(conn)


def test_non_atomic_checks(conn, db, tbl):
    tbl.insert([{"id": 1, "n": 1}, {"id": 2, "n": 2}]).run(conn)
    msg = "Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?"
    for q in (
        tbl.get(1).update({"n": tbl.get(2)["n"]}),
        tbl.get(1).update(lambda d: {"n": r.db(db).table("w").count()}),
        tbl.get(1).replace(lambda d: d.merge({"r": r.random()})),
        tbl.update({"u": r.uuid()}),
    ):
        with pytest.raises(ReqlQueryLogicError) as exc:
            q.run(conn)
        assert exc.value.message == msg
    assert tbl.get(1).update({"n": tbl.get(2)["n"]}, non_atomic=True).run(conn) == stats(replaced=1)
    assert tbl.get(1)["n"].run(conn) == 2
    # Deterministic functions, and values closed over, are fine.
    assert r.expr(7).do(lambda v: tbl.get(1).update({"n": v})).run(conn) == stats(replaced=1)


def test_durability_options(conn, db, tbl):
    assert tbl.insert({"id": 1}, durability="soft").run(conn) == stats(inserted=1)
    assert tbl.insert({"id": 2}).run(conn, durability="soft") == stats(inserted=1)
    with pytest.raises(ReqlQueryLogicError, match="Durability option `x` unrecognized"):
        tbl.insert({"id": 3}, durability="x").run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Durability option `y` unrecognized"):
        tbl.insert({"id": 3}).run(conn, durability="y")
    r.db(db).table_create("soft", durability="soft").run(conn)
    assert r.db(db).table("soft").config()["durability"].run(conn) == "soft"
    assert r.db(db).table("soft").insert({"id": 1}).run(conn) == stats(inserted=1)
    assert tbl.sync().run(conn) == {"synced": 1}


def test_noreply_writes_and_noreply_wait(conn, tbl):
    for i in range(50):
        tbl.insert({"id": i}).run(conn, noreply=True)
    conn.noreply_wait()
    assert tbl.count().run(conn) == 50


def test_minval_maxval_and_huge_arrays_are_not_written(conn, tbl):
    res = tbl.insert([{"id": 1, "v": r.minval}, {"id": 2, "v": [r.maxval]}], return_changes="always").run(conn)
    assert res["errors"] == 2
    assert res["changes"][0] == {
        "error": "`r.minval` and `r.maxval` cannot be written to disk.",
        "new_val": None,
        "old_val": None,
    }
    big = list(range(100_001))
    res = tbl.insert({"id": 3, "a": big}).run(conn, array_limit=200_000)
    assert res["first_error"] == "Array too large for disk writes (limit 100,000 elements)."
    assert tbl.count().run(conn) == 0


def test_for_each_merges_results(conn, db, tbl):
    res = r.expr([1, 2, 3]).for_each(lambda i: tbl.insert({"id": i})).run(conn)
    assert res == stats(inserted=3)
    res = tbl.for_each(lambda d: [tbl.get(d["id"]).update({"x": 1}), tbl.get(d["id"]).delete()]).run(conn)
    assert res == stats(replaced=3, deleted=3)
    res = r.expr(["a", "b"]).for_each(lambda n: r.db(db).table_create(n)).run(conn)
    assert res["tables_created"] == 2 and len(res["config_changes"]) == 2
    with pytest.raises(ReqlQueryLogicError, match="FOR_EACH expects one or more basic write queries."):
        r.expr([1]).for_each(lambda i: i).run(conn)
    assert r.expr([]).for_each(lambda i: tbl.insert({})).run(conn) == {}


def test_write_hook_contract(conn, tbl):
    assert tbl.get_write_hook().run(conn) is None
    assert tbl.set_write_hook(None).run(conn) == {"deleted": 1}
    hook = lambda ctx, old, new: r.branch(  # noqa: E731
        new.eq(None), None, new.merge({"pk": ctx["primary_key"], "had_old": old.ne(None), "ts": ctx["timestamp"]})
    )
    assert tbl.set_write_hook(hook).run(conn) == {"created": 1}
    assert tbl.set_write_hook(hook).run(conn) == {"replaced": 1}
    tbl.insert({"id": "a"}).run(conn)
    doc = tbl.get("a").run(conn)
    assert doc["pk"] == "a" and doc["had_old"] is False and doc["ts"].__class__.__name__ == "datetime"
    tbl.get("a").update({"v": 1}).run(conn)
    assert tbl.get("a")["had_old"].run(conn) is True
    # ignore_write_hook skips it
    tbl.insert({"id": "b"}, ignore_write_hook=True).run(conn)
    assert tbl.get("b").run(conn) == {"id": "b"}
    # get_write_hook gives a blob set_write_hook accepts back, and the hook's source
    got = tbl.get_write_hook().run(conn)
    assert set(got) == {"function", "query"} and got["query"].startswith("setWriteHook(function(")
    assert tbl.config()["write_hook"].run(conn) == got
    assert tbl.set_write_hook(got["function"]).run(conn) == {"replaced": 1}
    with pytest.raises(ReqlQueryLogicError, match="Cannot create a write hook except from"):
        tbl.set_write_hook(r.binary(b"nope")).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Write hook functions must expect 3 arguments."):
        tbl.set_write_hook(lambda a, b: a).run(conn)
    with pytest.raises(ReqlQueryLogicError, match="Could not prove function deterministic."):
        tbl.set_write_hook(lambda c, o, n: tbl.get(1)).run(conn)
    # errors inside the hook and forbidden transformations are per-document errors
    tbl.set_write_hook(lambda c, o, n: r.error("boom")).run(conn)
    assert tbl.insert({"id": "c"}).run(conn)["first_error"] == "Error in write hook: boom"
    tbl.set_write_hook(lambda c, o, n: None).run(conn)
    res = tbl.get("a").update({"v": 2}).run(conn)
    assert res["first_error"] == "A write hook function must not turn a replace/insert into a deletion."
    tbl.set_write_hook(lambda c, o, n: {"id": "a"}).run(conn)
    res = tbl.get("a").delete().run(conn)
    assert res["first_error"] == "A write hook function must not turn a deletion into a replace/insert."
    assert tbl.set_write_hook(None).run(conn) == {"deleted": 1}
    assert tbl.get("a").delete().run(conn) == stats(deleted=1)


def test_write_hook_captures_outer_values(conn, tbl):
    r.expr(41).do(lambda v: tbl.set_write_hook(lambda c, o, n: n.merge({"v": v + 1}))).run(conn)
    tbl.insert({"id": 1}).run(conn)
    assert tbl.get(1).run(conn) == {"id": 1, "v": 42}


def test_writes_to_missing_table(conn, db):
    with pytest.raises(ReqlOpFailedError, match=f"Table `{db}.nope` does not exist."):
        r.db(db).table("nope").insert({}).run(conn)
