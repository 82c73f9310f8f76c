"""``r.http`` against a local HTTP server started by these tests (no network needed):
methods, result formats, params and headers, authentication, redirects, retries,
timeouts, errors, pagination, determinism and cancellation."""

from __future__ import annotations

import gzip
import hashlib
import json
import select
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import pytest
from rethinkdb import r
from rethinkdb.errors import (
    ReqlNonExistenceError,
    ReqlPermissionError,
    ReqlQueryLogicError,
)

from rawwire import handshake, read_response, send_query
from reqlite.ql.terms import http as H

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
REALM = "reqlite"
NONCE = "6f1c2a"


class Target(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends the waits of /slow
        self.slow_started = threading.Event()
        self.slow_dropped = threading.Event()  # the client of /slow went away

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hit(self, key: str) -> int:
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Target

    def log_message(self, *args: object) -> None:
        pass

    def send(self, code: int, body: bytes | str, ctype: str = "application/json", extra=()) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def route(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        head = parts[0]
        if head == "echo":
            self.send(200, json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }))
        elif head == "text":
            self.send(200, "hello", "text/plain; charset=utf-8")
        elif head == "png":
            self.send(200, PNG, "image/png")
        elif head == "js":
            self.send(200, parse_qs(url.query)["b"][0], "text/javascript")
        elif head == "raw":  # the body given in ?b=, as text/plain
            self.send(200, parse_qs(url.query)["b"][0], "text/plain")
        elif head == "rawjson":
            self.send(200, parse_qs(url.query)["b"][0], "application/json")
        elif head == "gzip":
            self.send(200, gzip.compress(b'{"gzipped": true}'), extra=[("Content-Encoding", "gzip")])
        elif head == "status":
            self.send(int(parts[1]), f"status {parts[1]}", "text/plain")
        elif head == "redirect":
            left = int(parts[1])
            if left == 0:
                self.send(200, json.dumps({"done": True, "method": self.command}))
            else:
                self.send(302, "", "text/plain", [("Location", f"/redirect/{left - 1}")])
        elif head == "basic":
            import base64

            want = "Basic " + base64.b64encode(f"{parts[1]}:{parts[2]}".encode()).decode()
            if self.headers.get("Authorization") == want:
                self.send(200, json.dumps({"authenticated": True, "user": parts[1]}))
            else:
                self.send(401, "", "text/plain", [("WWW-Authenticate", f'Basic realm="{REALM}"')])
        elif head == "digest":
            if self.digest_ok(parts[1], parts[2]):
                self.send(200, json.dumps({"authenticated": True, "user": parts[1]}))
            else:
                challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
                self.send(401, "", "text/plain", [("WWW-Authenticate", challenge)])
        elif head == "slow":
            self.server.slow_started.set()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not self.server.release.is_set():
                ready, _, _ = select.select([self.connection], [], [], 0.02)
                if ready and self.connection.recv(1, socket.MSG_PEEK) == b"":
                    self.server.slow_dropped.set()
                    self.close_connection = True
                    return
            self.send(200, '"late"')
        elif head == "flaky":  # /flaky/<key>/<failures>/<status>
            n = self.server.hit(parts[1])
            if n <= int(parts[2]):
                self.send(int(parts[3]), "e" if len(parts) > 4 else "", "text/plain")
            else:
                self.send(200, json.dumps({"hits": n}))
        elif head == "hits":
            self.send(200, json.dumps(self.server.hits.get(parts[1], 0)))
        elif head == "pages":  # three pages linked with Link headers; a cookie must follow
            i = int(parts[1])
            extra = []
            if i == 1:
                extra.append(("Set-Cookie", "seen=yes; Path=/"))
            elif "seen=yes" not in (self.headers.get("Cookie") or ""):
                self.send(400, "no cookie", "text/plain")
                return
            if i < 3:
                extra.append(("Link", f'<{self.server.base}/pages/{i + 1}>; rel="next"'))
            self.send(200, json.dumps([2 * i - 1, 2 * i]), extra=extra)
        elif head == "ppages":  # pages chosen by ?page=N
            p = int(parse_qs(url.query)["page"][0])
            self.send(200, json.dumps({"items": [p * 10, p * 10 + 1], "more": p < 3}))
        else:
            self.send(404, "not found", "text/plain")

    def digest_ok(self, user: str, password: str) -> bool:
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Digest "):
            return False
        f = parse_keqv_list(parse_http_list(auth[7:]))

        def md5(s: str) -> str:
            return hashlib.md5(s.encode()).hexdigest()

        ha1 = md5(f"{user}:{REALM}:{password}")
        ha2 = md5(f"{self.command}:{f.get('uri')}")
        want = md5(f"{ha1}:{NONCE}:{f.get('nc')}:{f.get('cnonce')}:auth:{ha2}")
        return f.get("username") == user and f.get("response") == want

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = route


