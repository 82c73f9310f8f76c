"""SCRAM-SHA-256 for the V1_0 handshake, and the V0_4 plaintext auth-key check.

RethinkDB authenticates V1_0 clients with SCRAM-SHA-256 (RFC 5802, RFC 7677), with
its own error reporting instead of the ``e=`` attribute: each failure becomes a
``{"error": ..., "error_code": N, "success": false}`` handshake reply. This module
is a sans-IO re-implementation of RethinkDB 2.4's ``scram_authenticator_t``
(src/clustering/administration/auth/scram_authenticator.cc): the same validation
order, error codes (10-20) and messages, and the same decoy answer for unknown
users (a random salt, reported as error 17 only after the client's proof).

Why not ``scramp.ScramServer``: its server object does fit a sans-IO exchange, but
it validates in a different order with its own error texts (which we must replace
by RethinkDB's literal ones), it rejects iteration counts below 4096 (RethinkDB
stores whatever count the user was created with), and it reports unknown users at
the first message. So scramp supplies the cryptographic primitives (PBKDF2 ``hi``,
``hmac``, ``h``, ``xor``, ``saslprep``) and this module supplies RethinkDB's
message handling around them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as _hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from scramp.utils import ScramException, h, hi, hmac, saslprep, xor

__all__ = [
    "ScramCredentials",
    "make_scram_credentials",
    "AuthenticationError",
    "ScramExchange",
    "verify_plaintext_password",
    "default_nonce_factory",
    "default_salt_factory",
    "DEFAULT_ITERATIONS",
    "SALT_LENGTH",
]

_HF: Final = hashlib.sha256
# RethinkDB's password_t: 16 random salt bytes, 4096 PBKDF2 iterations by default
# (src/clustering/administration/auth/password.hpp).
DEFAULT_ITERATIONS: Final = 4096
SALT_LENGTH: Final = 16
# scram_authenticator_t appends 18 random bytes, base64-encoded, to the client nonce.
_SERVER_NONCE_BYTES: Final = 18
_DIGEST_LENGTH: Final = 32


@dataclass(frozen=True, slots=True)
class ScramCredentials:
    """What the server stores per user (RFC 5802 section 2.2): never the password."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def __post_init__(self) -> None:
        for name in ("salt", "stored_key", "server_key"):
            if not isinstance(getattr(self, name), bytes):
                raise TypeError(f"{name} must be bytes")
        if type(self.iterations) is not int or self.iterations < 1:
            raise ValueError("iterations must be a positive int")
        if len(self.stored_key) != _DIGEST_LENGTH or len(self.server_key) != _DIGEST_LENGTH:
            raise ValueError("stored_key and server_key must be 32-byte SHA-256 digests")


def _keys_from_salted_password(salted: bytes) -> tuple[bytes, bytes, bytes]:
    client_key = hmac(_HF, salted, b"Client Key")
    return client_key, h(_HF, client_key), hmac(_HF, salted, b"Server Key")


def make_scram_credentials(
    password: str, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS
) -> ScramCredentials:
    """Derive the stored SCRAM-SHA-256 credentials for ``password``.

    Like RethinkDB's ``password_t``, the password's UTF-8 bytes are fed to
    PBKDF2-HMAC-SHA256 as they are (RethinkDB does not SASLprep stored passwords)
    with a fresh 16-byte salt unless one is given.
    """
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    if salt is None:
        salt = default_salt_factory()
    if type(iterations) is not int or iterations < 1:
        raise ValueError("iterations must be a positive int")
    salted = hi(_HF, password.encode("utf-8"), bytes(salt), iterations)
    _, stored_key, server_key = _keys_from_salted_password(salted)
    return ScramCredentials(bytes(salt), iterations, stored_key, server_key)


