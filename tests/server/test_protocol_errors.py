"""Bad input over a real socket: a clear error for the offender, no effect on anyone else."""

from __future__ import annotations

import struct
import time

import pytest
from rethinkdb import r
from rethinkdb.errors import ReqlDriverError

from rawwire import handshake, raw_connect, read_response, read_until_nul, send_query

V1_0 = 0x34C2BDC3


def assert_other_connection_fine(conn) -> None:
    t0 = time.perf_counter()
    assert r.expr([1, 2, 3]).count().run(conn) == 3
    assert time.perf_counter() - t0 < 1.0


def test_bad_magic_gets_rethinkdb_error_then_close(server, conn):
    s = raw_connect(server.port)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    data = read_until_nul(s)
    assert data.startswith(b"ERROR: Received an unsupported protocol version.")
    assert s.recv(100) == b""
    assert_other_connection_fine(conn)


def test_wrong_password_is_an_auth_error(server):
    from rethinkdb.errors import ReqlAuthError

    with pytest.raises(ReqlAuthError, match="Wrong password"):
        r.connect("127.0.0.1", server.port, password="not-the-password")


def test_invalid_json_gets_client_error_and_connection_survives(server, conn):
    s = handshake(server.port)
    send_query(s, 7, b"[1, [1, 2")
    token, resp = read_response(s)
    assert token == 7 and resp["t"] == 16
    assert "failed to deserialize query" in resp["r"][0]
    send_query(s, 8, b"[1, [24, [1, 2]], {}]")
    token, resp = read_response(s)
    assert token == 8 and resp == {"t": 1, "r": [3]}
    assert_other_connection_fine(conn)
    s.close()


def test_unknown_query_type_gets_client_error(server, conn):
    s = handshake(server.port)
    send_query(s, 3, b"[99]")
    token, resp = read_response(s)
    assert token == 3 and resp["t"] == 16 and "Unrecognized QueryType" in resp["r"][0]
    assert_other_connection_fine(conn)
    s.close()


def test_continue_with_unknown_token_gets_client_error(server, conn):
    s = handshake(server.port)
    send_query(s, 42, b"[2]")
    token, resp = read_response(s)
    assert token == 42 and resp["t"] == 16
    send_query(s, 43, b"[1, [24, [1, 2]], {}]")
    assert read_response(s) == (43, {"t": 1, "r": [3]})
    s.close()


def test_huge_declared_length_is_refused_without_buffering(server, conn):
    s = handshake(server.port)
    s.sendall(struct.pack("<QL", 5, 1 << 30))  # declares 1 GiB, sends nothing more
    token, resp = read_response(s)
    assert token == 5 and resp["t"] == 16 and "greater than maximum" in resp["r"][0]
    assert s.recv(100) == b""  # closed, as RethinkDB does
    assert_other_connection_fine(conn)


def test_truncated_frame_only_stalls_its_own_connection(server, conn):
    s = handshake(server.port)
    payload = b"[1, [24, [1, 2]], {}]"
    s.sendall(struct.pack("<QL", 9, len(payload)) + payload[:5])  # the rest never comes
    assert_other_connection_fine(conn)
    s.close()
    assert_other_connection_fine(conn)


def test_unknown_term_is_a_compile_error_naming_it(server, conn):
    s = handshake(server.port)
    send_query(s, 11, b"[1, [9999, []], {}]")
    token, resp = read_response(s)
    assert token == 11 and resp["t"] == 17 and "9999" in resp["r"][0]
    s.close()


def test_half_handshake_then_garbage(server, conn):
    s = raw_connect(server.port)
    s.sendall(struct.pack("<L", V1_0) + b'{"protocol_version": 0, "authentication_method": "SCRAM-SHA-256", "authentication": "garbage"}\0')
    data = read_until_nul(s)
    assert b'"success":false' in data or b"ERROR" in data
    assert_other_connection_fine(conn)
    s.close()


def test_driver_error_on_closed_socket_does_not_hurt_server(server, conn):
    c = r.connect("127.0.0.1", server.port)
    c._instance._socket._socket.close()
    with pytest.raises(ReqlDriverError):
        r.expr(1).run(c)
    assert_other_connection_fine(conn)