@pytest.fixture(scope="module")
def web():
    srv = Target()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def tls_web(tmp_path_factory):
    """The same server over TLS, with a self-signed certificate for 127.0.0.1."""
    import ssl
    import subprocess

    d = tmp_path_factory.mktemp("tls")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = Target()
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "https" + srv.base[len("http"):]
    srv.shutdown()
    srv.server_close()


def error_of(query, conn):
    with pytest.raises(ReqlQueryLogicError) as info:
        query.run(conn)
    return info.value


def http_error(query, conn) -> str:
    e = error_of(query, conn)
    assert type(e) is ReqlNonExistenceError
    return e.message


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- requests --------------------------------------------------------------------------


def test_get_json_and_default_headers(conn, web):
    res = r.http(web.base + "/echo").run(conn)
    assert res["method"] == "GET" and res["path"] == "/echo"
    h = res["headers"]
    assert h["user-agent"] == "RethinkDB/2.4.4"
    assert h["accept"] == "*/*"
    assert h["accept-encoding"] == "deflate;q=1, gzip;q=0.5"
    assert "connection" not in h


def test_url_without_scheme_is_http(conn, web):
    assert r.http(web.base[len("http://"):] + "/echo")["path"].run(conn) == "/echo"


def test_params(conn, web):
    url = web.base + "/echo"
    res = r.http(url, params={"fake": 123, "things": "a b&c", "nil": None, "f": 0.1}).run(conn)
    assert res["path"] == "/echo?f=0.10000000000000000555&fake=123&nil=&things=a%20b%26c"
    res = r.http(url + "?dummy=true", params={"fake": 1}).run(conn)
    assert res["path"] == "/echo?dummy=true&fake=1"
    assert r.http(url, params={})["path"].run(conn) == "/echo"


def test_headers_object_and_array(conn, web):
    url = web.base + "/echo"
    h = r.http(url, header={"Test": "entry", "Accept-Encoding": "override", "Accept": None}).run(conn)["headers"]
    assert h["test"] == "entry" and h["accept-encoding"] == "override" and h["accept"] == "*/*"
    h = r.http(url, header=["Test: entry", "Accept:", "X-Empty;", "ignored"]).run(conn)["headers"]
    assert h["test"] == "entry" and "accept" not in h and h["x-empty"] == ""
    assert "ignored" not in h