def verify_plaintext_password(credentials: ScramCredentials, password: str) -> bool:
    """The V0_3/V0_4 auth-key check (RethinkDB's ``plaintext_authenticator_t``).

    RethinkDB SASLpreps the offered key, runs PBKDF2 with the user's salt and
    iteration count and compares the result with the stored hash. We store
    StoredKey rather than SaltedPassword, so we derive StoredKey and compare that:
    equal passwords give equal keys either way.
    """
    try:
        prepared = saslprep(password)
    except ScramException:
        return False
    salted = hi(_HF, prepared.encode("utf-8"), credentials.salt, credentials.iterations)
    _, stored_key, _ = _keys_from_salted_password(salted)
    return _hmac.compare_digest(stored_key, credentials.stored_key)


def default_nonce_factory() -> str:
    """RethinkDB's server nonce: base64 of 18 random bytes (24 characters)."""
    return base64.b64encode(secrets.token_bytes(_SERVER_NONCE_BYTES)).decode("ascii")


def default_salt_factory() -> bytes:
    """A fresh 16-byte salt (used for new credentials and for unknown-user decoys)."""
    return os.urandom(SALT_LENGTH)


class AuthenticationError(Exception):
    """A SCRAM failure with RethinkDB's error code (10-20) and literal message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# The codes RethinkDB documents next to authentication_error_t, with its messages.
_INVALID_ENCODING = (10, "Invalid encoding")
_EXTENSIONS = (11, "Extensions not supported")
_WRONG_PASSWORD = (12, "Wrong password")
_CHANNEL_BINDING = (15, "Channel binding is not supported")
_UNKNOWN_USER = (17, "Unknown user")
_BAD_USERNAME = (18, "Invalid username encoding")
_OTHER = (20, "Other error")


def _fail(code_and_message: tuple[int, str]) -> AuthenticationError:
    return AuthenticationError(*code_and_message)


def _split_attributes(message: str) -> dict[str, str]:
    """Parse ``k=v,k=v`` as RethinkDB does: one-letter keys, no repeats, values
    up to the next comma (so they may contain '=')."""
    attributes: dict[str, str] = {}
    offset = 0
    while offset < len(message):
        equals = message.find("=", offset)
        if equals == -1 or equals - offset != 1:
            raise _fail(_INVALID_ENCODING)
        key = message[offset]
        if key in attributes:
            raise _fail(_INVALID_ENCODING)
        comma = message.find(",", equals + 1)
        if comma == -1:
            attributes[key] = message[equals + 1 :]
            offset = len(message)
        else:
            attributes[key] = message[equals + 1 : comma]
            offset = comma + 1
    return attributes


def _decode_saslname(saslname: str) -> str:
    """RFC 5802 saslname: '=2C' is ',' and '=3D' is '='; any other '=' is invalid.

    (RethinkDB 2.4's decoder lacks a ``break`` and appends the 'C'/'D' after the
    decoded character, so names containing ',' or '=' cannot log in there; we
    decode per the RFC instead.) The result is SASLprepped like ``username_t``.
    """
    out: list[str] = []
    i = 0
    while i < len(saslname):
        ch = saslname[i]
        if ch == "=":
            escape = saslname[i + 1 : i + 3]
            if escape == "2C":
                out.append(",")
            elif escape == "3D":
                out.append("=")
            else:
                raise _fail(_BAD_USERNAME)
            i += 3
        else:
            out.append(ch)
            i += 1
    try:
        return saslprep("".join(out))
    except ScramException as exc:
        raise _fail(_BAD_USERNAME) from exc


def _check_nonce_part(nonce: object) -> str:
    # RFC 5802: printable ASCII except ','.
    if not isinstance(nonce, str) or not nonce:
        raise ValueError("nonce_factory must return a non-empty str")
    if any(not 0x21 <= ord(c) <= 0x7E or c == "," for c in nonce):
        raise ValueError("nonce_factory must return printable ASCII without ','")
    return nonce


class ScramExchange:
    """One server-side SCRAM-SHA-256 conversation, without any I/O.

    Call :meth:`first` with the client-first-message (gs2 header included) to get
    the server-first-message, then :meth:`final` with the client-final-message to
    get the server-final-message (``v=...``). Both raise
    :class:`AuthenticationError` with RethinkDB's code and text on failure.
    """

    def __init__(
        self,
        lookup_credentials: Callable[[str], ScramCredentials | None],
        nonce_factory: Callable[[], str] = default_nonce_factory,
        salt_factory: Callable[[], bytes] = default_salt_factory,
    ) -> None:
        self._lookup = lookup_credentials
        self._nonce_factory = nonce_factory
        self._salt_factory = salt_factory
        self._stage = "first"
        self.username: str | None = None
        self._credentials: ScramCredentials | None = None
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""

    @property
    def authenticated(self) -> bool:
        return self._stage == "done"

    def first(self, client_first: str) -> str:
        if self._stage != "first":
            raise _fail(_OTHER)
        self._stage = "error"
        if not client_first.startswith("n,"):
            raise _fail(_CHANNEL_BINDING)
        bare_comma = client_first.find(",", 2)
        if bare_comma == -1:
            raise _fail(_INVALID_ENCODING)
        bare = client_first[bare_comma + 1 :]
        attributes = _split_attributes(bare)
        # RethinkDB walks a std::map, i.e. the attributes in key order.
        for key in sorted(attributes):
            if key == "n":
                self.username = _decode_saslname(attributes[key])
            elif key == "r":
                pass
            elif key == "m":
                raise _fail(_EXTENSIONS)
            else:
                raise _fail(_INVALID_ENCODING)
        if "n" not in attributes or "r" not in attributes:
            raise _fail(_INVALID_ENCODING)

        assert self.username is not None
        credentials = self._lookup(self.username)
        if credentials is None:
            # Decoy: answer like for a real user, fail after the proof (code 17).
            salt, iterations = self._salt_factory(), DEFAULT_ITERATIONS
        else:
            salt, iterations = credentials.salt, credentials.iterations
        self._credentials = credentials
        self._client_first_bare = bare
        self._nonce = attributes["r"] + _check_nonce_part(self._nonce_factory())
        salt_b64 = base64.b64encode(salt).decode("ascii")
        self._server_first = f"r={self._nonce},s={salt_b64},i={iterations}"
        self._stage = "final"
        return self._server_first

    def final(self, client_final: str) -> str:
        if self._stage != "final":
            raise _fail(_OTHER)
        self._stage = "error"
        credentials = self._credentials
        if credentials is None:
            raise _fail(_UNKNOWN_USER)
        proof_at = client_final.find(",p=")
        without_proof = client_final if proof_at == -1 else client_final[:proof_at]
        auth_message = ",".join(
            (self._client_first_bare, self._server_first, without_proof)
        ).encode("utf-8")

        attributes = _split_attributes(client_final)
        for key in sorted(attributes):
            value = attributes[key]
            if key == "c":
                if value != "biws":  # base64("n,,"): no channel binding, no authzid
                    raise _fail(_INVALID_ENCODING)
            elif key == "m":
                raise _fail(_EXTENSIONS)
            elif key == "p":
                if not _proof_matches(credentials, auth_message, value):
                    raise _fail(_WRONG_PASSWORD)
            elif key == "r":
                if value != self._nonce:
                    raise _fail(_OTHER)  # RethinkDB has no specific nonce error
            else:
                raise _fail(_INVALID_ENCODING)
        if not {"c", "r", "p"} <= attributes.keys():
            raise _fail(_INVALID_ENCODING)

        server_signature = hmac(_HF, credentials.server_key, auth_message)
        self._stage = "done"
        return "v=" + base64.b64encode(server_signature).decode("ascii")


def _proof_matches(credentials: ScramCredentials, auth_message: bytes, proof_b64: str) -> bool:
    """ClientKey = proof XOR HMAC(StoredKey, AuthMessage); check H(ClientKey) == StoredKey.

    RethinkDB compares the base64 text of the expected proof, so anything that is
    not the canonical 44-character encoding of 32 bytes is a wrong password too.
    """
    try:
        proof = base64.b64decode(proof_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    if len(proof) != _DIGEST_LENGTH or base64.b64encode(proof).decode("ascii") != proof_b64:
        return False
    client_signature = hmac(_HF, credentials.stored_key, auth_message)
    client_key = xor(proof, client_signature)
    return _hmac.compare_digest(h(_HF, client_key), credentials.stored_key)
