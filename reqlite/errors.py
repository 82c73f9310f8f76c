"""ReQL errors: the vocabulary every layer raises and the server turns into responses.

Each class maps to one RethinkDB response: ``ReqlCompileError`` to COMPILE_ERROR,
``ReqlClientError`` to CLIENT_ERROR, and the runtime errors to RUNTIME_ERROR with
their ErrorType number (so the official driver raises the matching
``ReqlQueryLogicError``, ``ReqlNonExistenceError``, …). Messages are part of the
contract: they are RethinkDB's words, compared literally by clients and tests.
"""

from __future__ import annotations

from typing import Any

from .wire.ql2 import ErrorType, ResponseType

# The numbers the protocol defines (protocol/*.json, reqlite/wire/ql2.py).
COMPILE_ERROR = int(ResponseType.COMPILE_ERROR)
RUNTIME_ERROR = int(ResponseType.RUNTIME_ERROR)
CLIENT_ERROR = int(ResponseType.CLIENT_ERROR)

INTERNAL = int(ErrorType.INTERNAL)
RESOURCE_LIMIT = int(ErrorType.RESOURCE_LIMIT)
QUERY_LOGIC = int(ErrorType.QUERY_LOGIC)
NON_EXISTENCE = int(ErrorType.NON_EXISTENCE)
OP_FAILED = int(ErrorType.OP_FAILED)
OP_INDETERMINATE = int(ErrorType.OP_INDETERMINATE)
USER = int(ErrorType.USER)
PERMISSION_ERROR = int(ErrorType.PERMISSION_ERROR)


class ReqlError(Exception):
    """Base of every error a query can answer with.

    ``term`` is the compiled term the error is attributed to (its backtrace is sent
    to the client); when None, the executor attributes it to the innermost term that
    was evaluating when it was raised.
    """

    response_type = RUNTIME_ERROR
    error_type: int | None = QUERY_LOGIC

    def __init__(self, message: str, term: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.term = term

    def __str__(self) -> str:
        return self.message


class ReqlCompileError(ReqlError):
    response_type = COMPILE_ERROR
    error_type = None


class ReqlClientError(ReqlError):
    response_type = CLIENT_ERROR
    error_type = None


class ReqlRuntimeError(ReqlError):
    pass


class ReqlInternalError(ReqlRuntimeError):
    error_type = INTERNAL


class ReqlResourceLimitError(ReqlRuntimeError):
    error_type = RESOURCE_LIMIT


class ReqlQueryLogicError(ReqlRuntimeError):
    error_type = QUERY_LOGIC


class ReqlNonExistenceError(ReqlQueryLogicError):
    error_type = NON_EXISTENCE


class ReqlOpFailedError(ReqlRuntimeError):
    error_type = OP_FAILED


class ReqlOpIndeterminateError(ReqlRuntimeError):
    error_type = OP_INDETERMINATE


class ReqlUserError(ReqlRuntimeError):
    error_type = USER


class ReqlPermissionError(ReqlRuntimeError):
    error_type = PERMISSION_ERROR