def test_post_form_and_strings(conn, web):
    url = web.base + "/echo"
    res = r.http(url, method="POST", data={"str": "%in fo+", "number": 135.5, "nil": None}).run(conn)
    assert res["body"] == "nil=&number=135.5&str=%25in%20fo%2B"
    assert res["headers"]["content-type"] == "application/x-www-form-urlencoded"
    res = r.http(url, method="POST", data="a=b&b=c").run(conn)
    assert res["body"] == "a=b&b=c"
    assert res["headers"]["content-type"] == "application/x-www-form-urlencoded"
    res = r.http(url, method="POST", data='{"x":1}', header={"Content-Type": "application/json"}).run(conn)
    assert res["body"] == '{"x":1}' and res["headers"]["content-type"] == "application/json"
    res = r.http(url, method="POST").run(conn)
    assert res["body"] == "" and res["headers"]["content-length"] == "0"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_put_patch_delete(conn, web, method):
    url = web.base + "/echo"
    data = {"nested": {"arr": [123.45, ["a", 555]], "nil": None}, "time": r.epoch_time(1000)}
    res = r.http(url, method=method, data=data).run(conn)
    assert res["method"] == method
    assert res["headers"]["content-type"] == "application/json"
    sent = json.loads(res["body"])
    assert sent["nested"] == {"arr": [123.45, ["a", 555]], "nil": None}
    assert sent["time"]["$reql_type$"] == "TIME" and sent["time"]["epoch_time"] == 1000
    assert "\n\t" in res["body"]  # printed as RethinkDB prints datums
    res = r.http(url, method=method, data="<arbitrary> +%data!$%^</arbitrary>").run(conn)
    assert res["body"] == "<arbitrary> +%data!$%^</arbitrary>"
    assert "content-type" not in res["headers"]
    res = r.http(url, method=method, data=[1], header={"Content-Type": "text/x"}).run(conn)
    assert res["headers"]["content-type"] == "text/x"


def test_head(conn, web):
    assert r.http(web.base + "/echo", method="HEAD").run(conn) is None
    assert r.http(web.base + "/echo", method="HEAD", result_format="json").run(conn) is None


# -- results ---------------------------------------------------------------------------


def test_result_formats(conn, web):
    b = web.base
    assert r.http(b + "/text").run(conn) == "hello"
    assert r.http(b + "/text", result_format="text").run(conn) == "hello"
    assert r.http(b + "/png").run(conn) == PNG
    assert r.http(b + "/png").type_of().run(conn) == "PTYPE<BINARY>"
    assert r.http(b + "/echo", result_format="binary").slice(0, 1).run(conn) == b"{"
    assert r.http(b + "/echo", result_format="text").run(conn).startswith('{"method"')
    assert r.http(b + "/gzip").run(conn) == {"gzipped": True}
    t = r.http(b + "/rawjson", params={"b": '{"t": {"$reql_type$": "TIME", "epoch_time": 1, "timezone": "+00:00"}}'})
    assert t["t"].to_epoch_time().run(conn) == 1


def test_jsonp(conn, web):
    js = web.base + "/js"
    assert r.http(js, params={"b": 'cb({"a": 1});'}).run(conn) == {"a": 1}
    assert r.http(js, params={"b": '{"a": 2}'}).run(conn) == {"a": 2}
    assert r.http(js, params={"b": "var x = 1;"}).run(conn) == "var x = 1;"  # neither: text
    raw = web.base + "/raw"
    assert r.http(raw, params={"b": 'obj["x-y"]( [1,\n2] ) ;'}, result_format="jsonp").run(conn) == [1, 2]
    assert r.http(raw, params={"b": "a.b(null)"}, result_format="jsonp").run(conn) is None
    msg = http_error(r.http(raw, params={"b": "nope"}, result_format="jsonp"), conn)
    assert msg.startswith(f"Error in HTTP GET of `{raw}`: failed to parse JSONP response.\nheader:\n{{")
    assert msg.endswith('\nbody:\n"nope"')


