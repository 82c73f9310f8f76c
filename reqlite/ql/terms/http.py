"""``r.http(url, ...)`` (RethinkDB's terms/http.cc, extproc/http_runner.cc and
extproc/http_job.cc): an HTTP request from the server, with RethinkDB 2.4's options,
results and error texts.

RethinkDB runs libcurl in a worker process; reqlite runs the request with ``httpx`` on
the event loop (Trio), so it never blocks other queries and a STOP or a disconnect
cancels it at once. What libcurl did is reproduced where it shows:

* the request: ``User-Agent: RethinkDB/2.4.4``, ``Accept: */*``,
  ``Accept-Encoding: deflate;q=1, gzip;q=0.5`` (gzip and deflate bodies are decoded);
  ``header`` lines are curl's custom headers (``"Name:"`` removes a default header,
  ``"Name;"`` sends it empty); a URL without ``scheme://`` is guessed as curl does
  (``http://``), and only HTTP and HTTPS are allowed; ``params`` are appended with
  curl's escaping and RethinkDB's rules for ``?``/``&``; ``data`` is sent as RethinkDB
  decides (JSON with ``Content-Type: application/json`` for PUT, PATCH and DELETE, a
  form for POST with an object, a string as is); cookies are kept across redirects,
  digest authentication and pages;
* ``timeout`` (default 30 s) bounds the whole operation, every attempt and redirect
  included ("timed out after 0.800 seconds"); ``attempts`` (default 5) retries a failed
  connection, a send or receive error and statuses 408, 500, 502, 503 and 504 at once.
  As with libcurl's write callback, the bodies of the attempts add up (a retried 503's
  body comes before the next answer's);
* the result: ``null`` for HEAD; ``auto`` decodes ``application/json``, tries JSON,
  then JSONP, then text for ``text/javascript``/``application/json-p``/``text/json-p``,
  gives binary for ``audio/``, ``image/``, ``video/`` and ``application/octet-stream``,
  and text otherwise;
* errors are ``ReqlNonExistenceError`` "Error in HTTP GET of `url`: <what>." (so
  ``default`` catches them), followed by the response's parsed header and its body
  when the request got that far (RethinkDB's ``header:``/``body:`` lines); statuses
  outside 2xx read "status code 404".

With ``page`` (``'link-next'`` or a function of ``{params, header, body}`` returning a
URL, ``{url, params}`` or null) and ``page_limit`` (a number of requests, -1 for no
limit), the result is a stream of the pages' elements. ``r.http`` is never
deterministic: writes need ``non_atomic`` for it, index functions refuse it.
"""

from __future__ import annotations

import re
import socket
import ssl
from typing import Any
from urllib.parse import quote

import httpx
import re2
import trio

from ...datum.binary import make_binary
from ...datum.printing import format_g20, print_datum
from ...datum.types import type_name
from ...errors import (
    ReqlError,
    ReqlNonExistenceError,
    ReqlPermissionError,
    ReqlQueryLogicError,
)
from ...wire.ql2 import TermType as T
from ..streams import Stream
from ..term import (
    Term,
    as_bool,
    as_datum,
    as_int,
    as_number,
    as_string,
    register,
)
from ..values import Function

USER_AGENT = "RethinkDB/2.4.4"
ACCEPT_ENCODING = "deflate;q=1, gzip;q=0.5"
DEFAULT_TIMEOUT_MS = 30_000
MAX_TIMEOUT_MS = 2_592_000_000  # 30 days
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
RESULT_FORMATS = ("auto", "json", "jsonp", "text", "binary")
# Statuses that may go away when asked again (http_job.cc).
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
_UINT64 = 2**64

HTTP_STREAM_CHANGES = "Cannot call `changes` on an HTTP stream."

