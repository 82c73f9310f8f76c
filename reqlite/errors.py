"""ReQL errors: the vocabulary every layer raises and the server turns into responses.

Each class maps to one RethinkDB response: ``ReqlCompileError`` to COMPILE_ERROR,
``ReqlClientError`` to CLIENT_ERROR, and the runtime errors to RUNTIME_ERROR with
their ErrorType number (so the official driver raises the matching
``ReqlQueryLogicError``, ``ReqlNonExistenceError``, …). Messages are part of the
contract: they are RethinkDB's words, compared literally by clients and tests.
"""

from __future__ import annotations

from typing import Any

# Response types (ql2.proto Response.ResponseType)
COMPILE_ERROR = 17
RUNTIME_ERROR = 18
CLIENT_ERROR = 16

# Runtime error types (ql2.proto Response.ErrorType)
INTERNAL = 1000000
RESOURCE_LIMIT = 2000000
QUERY_LOGIC = 3000000
NON_EXISTENCE = 3100000
OP_FAILED = 4100000
OP_INDETERMINATE = 4200000
USER = 5000000
PERMISSION_ERROR = 6000000


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