def test_bad_json(conn, web):
    url = web.base + "/text"
    msg = http_error(r.http(url, result_format="json"), conn)
    assert msg.startswith(f"Error in HTTP GET of `{url}`: failed to parse JSON response: Invalid value..\nheader:\n{{\n")
    assert '\t"content-type":\t"text/plain; charset=utf-8"' in msg
    assert msg.endswith('\nbody:\n"hello"')
    url = web.base + "/rawjson"
    msg = http_error(r.http(url, params={"b": "[1,"}), conn)
    assert "failed to parse JSON response: Invalid value." in msg
    msg = http_error(r.http(url, params={"b": '{"a":1,"a":2}'}), conn)
    assert msg.startswith(f'Error in HTTP GET of `{url}`: Duplicate key "a" in JSON..\nheader:\n')


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [404, 500])
def test_status_errors(conn, web, code):
    url = f"{web.base}/status/{code}"
    msg = http_error(r.http(url, attempts=1), conn)
    assert msg.startswith(f"Error in HTTP GET of `{url}`: status code {code}.\nheader:\n{{\n")
    assert '\t"content-length":\t"10"' in msg
    assert msg.endswith(f'\nbody:\n"status {code}"')
    assert r.http(url, attempts=1).default("fallback").run(conn) == "fallback"


def test_unreachable_and_unsupported(conn, web):
    url = f"http://127.0.0.1:{free_port()}/"
    assert http_error(r.http(url, attempts=2), conn) == (
        f"Error in HTTP GET of `{url}`: could not connect to server.\nheader:\nnull\nbody:\nnull"
    )
    assert http_error(r.http("file:///etc/passwd"), conn) == (
        "Error in HTTP GET of `file:///etc/passwd`: Unsupported protocol.\nheader:\nnull\nbody:\nnull"
    )
    assert http_error(r.http("ftp.example.com/x"), conn).startswith(
        "Error in HTTP GET of `ftp.example.com/x`: Unsupported protocol."
    )
    assert http_error(r.http(web.base + "/echo", attempts=0), conn) == (
        f"Error in HTTP GET of `{web.base}/echo`: could not perform, no attempts allowed."
        "\nheader:\nnull\nbody:\nnull"
    )


def test_verify(conn, tls_web):
    url = tls_web + "/echo"
    for method in ("GET", "HEAD"):
        assert http_error(r.http(url, method=method), conn) == (
            f"Error in HTTP {method} of `{url}`: Peer certificate cannot be authenticated with "
            "given CA certificates.\nheader:\nnull\nbody:\nnull"
        )
    assert r.http(url, verify=False)["path"].run(conn) == "/echo"
    assert r.http(url, method="HEAD", verify=False).run(conn) is None


def test_redirects(conn, web):
    url = web.base + "/redirect/2"
    assert http_error(r.http(url, redirects=0), conn).startswith(
        f"Error in HTTP GET of `{url}`: status code 302.\nheader:\n"
    )
    assert http_error(r.http(url), conn) == (
        f"Error in HTTP GET of `{url}`: Number of redirects hit maximum amount.\nheader:\nnull\nbody:\nnull"
    )
    assert r.http(url, redirects=2).run(conn) == {"done": True, "method": "GET"}
    assert r.http(url, redirects=5, method="POST", data="x").run(conn)["method"] == "GET"


def test_basic_auth(conn, web):
    url = web.base + "/basic/azure/hunter2"
    ok = {"authenticated": True, "user": "azure"}
    assert r.http(url, auth={"type": "basic", "user": "azure", "pass": "hunter2"}).run(conn) == ok
    assert r.http(url, auth={"user": "azure", "pass": "hunter2"}).run(conn) == ok  # basic by default
    for auth in ({"user": "azure", "pass": "wrong"}, {"user": "fake", "pass": "hunter2"},
                 {"type": "digest", "user": "azure", "pass": "hunter2"}):
        assert http_error(r.http(url, auth=auth), conn).startswith(
            f"Error in HTTP GET of `{url}`: status code 401.\nheader:\n"
        )


