"""reqlite/wire/ql2.py, protocol/*.json and the official driver's ql2_pb2 agree."""

from __future__ import annotations

import json
import os
from enum import IntEnum
from typing import Any

import pytest
from rethinkdb import ql2_pb2

from reqlite.wire import ql2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTOCOL = os.path.join(ROOT, "protocol")


def load(name: str) -> Any:
    with open(os.path.join(PROTOCOL, name), encoding="utf-8") as f:
        return json.load(f)


def members(enum: type[IntEnum]) -> dict[str, int]:
    return {m.name: m.value for m in enum}


def driver_table(cls: type) -> dict[str, int]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


@pytest.mark.parametrize(
    ("filename", "enum"),
    [
        ("terms.json", ql2.TermType),
        ("query_types.json", ql2.QueryType),
        ("response_types.json", ql2.ResponseType),
        ("error_types.json", ql2.ErrorType),
        ("response_notes.json", ql2.ResponseNote),
        ("frame_types.json", ql2.FrameType),
        ("datum_types.json", ql2.DatumType),
    ],
)
def test_enum_equals_json_table(filename: str, enum: type[IntEnum]) -> None:
    assert members(enum) == load(filename)


def test_versions_json() -> None:
    versions = load("versions.json")
    assert versions == {"Version": members(ql2.Version), "Protocol": members(ql2.Protocol)}


def test_term_table_covers_the_driver() -> None:
    driver = driver_table(ql2_pb2.Term.TermType)
    ours = load("terms.json")
    assert len(driver) > 180
    for name, number in driver.items():
        assert ours.get(name) == number, name
    # The only addition is RethinkDB 2.4's FORMAT.
    assert set(ours) - set(driver) == {"FORMAT"}
    assert ours["FORMAT"] == ql2.TermType.FORMAT == 197


@pytest.mark.parametrize(
    ("enum", "driver_cls"),
    [
        (ql2.Version, ql2_pb2.VersionDummy.Version),
        (ql2.Protocol, ql2_pb2.VersionDummy.Protocol),
        (ql2.QueryType, ql2_pb2.Query.QueryType),
        (ql2.ResponseType, ql2_pb2.Response.ResponseType),
        (ql2.ErrorType, ql2_pb2.Response.ErrorType),
        (ql2.ResponseNote, ql2_pb2.Response.ResponseNote),
        (ql2.FrameType, ql2_pb2.Frame.FrameType),
        (ql2.DatumType, ql2_pb2.Datum.DatumType),
    ],
)
def test_enum_equals_driver(enum: type[IntEnum], driver_cls: type) -> None:
    assert members(enum) == driver_table(driver_cls)


def test_v1_0_magic_bytes() -> None:
    assert ql2.Version.V1_0.to_bytes(4, "little") == bytes.fromhex("c3bdc234")


def test_handshake_errors_table_matches_module() -> None:
    from reqlite.wire import handshake, scram

    table = {e["code"]: e["message"] for e in load("handshake_errors.json")["errors"]}
    from_module = {}
    for mod in (handshake, scram):
        for name, value in vars(mod).items():
            if (
                name.startswith("_")
                and isinstance(value, tuple)
                and len(value) == 2
                and isinstance(value[0], int)
                and isinstance(value[1], str)
            ):
                from_module[value[0]] = value[1]
    assert from_module == table
