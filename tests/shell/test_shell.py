"""``reqlite query`` and ``reqlite shell``, driven non-interactively."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from reqlite import cli
from reqlite.shell.repl import Repl, _make_completer
from reqlite.shell.session import Session, connect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def reqlite_cmd(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reqlite", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=60,
    )


@pytest.fixture
def data_dir(tmp_path) -> str:
    return str(tmp_path / "data")


@pytest.fixture
def session(data_dir):
    out, err = io.StringIO(), io.StringIO()
    conn = connect(directory=data_dir)
    s = Session(conn, out=out, err=err)
    yield s
    conn.close()


# -- reqlite query ---------------------------------------------------------------------------


def test_query_command_end_to_end(data_dir) -> None:
    done = reqlite_cmd("query", "r.db_list()", "-d", data_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["rethinkdb", "test"]
    failed = reqlite_cmd("query", "r.expr(1) + 'a'", "-d", data_dir)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.splitlines() == [
        "ReqlQueryLogicError: Expected type NUMBER but found STRING in:",
        "r.expr(1) + 'a'",
        "^^^^^^^^^^^^^^^",
    ]


def test_query_against_a_running_server(server, capsys) -> None:
    port = str(server.port)
    assert cli.main(["query", "r.expr([1, {'a': 2}])", "--port", port, "--format", "json"]) == 0
    assert capsys.readouterr().out == '[1,{"a":2}]\n'
    assert cli.main(["query", "r.range(3)", "--port", port, "--format", "lines"]) == 0
    assert capsys.readouterr().out == "0\n1\n2\n"
    assert cli.main(["query", "r.range(2)", "--port", port, "--format", "json"]) == 0
    assert capsys.readouterr().out == "[0,1]\n"
    assert cli.main(["query", "r.table('nope').run(db='test')", "--port", port]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ReqlOpFailedError: Table `test.nope` does not exist in:\nr.table('nope')")


def test_password_file(server, tmp_path, capsys) -> None:
    pw = tmp_path / "pw"
    pw.write_text("wrong\n")
    assert cli.main(["query", "r.expr(1)", "--port", str(server.port), "--password-file", str(pw)]) == 1
    assert "Wrong password" in capsys.readouterr().err
    pw.write_text("\n")  # the admin password of the test server is empty
    assert cli.main(["query", "r.expr(1)", "--port", str(server.port), "--password-file", str(pw)]) == 0
    assert cli.main(["query", "r.expr(1)", "--password-file", str(tmp_path / "none")]) == 1
    assert "cannot read the password file" in capsys.readouterr().err


def test_query_caret_under_the_failing_term(data_dir, capsys) -> None:
    text = "r.expr([1, 2, 3]).map(lambda x: x + 'a')"
    assert cli.main(["query", text, "-d", data_dir]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "ReqlQueryLogicError: Expected type NUMBER but found STRING in:"
    assert lines[1] == text
    assert lines[2] == " " * text.index("x + 'a'") + "^" * len("x + 'a'")


def test_noreply_query_is_applied_before_exit(data_dir, capsys) -> None:
    assert cli.main(["query", "r.table_create('t')", "-d", data_dir, "--format", "json"]) == 0
    text = "r.table('t').insert(r.range(500).map(lambda i: {'id': i})).run(noreply=True)"
    assert cli.main(["query", text, "-d", data_dir]) == 0
    capsys.readouterr()
    assert cli.main(["query", "r.table('t').count()", "-d", data_dir]) == 0
    assert capsys.readouterr().out == "500\n"


def test_query_syntax_error_needs_no_connection(capsys) -> None:
    assert cli.main(["query", "r.table('t').filter(", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["SyntaxError: unexpected end of input", "r.table('t').filter(", " " * 20 + "^"]


def test_query_from_stdin(data_dir, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("r.expr(1)\n  .add(41)\n"))
    assert cli.main(["query", "-", "-d", data_dir]) == 0
    assert capsys.readouterr().out == "42\n"


def test_query_on_a_directory_a_server_holds(server, capsys) -> None:
    assert cli.main(["query", "r.expr(1)", "-d", server.data_dir]) == 1
    assert "is in use by another reqlite process" in capsys.readouterr().err


def test_connection_refused(capsys) -> None:
    assert cli.main(["query", "r.expr(1)", "--port", "1", "--timeout", "2"]) == 1
    assert "reqlite: error: Could not connect" in capsys.readouterr().err


# -- reqlite shell, piped ------------------------------------------------------------------------


def test_shell_piped_end_to_end(data_dir) -> None:
    script = "\n".join([
        "r.table_create('people')['tables_created']",
        "r.table('people').insert([",
        "  {'id': 1, 'name': 'ann'},",
        "  {'id': 2, 'name': 'bob'},",
        "])['inserted']",
        "",
        "r.table('people').order_by('id')['name']",
        "r.table('people').get(1)['age'] + 1",
        "r.table('people').fitler(1)",
        "exit",
        "r.expr('never run')",
    ]) + "\n"
    done = reqlite_cmd("shell", "-d", data_dir, stdin=script)
    assert done.returncode == 1  # some queries failed
    assert done.stdout == '1\n2\n[\n  "ann",\n  "bob"\n]\n'
    assert done.stderr.splitlines() == [
        "ReqlNonExistenceError: No attribute `age` in object:",
        "{",
        '\t"id":\t1,',
        '\t"name":\t"ann"',
        "} in:",
        "r.table('people').get(1)['age'] + 1",
        "^" * len("r.table('people').get(1)['age']"),
        "AttributeError: 'Table' object has no attribute 'fitler' (did you mean filter?)",
        "r.table('people').fitler(1)",
        "                  ^^^^^^",
    ]


def test_repl_lines_commands_and_exit_status(session) -> None:
    out = io.StringIO()
    repl = Repl(session, out=out)
    status = repl.run_lines(["help\n", "r.db_create('shop')['dbs_created']\n", "use shop\n",
                             "r.table_create('items')['tables_created']\n", "r.table_list()\n"])
    assert status == 0
    assert "Shell commands" in out.getvalue() and "default database: shop" in out.getvalue()
    assert session.out.getvalue() == '1\n1\n[\n  "items"\n]\n'
    assert Repl(session).run_lines(["r.expr(1) +\n"]) == 1  # ends while incomplete: reported
    assert "unexpected end of input" in session.err.getvalue()


# -- output -----------------------------------------------------------------------------------------


def test_cursor_output_formats(session) -> None:
    assert session.run_text("r.range(3).map(lambda i: {'i': i})")
    assert session.out.getvalue() == '[\n  {\n    "i": 0\n  },\n  {\n    "i": 1\n  },\n  {\n    "i": 2\n  }\n]\n'
    for fmt, expected in (("json", '[{"i":0},{"i":1}]\n'), ("lines", '{"i":0}\n{"i":1}\n')):
        session.out = io.StringIO()
        session.fmt = fmt
        assert session.run_text("r.range(2).map(lambda i: {'i': i})")
        assert session.out.getvalue() == expected
    session.out = io.StringIO()
    assert session.run_text("r.range(0)")
    assert session.out.getvalue() == ""  # no lines
    session.fmt = "pretty"
    assert session.run_text("r.range(0)")
    assert session.out.getvalue() == "[]\n"


def test_pseudo_types_print_as_json(session) -> None:
    session.fmt = "json"
    assert session.run_text("r.epoch_time(0)")
    assert json.loads(session.out.getvalue()) == {"$reql_type$": "TIME", "epoch_time": 0, "timezone": "+00:00"}
    session.out = io.StringIO()
    assert session.run_text("r.binary(b'ab')")
    assert json.loads(session.out.getvalue()) == {"$reql_type$": "BINARY", "data": "YWI="}
    session.out = io.StringIO()
    assert session.run_text("r.expr([1, 2, 1]).group(lambda x: x).count()")
    assert json.loads(session.out.getvalue()) == {"$reql_type$": "GROUPED_DATA", "data": [[1, 2], [2, 1]]}


def test_noreply_and_run_options(session) -> None:
    assert session.run_text("r.table_create('t')")
    session.out = io.StringIO()
    assert session.run_text("r.table('t').insert({'id': 1}).run(noreply=True)")
    assert session.out.getvalue() == ""
    session.conn.noreply_wait()
    assert session.run_text("r.table('t').count().run(db='test', durability='soft')")
    assert session.out.getvalue() == "1\n"
    assert not session.run_text("r.expr(1).run(nope=1)")
    assert "Unrecognized global optional argument `nope`" in session.err.getvalue()


def test_error_caret_in_an_optarg_and_across_lines(session) -> None:
    text = "r.expr([1, 2])\n  .map(\n     lambda x: x.add('s'))"
    assert not session.run_text(text)
    assert session.err.getvalue().splitlines() == [
        "ReqlQueryLogicError: Expected type NUMBER but found STRING in:",
        "r.expr([1, 2])",
        "  .map(",
        "     lambda x: x.add('s'))",
        "               ^^^^^^^^^^",
    ]
    session.err = io.StringIO()
    assert not session.run_text("r.expr([3, 1]).order_by(r.desc(lambda x: x['a']))")
    lines = session.err.getvalue().splitlines()
    assert lines[0].startswith("ReqlQueryLogicError: Cannot perform bracket on a non-object non-sequence `")
    assert lines[-1] == " " * len("r.expr([3, 1]).order_by(r.desc(lambda x: ") + "^" * len("x['a']")


# -- the interactive REPL (prompt-toolkit on a pipe) ----------------------------------------------


def test_interactive_repl_multiline_history_and_exit(session, tmp_path) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    history = str(tmp_path / "history")
    with create_pipe_input() as inp:
        # Enter on an unfinished query adds a line; on a finished one runs it.
        inp.send_text("r.expr(1) +\r  2\r")
        inp.send_text("\r")  # an empty line does nothing
        inp.send_text("r.expr(\r[5])\r")
        inp.send_text("\x04")  # Ctrl-D leaves
        status = Repl(session).run_interactive(history, input=inp, output=DummyOutput())
    assert status == 0
    assert session.out.getvalue() == "3\n[\n  5\n]\n"
    with open(history) as f:
        saved = f.read()
    assert "+r.expr(1) +\n+  2\n" in saved and "+r.expr(\n+[5])\n" in saved


def test_interactive_repl_exit_command(session) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    with create_pipe_input() as inp:
        inp.send_text("r.expr('a')\rexit\rr.expr('b')\r")
        Repl(session).run_interactive(None, input=inp, output=DummyOutput())
    assert session.out.getvalue() == '"a"\n'


def test_completer() -> None:
    from prompt_toolkit.document import Document

    completer = _make_completer()

    def names(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert names("r.table('users').get_") == ["get_all", "get_field", "get_intersecting", "get_nearest", "get_write_hook"]
    assert names("r.tab") == ["table", "table_create", "table_drop", "table_list"]
    assert "table_create" in names("r.db('x').t")
    assert names("r.expr(1).get_") == ["get_field"]
    assert names("r.expr(1) ") == []