def test_digest_auth(conn, web):
    url = web.base + "/digest/azure/hunter2"
    auth = {"type": "digest", "user": "azure", "pass": "hunter2"}
    assert r.http(url, auth=auth).run(conn) == {"authenticated": True, "user": "azure"}
    for bad in ({**auth, "pass": "wrong"}, {**auth, "type": "basic"}):
        assert http_error(r.http(url, auth=bad), conn).startswith(
            f"Error in HTTP GET of `{url}`: status code 401."
        )


def test_attempts_retry_temporary_failures(conn, web):
    key = uuid.uuid4().hex
    assert r.http(f"{web.base}/flaky/{key}/2/503").run(conn) == {"hits": 3}
    key = uuid.uuid4().hex
    url = f"{web.base}/flaky/{key}/9/500/body"
    msg = http_error(r.http(url, attempts=2), conn)
    # As with libcurl's write callback, the bodies of the attempts add up.
    assert msg.startswith(f"Error in HTTP GET of `{url}`: status code 500.\nheader:\n")
    assert msg.endswith('\nbody:\n"ee"')
    assert r.http(f"{web.base}/hits/{key}").run(conn) == 2
    key = uuid.uuid4().hex  # a 404 is final
    http_error(r.http(f"{web.base}/flaky/{key}/1/404"), conn)
    assert r.http(f"{web.base}/hits/{key}").run(conn) == 1


def test_timeout(conn, web):
    url = web.base + "/slow"
    t0 = time.perf_counter()
    assert http_error(r.http(url, timeout=0.3), conn) == (
        f"Error in HTTP GET of `{url}`: timed out after 0.300 seconds."
    )
    assert 0.25 < time.perf_counter() - t0 < 1.5
    assert http_error(r.http(url, method="PUT", timeout=0), conn) == (
        f"Error in HTTP PUT of `{url}`: timed out after 0.000 seconds."
    )
    # the timeout bounds every attempt together
    t0 = time.perf_counter()
    http_error(r.http(url, timeout=0.2, attempts=3), conn)
    assert time.perf_counter() - t0 < 1.0
    assert r.http(url, timeout=0.1).default("late").run(conn) == "late"


# -- optarg checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"method": "GETS"}, "`method` (GETS) is not recognized (GET, HEAD, POST, PUT, PATCH and DELETE are allowed)."),
        ({"result_format": "xml"}, "`result_format` (xml) is not recognized, ('auto', 'json', 'jsonp', 'text', and 'binary' are allowed)."),
        ({"params": [1]}, "Expected `params` to be an OBJECT, but found ARRAY:\n[\n\t1\n]"),
        ({"params": {"a": 1, "b": [2]}}, "Expected `params.b` to be a NUMBER, STRING or NULL, but found ARRAY:\n[\n\t2\n]"),
        ({"header": 5}, "Expected `header` to be an ARRAY or OBJECT, but found NUMBER."),
        ({"header": {"a": 5}}, "Expected `header.a` to be a STRING or NULL, but found NUMBER."),
        ({"header": ["a: b", 5]}, "Expected `header[1]` to be a STRING, but found NUMBER."),
        ({"header": ["a: b\r\nc: d"]}, "A `header` item contains newline characters."),
        ({"header": {"a": "b\nc"}}, "A `header` item contains newline characters."),
        ({"timeout": -1}, "`timeout` may not be negative."),
        ({"timeout": "x"}, "Expected type NUMBER but found STRING."),
        ({"attempts": 1.5}, "Number not an integer: 1.5"),
        ({"redirects": -1}, "Integer too large: -1"),
        ({"redirects": 2**32}, "Integer too large: 4294967296"),
        ({"verify": 1}, "Expected type BOOL but found NUMBER."),
        ({"auth": "x"}, "Expected `auth` to be an OBJECT, but found STRING."),
        ({"auth": {"type": 1, "user": "u", "pass": "p"}}, "Expected `auth.type` to be a STRING, but found OBJECT."),
        ({"auth": {"pass": "p"}}, "`auth.user` not found in the auth object."),
        ({"auth": {"user": "u"}}, "`auth.pass` not found in the auth object."),
        ({"auth": {"user": "u", "pass": 1}}, "Expected `auth.pass` to be a STRING, but found NUMBER."),
        ({"auth": {"type": "ntlm", "user": "u", "pass": "p"}}, "`auth.type` is not recognized ('basic', and 'digest' are allowed)."),
        ({"data": {"a": 1}}, "`data` should only be specified on a PUT, POST, PATCH, or DELETE request.  If you want URL parameters, use `params` instead."),
        ({"method": "HEAD", "data": "x"}, "`data` should only be specified on a PUT, POST, PATCH, or DELETE request.  If you want URL parameters, use `params` instead."),
        ({"method": "POST", "data": [1]}, "Expected `data` to be a STRING or OBJECT, but found ARRAY."),
        ({"method": "POST", "data": {"a": {"b": 1}}}, "Expected `data.a` to be a NUMBER, STRING or NULL, but found OBJECT."),
        ({"page": "link-next"}, "Cannot use `page` without specifying `page_limit` (a positive number performs that many requests, -1 is unlimited)."),
        ({"page": "foo", "page_limit": 1}, "`page` method 'foo' not recognized, only 'link-next' is available."),
        ({"page": 5, "page_limit": 1}, "Expected type STRING but found NUMBER."),
        ({"page": "link-next", "page_limit": -2}, "`page_limit` should be greater than or equal to -1."),
        ({"page": "link-next", "page_limit": 0.5}, "Number not an integer: 0.5"),
    ],
)
def test_optarg_errors(conn, web, opts, message):
    e = error_of(r.http(web.base + "/echo", **opts), conn)
    assert type(e) is ReqlQueryLogicError
    assert e.message == message