# libcurl's words (curl_easy_strerror) for the failures that can happen here.
UNSUPPORTED_PROTOCOL = "Unsupported protocol"
BAD_URL = "URL using bad/illegal format or missing URL"
TOO_MANY_REDIRECTS = "Number of redirects hit maximum amount"
COULDNT_RESOLVE = "Couldn't resolve host name"
PEER_CERTIFICATE = "Peer certificate cannot be authenticated with given CA certificates"
SSL_CONNECT = "SSL connect error"
GOT_NOTHING = "Server returned nothing (no headers, no data)"
PARTIAL_FILE = "Transferred a partial file"
WEIRD_REPLY = "Weird server reply"
BAD_ENCODING = "Unrecognized or bad HTTP Content or Transfer-Encoding"

_UNSET: Any = object()  # a result field the request never reached ("not has()")


class HttpOpts:
    """What one request is made of (RethinkDB's ``http_opts_t``)."""

    __slots__ = (
        "url",
        "method",
        "auth",
        "data",
        "form",
        "header",
        "result_format",
        "params",
        "timeout_ms",
        "attempts",
        "redirects",
        "verify",
        "cookies",
    )

    def __init__(self, url: str) -> None:
        self.url = url
        self.method = "GET"
        self.auth: tuple[str, str, str] | None = None  # (type, user, pass)
        self.data: str | None = None  # the body, as given or printed
        self.form: dict[str, str] = {}  # POST form fields
        self.header: list[str] = []
        self.result_format = "auto"
        self.params: dict = {}
        self.timeout_ms = DEFAULT_TIMEOUT_MS
        self.attempts = 5
        self.redirects = 1
        self.verify = True
        self.cookies: httpx.Cookies | None = None


class HttpResult:
    """What came back (``http_result_t``): ``header`` and ``body`` stay unset when the
    request never got that far, and ``error`` is None on success."""

    __slots__ = ("header", "body", "error", "cookies")

    def __init__(self) -> None:
        self.header: Any = _UNSET
        self.body: Any = _UNSET
        self.error: str | None = None
        self.cookies: httpx.Cookies | None = None


class _Failure(Exception):
    """A request that failed with libcurl's (or RethinkDB's) explanation."""


# -- building the request --------------------------------------------------------------


def escape(s: str) -> str:
    """``curl_easy_escape``: every byte but ``A-Z a-z 0-9 - . _ ~`` as ``%XX``."""
    return quote(s, safe="")


def encode_fields(fields: dict[str, str]) -> str:
    """``key=value&...`` in key order, both escaped."""
    return "&".join(f"{escape(k)}={escape(fields[k])}" for k in sorted(fields))


