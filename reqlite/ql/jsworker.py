"""The JavaScript worker process behind ``r.js``: QuickJS (the ``quickjs`` package) in a
child process, fed requests over its stdin and answering on its stdout.

Like RethinkDB's extproc workers, JavaScript never runs inside the server process: a
runaway loop is cut off by killing the worker (the server enforces the wall-clock
``timeout`` and cancellation), a runaway allocation hits QuickJS's memory limit (and
an address-space limit as a second fence), and a crash of the engine costs one worker,
not the server. This file is run as a script (``python jsworker.py``) and imports
nothing from reqlite, so a worker starts in a few tens of milliseconds.

Protocol: frames of a 4-byte big-endian length and a body. A request body is the JSON
array ``[op, source, args_json, timeout_seconds, array_limit]`` with ``op`` either
``"eval"`` (evaluate ``source``) or ``"call"`` (call the function ``source`` evaluates
to with the arguments in ``args_json``, a JSON array whose TIME pseudo-types become
Dates). A reply body is one tag byte and a UTF-8 payload:

- ``d`` the result as JSON (already checked the way RethinkDB's ``js_to_datum`` checks it)
- ``D`` the same, with each -0 written as the string ``NEGATIVE_ZERO``
- ``f`` the source evaluated to a function (the payload is its ``length``)
- ``e`` RethinkDB's error message (a JavaScript exception as ``String(e)``, or a
  conversion error)
- ``t`` QuickJS's own CPU-time backstop interrupted the code (the server's wall-clock
  timeout normally fires first)
- ``x`` the engine failed in a way that leaves it suspect; the worker exits after replying

Every evaluation gets a fresh QuickJS runtime, as RethinkDB gives each one a clean
context. A source that evaluates to a function keeps its runtime in a small cache so
that calling it (once per element of a ``map``) does not evaluate it again; state the
function keeps in its closure lives as long as that cache entry.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import OrderedDict

import orjson
import quickjs

MEMORY_LIMIT = int(os.environ.get("REQLITE_JS_MEMORY_LIMIT", str(256 * 1024 * 1024)))
MAX_STACK = 1024 * 1024
CACHE_SIZE = 32
NEGATIVE_ZERO = "\ue000reqlite:-0\ue000"  # must match the harness

# Installed in every fresh context before the user's code runs: it captures the
# built-ins it needs (so user code replacing JSON or Array cannot confuse it), evaluates
# the source as a global script, converts values both ways with RethinkDB's rules, and
# answers with a tagged string (tag character + payload).
HARNESS = r"""
(function () {
  var geval = eval;
  var jparse = JSON.parse, jstringify = JSON.stringify, isArray = Array.isArray;
  var uncurry = Function.prototype.bind.bind(Function.prototype.call);
  var toTag = uncurry(Object.prototype.toString);
  var getTime = uncurry(Date.prototype.getTime);
  var reTest = uncurry(RegExp.prototype.test);
  var charCodeAt = uncurry(String.prototype.charCodeAt);
  var fromCharCode = String.fromCharCode;
  var rapply = Reflect.apply, objCreate = Object.create, toString = String;
  var DateCtor = Date, isFiniteNumber = Number.isFinite;
  var SURROGATE = /[\ud800-\udfff]/;
  var TIME_KEY = "$reql_type$";
  var fn = null;
  // JSON has no -0: it travels as this string, and a "D" answer says to look for it.
  var NEGATIVE_ZERO = "\ue000reqlite:-0\ue000", negativeZero = false;

  function Fail(message) { this.message = message; }

  // Lone surrogates cannot be UTF-8: RethinkDB's conversion writes U+FFFD for them.
  function wellFormed(s) {
    if (!reTest(SURROGATE, s)) return s;
    var out = "", n = s.length;
    for (var i = 0; i < n; i++) {
      var c = charCodeAt(s, i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        var d = charCodeAt(s, i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { out += fromCharCode(c, d); i++; continue; }
      }
      out += (c >= 0xd800 && c <= 0xdfff) ? "\ufffd" : fromCharCode(c);
    }
    return out;
  }

  function toDatum(v, depth, arrayLimit) {
    if (depth === 0) throw new Fail("Recursion limit exceeded in js_to_json (circular reference?).");
    depth--;
    switch (typeof v) {
      case "string": return wellFormed(v);
      case "number":
        if (!isFiniteNumber(v)) throw new Fail("Number return value is not finite.");
        if (v === 0 && 1 / v < 0) { negativeZero = true; return NEGATIVE_ZERO; }
        return v;
      case "boolean": return v;
      case "undefined": throw new Fail("Cannot convert javascript `undefined` to ql::datum_t.");
      case "function": throw new Fail("Cannot convert function to ql::datum_t.");
      case "object": break;
      default: throw new Fail("Unrecognized value type when converting to ql::datum_t.");
    }
    if (v === null) return null;
    if (isArray(v)) {
      var n = v.length, arr = [];
      for (var i = 0; i < n; i++) arr[i] = toDatum(v[i], depth, arrayLimit);
      if (n > arrayLimit) {
        throw new Fail("Array over size limit `" + arrayLimit + "`.  To raise the number of " +
          "allowed elements, modify the `array_limit` option to `.run` (not available in " +
          "the Data Explorer), or use an index.");
      }
      return arr;
    }
    var tag = toTag(v);
    if (tag === "[object RegExp]") throw new Fail("Cannot convert RegExp to ql::datum_t.");
    if (tag === "[object Date]") {
      var t = objCreate(null);
      t[TIME_KEY] = "TIME";
      t.epoch_time = getTime(v) / 1000;
      t.timezone = "+00:00";
      return t;
    }
    var obj = objCreate(null);
    for (var k in v) obj[wellFormed(k)] = toDatum(v[k], depth, arrayLimit);
    return obj;
  }

  function reviveTimes(key, value) {
    if (value !== null && typeof value === "object" && !isArray(value) &&
        value[TIME_KEY] === "TIME") {
      return new DateCtor(value.epoch_time * 1000);
    }
    return value;
  }

  function answer(v, arrayLimit) {
    negativeZero = false;
    var text = jstringify(toDatum(v, 500, arrayLimit));
    return (negativeZero ? "D" : "d") + text;
  }

  function errorText(e) {
    if (e instanceof Fail) return e.message;
    try { return wellFormed(toString(e)); } catch (e2) { return "encountered an unknown exception"; }
  }

  return function (op, text, arrayLimit) {
    try {
      if (op === "eval") {
        var v = geval(jparse(text));
        if (typeof v === "function") {
          fn = v;
          var len = v.length;
          return "f" + (typeof len === "number" ? len : 0);
        }
        return answer(v, arrayLimit);
      }
      var r = rapply(fn, {}, jparse(text, reviveTimes));
      if (typeof r === "function") return "eReturning functions from within `r.js` is unsupported.";
      return answer(r, arrayLimit);
    } catch (e) {
      return "e" + errorText(e);
    }
  };
})()
"""


class Fatal(Exception):
    """The engine misbehaved; reply and let the server start a fresh worker."""


_cache: OrderedDict[str, object] = OrderedDict()


def _new_runtime() -> object:
    ctx = quickjs.Context()
    ctx.set_memory_limit(MEMORY_LIMIT)
    ctx.set_max_stack_size(MAX_STACK)
    return ctx, ctx.eval(HARNESS)


def _run(entry: tuple, op: str, text: str, timeout: float, array_limit: int) -> str:
    ctx, dispatch = entry
    # A CPU-time backstop (clock() of this single-threaded worker never runs ahead of
    # the wall clock the server enforces); it also stops a worker whose server is gone.
    ctx.set_time_limit(min(timeout + 1.0, 1e9))
    try:
        out = dispatch(op, text, array_limit)
    except quickjs.JSException as exc:
        first = str(exc).split("\n", 1)[0]
        if "interrupted" in first:
            raise TimeoutError from None
        raise Fatal(first) from None
    if not isinstance(out, str) or not out:
        raise Fatal("unexpected answer from the JavaScript harness")
    return out


def handle(req: list) -> tuple[bytes, str]:
    op, source, args_json, timeout, array_limit = req
    try:
        if op == "eval":
            entry = _new_runtime()
            out = _run(entry, "eval", orjson.dumps(source).decode(), timeout, array_limit)
            if out[0] == "f":
                _remember(source, entry)
            return out[0].encode(), out[1:]
        entry = _cache.get(source)
        if entry is None:
            entry = _new_runtime()
            out = _run(entry, "eval", orjson.dumps(source).decode(), timeout, array_limit)
            if out[0] == "e":
                return b"e", out[1:]
            if out[0] != "f":
                return b"e", "Javascript query did not evaluate to a function."
            _remember(source, entry)
        else:
            _cache.move_to_end(source)
        out = _run(entry, "call", args_json, timeout, array_limit)
        return out[0].encode(), out[1:]
    except TimeoutError:
        _cache.pop(source, None)
        return b"t", ""
    except Fatal as exc:
        return b"x", str(exc)


def _remember(source: str, entry: object) -> None:
    _cache[source] = entry
    _cache.move_to_end(source)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)


def _watch_parent(parent: int) -> None:
    """Exit when the server goes away, even in the middle of a long evaluation."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _limit_address_space() -> None:
    try:
        import resource

        extra = 1024 * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = MEMORY_LIMIT + extra
        if hard == resource.RLIM_INFINITY or hard >= want:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        pass


def _read_exact(stream, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main() -> None:
    _limit_address_space()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    while True:
        header = _read_exact(stdin, 4)
        if header is None:
            return
        body = _read_exact(stdin, int.from_bytes(header, "big"))
        if body is None:
            return
        try:
            tag, payload = handle(orjson.loads(body))
        except MemoryError:
            tag, payload = b"x", "out of memory"
        data = tag + payload.encode("utf-8", "replace")
        stdout.write(len(data).to_bytes(4, "big") + data)
        stdout.flush()
        if tag == b"x":
            return


if __name__ == "__main__":
    main()