def test_optargs_are_checked_in_rethinkdbs_order(conn, web):
    e = error_of(r.http(web.base, auth=1, method="X", params=1), conn)
    assert e.message == "Expected `auth` to be an OBJECT, but found NUMBER."
    e = error_of(r.http(web.base, method="X", params=1), conn)
    assert e.message.startswith("`method` (X)")
    e = error_of(r.http(1), conn)
    assert e.message == "Expected type STRING but found NUMBER."
    e = error_of(r.http(web.base, params=1, header=1), conn)
    assert e.message.startswith("Expected `params`")


def test_null_page_makes_one_request(conn, web):
    assert r.http(web.base + "/pages/1", page=None, page_limit=5).run(conn) == [1, 2]


# -- pagination ------------------------------------------------------------------------


def test_link_next_pagination(conn, web):
    url = web.base + "/pages/1"
    assert list(r.http(url, page="link-next", page_limit=-1).run(conn)) == [1, 2, 3, 4, 5, 6]
    assert list(r.http(url, page="link-next", page_limit=2).run(conn)) == [1, 2, 3, 4]
    assert list(r.http(url, page="link-next", page_limit=1).run(conn)) == [1, 2]
    assert list(r.http(url, page="link-next", page_limit=0).run(conn)) == []
    assert r.http(url, page="link-next", page_limit=-1).type_of().run(conn) == "STREAM"
    assert r.http(url, page="link-next", page_limit=-1).count().run(conn) == 6
    assert list(r.http(url, page="link-next", page_limit=-1).map(r.row * 10).limit(3).run(conn)) == [10, 20, 30]
    e = error_of(r.http(url, page="link-next", page_limit=-1).changes(), conn)
    assert e.message == "Cannot call `changes` on an HTTP stream."