def param_string(value: Any) -> str:
    """A parameter's value as RethinkDB prints it (``%.20g`` for numbers)."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    return format_g20(value)


def url_with_params(url: str, params: dict) -> str:
    """The URL with ``params`` appended, following RethinkDB's rules: ``example.org`` →
    ``example.org/?…``, ``example.org/page`` → ``…/page?…``, ``…?id=0`` → ``…?id=0&…``."""
    encoded = encode_fields({k: param_string(v) for k, v in params.items()})
    if not encoded:
        return url
    q = url.rfind("?")
    slash = url.rfind("/")
    out = url
    if slash < 0 and q < 0:
        out += "/"
    if q < 0 or (slash >= 0 and slash > q):
        out += "?"
    elif slash >= 0 and q >= 0 and slash < q:
        out += "&"
    return out + encoded


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_GUESSED = (("ftp.", "ftp"), ("dict.", "dict"), ("ldap.", "ldap"), ("imap.", "imap"),
            ("smtp.", "smtp"), ("pop3.", "pop3"))


def absolute_url(url: str) -> str:
    """The URL with its scheme: curl guesses one from the host when there is none
    (``http`` unless the host starts with ``ftp.``, ``imap.``, …). Only HTTP and HTTPS
    are allowed."""
    m = _SCHEME.match(url)
    if m is not None:
        scheme = m.group(1).lower()
    else:
        scheme = "http"
        low = url.lower()
        for prefix, guessed in _GUESSED:
            if low.startswith(prefix):
                scheme = guessed
                break
        url = f"{scheme}://{url}"
    if scheme not in ("http", "https"):
        raise _Failure(UNSUPPORTED_PROTOCOL)
    return url


def custom_headers(lines: list[str]) -> list[tuple[str, str | None]]:
    """curl's reading of custom header lines: ``(name, value)`` to send, ``(name, None)``
    to remove a default header ("Name:"); lines with neither ``:`` nor a final ``;``
    are ignored."""
    out: list[tuple[str, str | None]] = []
    for line in lines:
        colon = line.find(":")
        if colon < 0:
            semi = line.find(";")
            if semi >= 0 and not line[semi + 1 :].strip(" \t"):
                out.append((line[:semi], ""))  # "Name;": sent with an empty value
            continue
        value = line[colon + 1 :].strip(" \t")
        out.append((line[:colon], value if value else None))
    return out


def request_headers(opts: HttpOpts) -> list[tuple[str, str]]:
    """Every header line of the request (Host and Content-Length come from httpx)."""
    merged: dict[str, tuple[str, str]] = {
        "user-agent": ("User-Agent", USER_AGENT),
        "accept": ("Accept", "*/*"),
        "accept-encoding": ("Accept-Encoding", ACCEPT_ENCODING),
    }
    if opts.method == "POST":
        merged["content-type"] = ("Content-Type", "application/x-www-form-urlencoded")
    for name, value in custom_headers(opts.header):
        key = name.lower()
        if value is None:
            merged.pop(key, None)
        else:
            merged.pop(key, None)  # a later line replaces an earlier one
            merged[key] = (name, value)
    return list(merged.values())


def request_body(opts: HttpOpts) -> bytes | None:
    if opts.method == "POST":
        if opts.form:
            return encode_fields(opts.form).encode("utf-8")
        return (opts.data or "").encode("utf-8")
    if opts.method in ("PUT", "PATCH", "DELETE"):
        return (opts.data or "").encode("utf-8")
    return None


_SSL_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def ssl_context(verify: bool) -> ssl.SSLContext:
    """One context per ``verify`` value, made once (loading the CA bundle takes a while)."""
    ctx = _SSL_CONTEXTS.get(verify)
    if ctx is None:
        if verify:
            import certifi

            ctx = ssl.create_default_context(cafile=certifi.where())
        else:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        _SSL_CONTEXTS[verify] = ctx
    return ctx


# -- reading the response --------------------------------------------------------------

_LINK = re.compile(r"[\t\n\f\r ]*<([^>]*)>[\t\n\f\r ]*(?:;[\t\n\f\r ]*([^,]+)[\t\n\f\r ]*(?:,|\Z))")


def parse_link(line: str, links: dict) -> None:
    """A ``Link`` header (RFC 5988) as ``{param: url}``: ``<http://x>; rel="next"`` gives
    ``{'rel="next"': 'http://x'}``."""
    rest = line
    while rest:
        m = _LINK.match(rest)
        if m is None:
            break
        links[m.group(2)] = m.group(1)
        rest = rest[m.end() :]
    if rest:
        raise _Failure(f"failed to parse link header line: '{line}'")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def parse_header(raw: list[tuple[bytes, bytes]]) -> dict:
    """The response header as RethinkDB gives it: field names in lower case (the last
    value of a repeated field wins), ``link`` parsed into an object."""
    fields: dict[str, Any] = {}
    links: dict[str, str] = {}
    for name, value in raw:
        key = _text(name).lower()
        if key == "link":
            parse_link(_text(value), links)
        else:
            fields[key] = _text(value)
    if links:
        fields["link"] = links
    return fields


_IDENT = (
    r"\s*[$_\p{Ll}\p{Lt}\p{Lu}\p{Lm}\p{Lo}\p{Nl}]"
    r"[$_\p{Ll}\p{Lt}\p{Lu}\p{Lm}\p{Lo}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*\s*"
)
_CALL = r"\(((?s).*)\)"
_END = r"\s*;?\s*"
# The three forms of www.json-p.org: f(JSON); obj.f(JSON); obj["f"](JSON);
_JSONP = [
    re2.compile(_IDENT + _CALL + _END),
    re2.compile(_IDENT + r"\." + _IDENT + _CALL + _END),
    re2.compile(_IDENT + r"\[\s*['\"].*['\"]\s*\]\s*" + _CALL + _END),
]


def jsonp_payload(text: str) -> str | None:
    """The JSON inside a JSONP response, or None if it is not JSONP."""
    for p in _JSONP:
        m = p.fullmatch(text)
        if m is not None:
            return m.group(1)
    return None


class _BadJson(Exception):
    pass


def decode_json(q: Any, text: str) -> Any:
    """The JSON as a datum (RethinkDB's parser stops at a NUL byte); ``_BadJson`` with
    RapidJSON's explanation when it does not parse, RethinkDB's error (duplicate key,
    array size, pseudo-type) when it parses into no datum."""
    from .json_term import parse_json

    nul = text.find("\x00")
    if nul >= 0:
        text = text[:nul]
    try:
        return parse_json(q, text)
    except ReqlQueryLogicError as e:
        msg = e.message
        if msg.startswith("Failed to parse ") and " as JSON: " in msg:
            raise _BadJson(msg.rsplit(" as JSON: ", 1)[1]) from None
        raise _Failure(msg) from None


def _json_result(q: Any, body: str, res: HttpResult, attach: bool) -> bool:
    try:
        res.body = decode_json(q, body)
        return True
    except _BadJson as e:
        res.error = f"failed to parse JSON response: {e}"
        if attach:
            res.body = body
        return False


def _jsonp_result(q: Any, body: str, res: HttpResult, attach: bool) -> bool:
    payload = jsonp_payload(body)
    if payload is None:
        res.error = "failed to parse JSONP response"
        if attach:
            res.body = body
        return False
    return _json_result(q, payload, res, attach)


def decode_body(q: Any, fmt: str, content_type: str, raw: bytes, res: HttpResult) -> None:
    """``result_format``: set ``res.body`` (or ``res.error``)."""
    if fmt == "auto":
        ct = content_type.lower()
        if ct.startswith("application/json"):
            _json_result(q, _text(raw), res, True)
        elif ct.startswith(("text/javascript", "application/json-p", "text/json-p")):
            body = _text(raw)
            if not _json_result(q, body, res, False):
                res.error = None
                if not _jsonp_result(q, body, res, False):
                    res.error = None
                    res.body = body
        elif ct.startswith(("audio/", "image/", "video/", "application/octet-stream")):
            res.body = make_binary(raw)
        else:
            res.body = _text(raw)
    elif fmt == "json":
        _json_result(q, _text(raw), res, True)
    elif fmt == "jsonp":
        _jsonp_result(q, _text(raw), res, True)
    elif fmt == "text":
        res.body = _text(raw)
    else:
        res.body = make_binary(raw)


# -- performing it ---------------------------------------------------------------------


def _causes(exc: BaseException):
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 16:
        yield e
        e = e.__cause__ or e.__context__
        seen += 1


def _connect_failure(exc: BaseException) -> str | None:
    """What libcurl says for a connection that could not be made, or None for a plain
    refused/unreachable connection (which is retried)."""
    for e in _causes(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return PEER_CERTIFICATE
        if isinstance(e, ssl.SSLError):
            return SSL_CONNECT
        if isinstance(e, socket.gaierror):
            return COULDNT_RESOLVE
    return None


# Retryable failures, as RethinkDB finally reports them.
_COULD_NOT_CONNECT = "could not connect to server"
_SEND_ERROR = "error when sending data"
_RECV_ERROR = "error when receiving data"


def classify(exc: Exception) -> tuple[str, bool]:
    """An httpx failure as ``(message, retry)``."""
    if isinstance(exc, httpx.TooManyRedirects):
        return TOO_MANY_REDIRECTS, False
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UNSUPPORTED_PROTOCOL, False
    if isinstance(exc, httpx.ConnectError):
        why = _connect_failure(exc)
        return (why, False) if why is not None else (_COULD_NOT_CONNECT, True)
    if isinstance(exc, httpx.ConnectTimeout):
        return _COULD_NOT_CONNECT, True
    if isinstance(exc, httpx.DecodingError):
        return BAD_ENCODING, False
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        if "without sending" in text:
            return GOT_NOTHING, False
        if "incomplete" in text or "peer closed" in text:
            return PARTIAL_FILE, False
        return WEIRD_REPLY, False
    if isinstance(exc, (httpx.WriteError, httpx.LocalProtocolError)):
        return _SEND_ERROR, True
    if isinstance(exc, httpx.ReadError):
        return _RECV_ERROR, True
    if isinstance(exc, httpx.InvalidURL):
        return BAD_URL, False
    return str(exc) or exc.__class__.__name__, False


async def perform(q: Any, opts: HttpOpts) -> HttpResult:
    """Run the request within ``timeout`` (all attempts and redirects together)."""
    res = HttpResult()
    ms = opts.timeout_ms
    with trio.move_on_after(ms / 1000) as scope:
        await trio.lowlevel.checkpoint()
        # The worker's result: header and body are null unless the request set them.
        res.header = None
        res.body = None
        try:
            await _perform(q, opts, res)
        except _Failure as e:
            res.error = str(e)
    if scope.cancelled_caught:
        res = HttpResult()
        res.error = f"timed out after {ms // 1000}.{ms % 1000:03d} seconds"
    return res


async def _perform(q: Any, opts: HttpOpts, res: HttpResult) -> None:
    url = absolute_url(url_with_params(opts.url, opts.params))
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise _Failure(BAD_URL) from None
    headers = request_headers(opts)
    content = request_body(opts)
    auth: httpx.Auth | None = None
    if opts.auth is not None:
        kind, user, password = opts.auth
        auth = httpx.BasicAuth(user, password) if kind == "basic" else httpx.DigestAuth(user, password)
    async with httpx.AsyncClient(
        verify=ssl_context(opts.verify),
        follow_redirects=opts.redirects > 0,
        max_redirects=opts.redirects,
        timeout=None,
        trust_env=False,
        cookies=opts.cookies,
    ) as client:
        for name in list(client.headers.keys()):
            del client.headers[name]  # every header line is ours (request_headers)
        body = bytearray()
        response: httpx.Response | None = None
        failure: str | None = None
        attempt = 0
        while attempt < opts.attempts:
            attempt += 1
            try:
                response = await client.request(
                    opts.method, target, headers=headers, content=content, auth=auth
                )
            except httpx.HTTPError as exc:
                why, retry = classify(exc)
                if not retry:
                    raise _Failure(why) from None
                failure, response = why, None
                continue
            failure = None
            body += response.content  # like curl's write callback, across attempts
            if response.status_code not in RETRY_STATUSES:
                break
        if opts.attempts == 0:
            raise _Failure("could not perform, no attempts allowed")
        if failure is not None or response is None:
            raise _Failure(failure or _COULD_NOT_CONNECT)
        code = response.status_code
        if code < 200 or code >= 300:
            res.header = parse_header(response.headers.raw)
            if body:
                res.body = _text(bytes(body))
            res.error = f"status code {code}"
            return
        res.header = parse_header(response.headers.raw)
        res.cookies = httpx.Cookies(client.cookies)
        if opts.method == "HEAD":
            res.body = None
            return
        decode_body(q, opts.result_format, response.headers.get("content-type", ""), bytes(body), res)


def http_error(res: HttpResult, opts: HttpOpts, term: Any) -> ReqlNonExistenceError:
    """RethinkDB's error for a failed request: a non-existence error, so that
    ``default`` can stand in for an unreliable remote server."""
    msg = f"Error in HTTP {opts.method} of `{opts.url}`: {res.error}."
    if res.header is not _UNSET:
        msg += "\nheader:\n" + print_datum(res.header)
    if res.body is not _UNSET:
        msg += "\nbody:\n" + print_datum(res.body)
    return ReqlNonExistenceError(msg, term)


async def dispatch(q: Any, opts: HttpOpts, term: Any) -> HttpResult:
    res = await perform(q, opts)
    if res.error is not None:
        raise http_error(res, opts, term)
    return res


# -- optarg checks -----------------------------------------------------------------------


def check_url_params(params: Any, term: Any) -> None:
    if params.__class__ is not dict:
        raise ReqlQueryLogicError(
            f"Expected `params` to be an OBJECT, but found {type_name(params)}:\n{print_datum(params)}",
            term,
        )
    for k in sorted(params):
        v = params[k]
        if v is not None and v.__class__ not in (str, int, float):
            raise ReqlQueryLogicError(
                f"Expected `params.{k}` to be a NUMBER, STRING or NULL, but found "
                f"{type_name(v)}:\n{print_datum(v)}",
                term,
            )


def _check_header_line(line: str, term: Any) -> None:
    if "\r" in line or "\n" in line:
        raise ReqlQueryLogicError("A `header` item contains newline characters.", term)


class _LinkNext:
    """``page='link-next'``: ``info['header']['link']['rel="next"'].default(null)``."""

    __slots__ = ()


_LINK_NEXT = _LinkNext()


@register(T.HTTP)
class Http(Term):
    __slots__ = ()
    name = "http"
    argspec = (1, 1)
    optargspec = (
        "data",
        "timeout",
        "method",
        "params",
        "header",
        "attempts",
        "redirects",
        "verify",
        "page",
        "page_limit",
        "auth",
        "result_format",
    )
    deterministic = False  # "No HTTP term is considered deterministic"

    async def eval(self, q: Any, env: dict) -> Any:
        if not q.user_is_admin:
            from ..permissions import allowed

            if not allowed(q, "connect"):
                raise ReqlPermissionError(
                    f"User `{q.user}` does not have the required `$connect` permissions", self
                )
        opts = HttpOpts(as_string(await self.args[0].eval(q, env)))
        await self._auth(q, env, opts)
        await self._method(q, env, opts)
        await self._data(q, env, opts)  # before `header`, which may override its Content-Type
        await self._result_format(q, env, opts)
        await self._params(q, env, opts)
        await self._header(q, env, opts)
        await self._timeout(q, env, opts)
        await self._attempts_and_redirects(q, env, opts)
        t = self.optargs.get("verify")
        if t is not None:
            opts.verify = as_bool(await t.eval(q, env))
        page, limit = await self._page(q, env)
        if page is not None:
            return HttpStream(opts, page, limit, self)
        res = await dispatch(q, opts, self)
        return res.body

    async def _auth(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("auth")
        if t is None:
            return
        auth = as_datum(await t.eval(q, env))
        if auth.__class__ is not dict:
            raise ReqlQueryLogicError(
                f"Expected `auth` to be an OBJECT, but found {type_name(auth)}.", t
            )
        kind = "basic"
        if "type" in auth:
            if auth["type"].__class__ is not str:
                # (RethinkDB names the type of the auth object here, not of the field.)
                raise ReqlQueryLogicError(
                    f"Expected `auth.type` to be a STRING, but found {type_name(auth)}.", t
                )
            kind = auth["type"]
        items = []
        for item in ("user", "pass"):
            if item not in auth:
                raise ReqlQueryLogicError(f"`auth.{item}` not found in the auth object.", t)
            v = auth[item]
            if v.__class__ is not str:
                raise ReqlQueryLogicError(
                    f"Expected `auth.{item}` to be a STRING, but found {type_name(v)}.", t
                )
            items.append(v)
        if kind not in ("basic", "digest"):
            raise ReqlQueryLogicError(
                "`auth.type` is not recognized ('basic', and 'digest' are allowed).", t
            )
        opts.auth = (kind, items[0], items[1])

    async def _method(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("method")
        if t is None:
            return
        method = as_string(await t.eval(q, env))
        if method not in METHODS:
            raise ReqlQueryLogicError(
                f"`method` ({method}) is not recognized (GET, HEAD, POST, PUT, PATCH and "
                "DELETE are allowed).",
                t,
            )
        opts.method = method

    async def _data(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("data")
        if t is None:
            return
        data = as_datum(await t.eval(q, env))
        method = opts.method
        if method in ("PUT", "PATCH", "DELETE"):
            if data.__class__ is str:
                opts.data = data
            else:
                # May be overridden by the `header` optarg.
                opts.header.append("Content-Type: application/json")
                opts.data = print_datum(data)
        elif method == "POST":
            if data.__class__ is str:
                opts.data = data
            elif data.__class__ is dict:
                for k in sorted(data):
                    v = data[k]
                    if v is not None and v.__class__ not in (str, int, float):
                        raise ReqlQueryLogicError(
                            f"Expected `data.{k}` to be a NUMBER, STRING or NULL, but found "
                            f"{type_name(v)}.",
                            t,
                        )
                    opts.form[k] = param_string(v)
            else:
                raise ReqlQueryLogicError(
                    f"Expected `data` to be a STRING or OBJECT, but found {type_name(data)}.", t
                )
        else:
            raise ReqlQueryLogicError(
                "`data` should only be specified on a PUT, POST, PATCH, or DELETE request.  "
                "If you want URL parameters, use `params` instead.",
                self,
            )

    async def _result_format(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("result_format")
        if t is None:
            return
        fmt = as_string(await t.eval(q, env))
        if fmt not in RESULT_FORMATS:
            raise ReqlQueryLogicError(
                f"`result_format` ({fmt}) is not recognized, ('auto', 'json', 'jsonp', 'text', "
                "and 'binary' are allowed).",
                t,
            )
        opts.result_format = fmt

    async def _params(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("params")
        if t is None:
            return
        params = as_datum(await t.eval(q, env))
        check_url_params(params, t)
        opts.params = params

    async def _header(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("header")
        if t is None:
            return
        header = as_datum(await t.eval(q, env))
        if header.__class__ is dict:
            for k in sorted(header):
                v = header[k]
                if v.__class__ is str:
                    line = f"{k}: {v}"
                elif v is None:
                    line = ""  # an empty line, which curl ignores
                else:
                    raise ReqlQueryLogicError(
                        f"Expected `header.{k}` to be a STRING or NULL, but found {type_name(v)}.",
                        t,
                    )
                _check_header_line(line, t)
                opts.header.append(line)
        elif header.__class__ is list:
            for i, line in enumerate(header):
                if line.__class__ is not str:
                    raise ReqlQueryLogicError(
                        f"Expected `header[{i}]` to be a STRING, but found {type_name(line)}.", t
                    )
                _check_header_line(line, t)
                opts.header.append(line)
        else:
            raise ReqlQueryLogicError(
                f"Expected `header` to be an ARRAY or OBJECT, but found {type_name(header)}.", t
            )

    async def _timeout(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("timeout")
        if t is None:
            return
        ms = as_number(await t.eval(q, env)) * 1000
        if ms < 0:
            raise ReqlQueryLogicError("`timeout` may not be negative.", t)
        opts.timeout_ms = int(min(ms, MAX_TIMEOUT_MS))

    async def _attempts_and_redirects(self, q: Any, env: dict, opts: HttpOpts) -> None:
        t = self.optargs.get("attempts")
        if t is not None:
            # An unsigned 64-bit count: a negative number wraps around (to a huge one).
            opts.attempts = as_int(await t.eval(q, env)) % _UINT64
        t = self.optargs.get("redirects")
        if t is not None:
            n = as_int(await t.eval(q, env))
            if not 0 <= n < 2**32:
                raise ReqlQueryLogicError(f"Integer too large: {n}", t)
            opts.redirects = n

    async def _page(self, q: Any, env: dict) -> tuple[Any, int]:
        """The ``page`` function (None without pagination) and ``page_limit``."""
        pt = self.optargs.get("page")
        lt = self.optargs.get("page_limit")
        if pt is None:
            return None, 0
        page = await pt.eval(q, env)
        limit_v = await lt.eval(q, env) if lt is not None else None
        if lt is None:
            raise ReqlQueryLogicError(
                "Cannot use `page` without specifying `page_limit` (a positive number performs "
                "that many requests, -1 is unlimited).",
                pt,
            )
        fn: Any
        if isinstance(page, Function):
            fn = page
        else:
            method = as_datum(page)
            if method is None:
                fn = None
            else:
                name = as_string(method)
                if name != "link-next":
                    raise ReqlQueryLogicError(
                        f"`page` method '{name}' not recognized, only 'link-next' is available.",
                        pt,
                    )
                fn = _LINK_NEXT
        limit = as_int(limit_v)
        if limit < -1:
            raise ReqlQueryLogicError("`page_limit` should be greater than or equal to -1.", lt)
        return fn, limit


class _Blame:
    """Stands for the term an error was attributed to (its backtrace only)."""

    __slots__ = ("bt",)

    def __init__(self, bt: tuple) -> None:
        self.bt = bt


class HttpStream(Stream):
    """The pages of a paginated ``r.http``: each request's body (its elements when it is
    an array) in turn, until ``page`` says there is no next page or ``page_limit``
    requests were made."""

    __slots__ = ("opts", "page", "limit", "more", "term")
    changes_refusal = HTTP_STREAM_CHANGES

    def __init__(self, opts: HttpOpts, page: Any, limit: int, term: Any) -> None:
        super().__init__(None)
        self.opts = opts
        self.page = page
        self.limit = limit
        self.more = limit != 0
        self.term = term

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while self.more:
            res = await dispatch(q, self.opts, self.term)
            self.more = await self._depaginate(q, res)
            body = res.body
            items = body if body.__class__ is list else [body]
            if items:
                return list(items)
        return None

    def close(self) -> None:
        self.more = False

    async def _depaginate(self, q: Any, res: HttpResult) -> bool:
        """Whether to make another request (and for which URL and parameters)."""
        if self.limit > 0:
            self.limit -= 1
        if self.limit == 0:
            return False
        opts = self.opts
        opts.cookies = res.cookies  # carried over to the next request
        info = {"params": opts.params, "header": res.header, "body": res.body}
        try:
            if self.page is _LINK_NEXT:
                link = res.header.get("link") if res.header.__class__ is dict else None
                new = link.get('rel="next"') if link.__class__ is dict else None
            else:
                new = as_datum(await self.page.call(q, [info]))
            return self._apply(new)
        except ReqlError as e:
            from ..query import blame

            blamed = e.term if e.term is not None else _Blame(tuple(blame(e)))
            raise e.__class__(
                f"Error in HTTP {opts.method} of `{opts.url}`: {e.message}.\n"
                f"Error occurred during `page` called with:\n{print_datum(info)}\n",
                blamed,
            ) from None

    def _apply(self, new: Any) -> bool:
        if new is None or new.__class__ is str:
            return self._apply_url(new)
        if new.__class__ is dict:
            if "url" not in new and "params" not in new:
                raise ReqlQueryLogicError(
                    "OBJECT returned by `page` must contain `url` and/or `params` fields.",
                    self.term,
                )
            if "params" in new:
                check_url_params(new["params"], self.term)
                self.opts.params = {**self.opts.params, **new["params"]}
            if "url" in new:
                return self._apply_url(new["url"])
            return True
        raise ReqlQueryLogicError(
            f"Expected `page` to return an OBJECT, but found {type_name(new)}.", self.term
        )

    def _apply_url(self, url: Any) -> bool:
        if url is None:
            return False
        if url.__class__ is not str:
            raise ReqlQueryLogicError(
                "Expected `url` in OBJECT returned by `page` to be a STRING or NULL, but found "
                f"{type_name(url)}.",
                self.term,
            )
        self.opts.url = url
        return True
