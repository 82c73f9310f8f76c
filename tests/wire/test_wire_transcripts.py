"""Golden transcripts in protocol/transcripts/: up to date, and replayed byte for byte."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from wire_transcripts import TRANSCRIPT_DIR, build_all

from reqlite.wire import (
    NEED_DATA,
    BadQuery,
    ProtocolError,
    ServerConnection,
    encode_response,
    make_scram_credentials,
)

FILES = sorted(f for f in os.listdir(TRANSCRIPT_DIR) if f.endswith(".json"))


def load(name: str) -> dict[str, Any]:
    with open(os.path.join(TRANSCRIPT_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def conn_for(t: dict[str, Any]) -> ServerConnection:
    fixture = t["fixture"]
    creds = {}
    for name, user in fixture.get("users", {}).items():
        salt = base64.b64decode(user.get("salt", "W22ZaJ0SNY7soEsUEjb6gQ=="))
        creds[name] = make_scram_credentials(
            user["password"], salt=salt, iterations=user.get("iterations", 4096)
        )
    if not fixture.get("users"):
        creds["admin"] = make_scram_credentials("")
    server_nonce = fixture.get("server_nonce", "x")
    decoy = base64.b64decode(fixture.get("unknown_user_salt", "AAAAAAAAAAAAAAAAAAAAAA=="))
    return ServerConnection(
        creds.get,
        server_version=fixture.get("server_version", "2.4.4"),
        nonce_factory=lambda: server_nonce,
        salt_factory=lambda: decoy,
    )


def event_json(ev: Any) -> dict[str, Any]:
    return {"type": type(ev).__name__, **{k: getattr(ev, k) for k in ev.__slots__}}


def replay(t: dict[str, Any], byte_at_a_time: bool) -> None:
    conn = conn_for(t)
    steps = t["steps"]
    error: str | None = None
    i = 0
    while i < len(steps):
        s = steps[i]
        assert s["from"] == "client", f"step {i}: server bytes with no client step before"
        data = bytes.fromhex(s["hex"])
        chunks = [data[j : j + 1] for j in range(len(data))] if byte_at_a_time else [data]
        events = []
        for chunk in chunks:
            conn.receive_data(chunk)
            while True:
                try:
                    ev = conn.next_event()
                except ProtocolError as exc:
                    error = exc.message
                    break
                if ev is NEED_DATA:
                    break
                events.append(ev)
            if error is not None:
                break
        assert [event_json(e) for e in events] == s["events"], f"step {i}: {s['comment']}"
        produced = conn.data_to_send()
        i += 1
        expected_from_connection = b""
        while i < len(steps) and steps[i]["from"] == "server":
            server_step = steps[i]
            wire = bytes.fromhex(server_step["hex"])
            if server_step["by"] == "connection":
                expected_from_connection += wire
            else:
                # A response built by the query layer: it must be a well-formed frame,
                # and for invalid queries exactly what BadQuery.response() gives.
                token = int.from_bytes(wire[:8], "little", signed=True)
                body = wire[12:]
                assert int.from_bytes(wire[8:12], "little") == len(body)
                assert encode_response(token, body) == wire
                json.loads(body)
                bad = [e for e in events if isinstance(e, BadQuery)]
                if bad:
                    assert bad[0].response() == wire
            i += 1
        assert produced == expected_from_connection, f"server bytes after step {s['comment']}"
    result = t["result"]
    assert conn.state.value == result["state"]
    assert error == result.get("protocol_error")
    assert conn.username == result.get("username")


def test_transcripts_are_up_to_date() -> None:
    """The committed files equal what the generator (driver bytes + reqlite) makes now."""
    generated = build_all()
    assert sorted(generated) == FILES
    for name, text in generated.items():
        with open(os.path.join(TRANSCRIPT_DIR, name), encoding="utf-8") as f:
            assert f.read() == text, f"{name} is stale: run tests/wire/wire_transcripts.py"


def test_required_transcripts_exist() -> None:
    for name in [
        "v1_0_success_empty_admin_password.json",
        "v1_0_wrong_password.json",
        "bad_magic.json",
        "v0_4_success.json",
        "v1_0_start_query.json",
        "v1_0_continue_stop.json",
    ]:
        assert name in FILES


@pytest.mark.parametrize("name", FILES)
def test_replay_whole(name: str) -> None:
    replay(load(name), byte_at_a_time=False)


@pytest.mark.parametrize("name", FILES)
def test_replay_one_byte_at_a_time(name: str) -> None:
    replay(load(name), byte_at_a_time=True)


def test_rfc7677_values_in_transcript() -> None:
    t = load("v1_0_rfc7677_vector.json")
    texts = [s["text"] for s in t["steps"]]
    assert any("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=" in x for x in texts)
    assert any("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" in x for x in texts)
    assert t["result"]["driver_outcome"] == "connected"