def test_function_pagination(conn, web):
    url = web.base + "/ppages"

    def next_page(info):
        return r.branch(info["body"]["more"], {"params": {"page": info["params"]["page"].add(1)}}, None)

    res = r.http(url, params={"page": 1}, page=next_page, page_limit=-1).concat_map(r.row["items"])
    assert list(res.run(conn)) == [10, 11, 20, 21, 30, 31]
    # a URL string (or an object with `url`) moves on; null stops
    to_pages = r.http(web.base + "/pages/1", page=lambda info: r.branch(
        info["body"][0].lt(5), info["header"]["link"]['rel="next"'], None), page_limit=10)
    assert list(to_pages.run(conn)) == [1, 2, 3, 4, 5, 6]
    objs = r.http(web.base + "/pages/1", page=lambda info: r.branch(
        info["body"][0].lt(3), {"url": info["header"]["link"]['rel="next"']}, {"url": None}), page_limit=10)
    assert list(objs.run(conn)) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("page", "why", "kind"),
    [
        (lambda info: 5, "Expected `page` to return an OBJECT, but found NUMBER.", ReqlQueryLogicError),
        (lambda info: {"x": 1}, "OBJECT returned by `page` must contain `url` and/or `params` fields.", ReqlQueryLogicError),
        (lambda info: {"url": 1}, "Expected `url` in OBJECT returned by `page` to be a STRING or NULL, but found NUMBER.", ReqlQueryLogicError),
        (lambda info: {"params": {"a": [1]}}, "Expected `params.a` to be a NUMBER, STRING or NULL, but found ARRAY:\n[\n\t1\n]", ReqlQueryLogicError),
        (lambda info: info["nope"], "No attribute `nope` in object:", ReqlNonExistenceError),
    ],
)
def test_page_function_errors(conn, web, page, why, kind):
    url = web.base + "/pages/1"
    e = error_of(r.http(url, page=page, page_limit=-1), conn)
    assert type(e) is kind
    assert e.message.startswith(f"Error in HTTP GET of `{url}`: {why}")
    assert "\nError occurred during `page` called with:\n{\n\t\"body\":\t[\n\t\t1,\n\t\t2\n\t],\n" in e.message
    assert '\t"params":\t{}\n}\n' in e.message and e.message.endswith("}\n")


def test_page_errors_of_later_requests(conn, web):
    # an error of a later page names that page's URL
    url = web.base + "/ppages"
    bad = r.http(url, params={"page": 1}, page=lambda info: web.base + "/status/418", page_limit=3)
    msg = http_error(bad, conn)
    assert msg.startswith(f"Error in HTTP GET of `{web.base}/status/418`: status code 418.")


# -- determinism, permissions, cancellation ----------------------------------------------


def test_writes_need_non_atomic(conn, db, web):
    r.db(db).table_create("t").run(conn)
    t = r.db(db).table("t")
    assert t.insert({"id": 1, "page": r.http(web.base + "/text")}).run(conn)["inserted"] == 1
    e = error_of(t.get(1).update({"x": r.http(web.base + "/text")}), conn)
    assert e.message == "Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?"
    assert t.get(1).update({"x": r.http(web.base + "/text")}, non_atomic=True).run(conn)["replaced"] == 1
    assert t.get(1)["x"].run(conn) == "hello"
    e = error_of(t.index_create("i", lambda d: r.http(web.base + "/text")), conn)
    assert "deterministic" in e.message


def test_connect_permission(conn, server, web):
    name = "u" + uuid.uuid4().hex[:8]
    r.db("rethinkdb").table("users").insert({"id": name, "password": ""}).run(conn)
    try:
        c = r.connect("127.0.0.1", server.port, user=name, password="")
        try:
            with pytest.raises(ReqlPermissionError) as info:
                r.http(web.base + "/text").run(c)
            assert info.value.message == f"User `{name}` does not have the required `$connect` permissions"
            r.grant(name, {"connect": True}).run(conn)
            assert r.http(web.base + "/text").run(c) == "hello"
        finally:
            c.close()
    finally:
        r.db("rethinkdb").table("users").get(name).delete().run(conn)


def test_stop_cancels_the_request(conn, server, web):
    web.slow_started.clear()
    web.slow_dropped.clear()
    s = handshake(server.port)
    try:
        send_query(s, 1, json.dumps([1, [153, [web.base + "/slow"], {}], {}]).encode())
        assert web.slow_started.wait(3)
        t0 = time.perf_counter()
        send_query(s, 1, b"[3]")
        token, resp = read_response(s)
        assert token == 1 and resp["t"] == 2 and resp["r"] == []
        assert time.perf_counter() - t0 < 0.5
        assert web.slow_dropped.wait(2)  # the request itself was cancelled
        send_query(s, 2, b"[1, [24, [1, 2]], {}]")
        assert read_response(s) == (2, {"t": 1, "r": [3]})
    finally:
        s.close()
    assert r.http(web.base + "/text").run(conn) == "hello"


def test_disconnect_cancels_the_request(conn, server, web):
    web.slow_started.clear()
    web.slow_dropped.clear()
    s = handshake(server.port)
    send_query(s, 1, json.dumps([1, [153, [web.base + "/slow"], {}], {}]).encode())
    assert web.slow_started.wait(3)
    s.close()
    assert web.slow_dropped.wait(2)
    assert r.http(web.base + "/text").run(conn) == "hello"


# -- helpers, in process -----------------------------------------------------------------


def test_url_with_params_rules():
    p = {"a": 1}
    assert H.url_with_params("example.org", p) == "example.org/?a=1"
    # (RethinkDB's comment promises "?id=0&" here, but its code appends nothing)
    assert H.url_with_params("example.org?id=0", p) == "example.org?id=0a=1"
    assert H.url_with_params("example.org/page", p) == "example.org/page?a=1"
    assert H.url_with_params("example.org/page?id=0", p) == "example.org/page?id=0&a=1"
    assert H.url_with_params("example.org/page?id=0/page", p) == "example.org/page?id=0/page?a=1"
    assert H.url_with_params("example.org", {}) == "example.org"
    assert H.url_with_params("x/", {"k é": "ü~-._*", "n": -1.5e300}) == (
        "x/?k%20%C3%A9=%C3%BC~-._%2A&n=-1.5000000000000000788e%2B300"
    )


def test_absolute_url_guesses_like_curl():
    assert H.absolute_url("example.org/x") == "http://example.org/x"
    assert H.absolute_url("HTTPS://example.org") == "HTTPS://example.org"
    for url in ("ftp.example.org", "imap.x", "file:///x", "gopher://x"):
        with pytest.raises(H._Failure, match="Unsupported protocol"):
            H.absolute_url(url)


def test_custom_header_lines():
    assert H.custom_headers(["A: b ", "C:", "D;", "E; x", "F", "G:  h: i"]) == [
        ("A", "b"), ("C", None), ("D", ""), ("G", "h: i"),
    ]


def test_link_headers():
    raw = [(b"Link", b'<http://a/2>; rel="next", <http://a/9>; rel="last"'), (b"X-Y", b"1"),
           (b"link", b"<http://a/1>;rel=first")]
    assert H.parse_header(raw) == {
        "x-y": "1",
        "link": {'rel="next"': "http://a/2", 'rel="last"': "http://a/9", "rel=first": "http://a/1"},
    }
    assert H.parse_header([]) == {}
    with pytest.raises(H._Failure, match="failed to parse link header line: '<http://a>'"):
        H.parse_header([(b"Link", b"<http://a>")])


def test_jsonp_forms():
    assert H.jsonp_payload("f(1)") == "1"
    assert H.jsonp_payload(" $a_1 ( {\"x\":\n[]} ) ; ") == ' {"x":\n[]} '
    assert H.jsonp_payload("ns.fn([1])") == "[1]"
    assert H.jsonp_payload("ns['fn-x']([1]);") == "[1]"
    assert H.jsonp_payload("élan(2)") == "2"
    assert H.jsonp_payload("1f(2)") is None
    assert H.jsonp_payload("f(2) g") is None
