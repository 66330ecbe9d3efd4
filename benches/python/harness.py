"""The measuring side of the benchmark: runs inside one library's venv (stdlib only).

    python harness.py worker  --app po2      JSON lines in on stdin, JSON lines out on stdout
    python harness.py memory  --app po2 --tokens 1000000
    python harness.py serve   --app po2 --server cheroot --port 8123 --threads 4

``--app`` names a module of ``apps/`` (po2, authlib_app, oauthlib_app, canned). The orchestrator
(run.py) keeps one worker per library alive and asks each in turn, so that libraries interleave.

Every measured request goes through the app's WSGI callable exactly as a WSGI server would call
it (fresh environ, wsgi.input, start_response, the iterable joined and closed), and every
response is checked: status, an access token, token_type Bearer, a refresh token where the chain
needs one, the authorize redirect's Location with its code and state. A failed check aborts the
measurement with an error, so a broken path can never be reported as fast.

Only what every WSGI server does is inside the clock. The responses are kept and checked in full
(JSON parsed, the redirect's query parsed) after the clock stops; where the next request needs a
value of the last response (the refresh chain's next refresh token, the code of the authorize
leg), the loop finds it with one regular-expression scan, and the full check afterwards verifies
that the value the loop spent is the one the full parse finds. A value the scan cannot take as
it is (escaped in the JSON, or in need of encoding) is parsed in full inside the loop instead.
"""

import argparse
import gc
import importlib
import io
import json
import os
import platform
import re
import sys
import threading
import time
from urllib.parse import parse_qs, quote, unquote_plus

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402


class CheckFailed(Exception):
    pass


def _form(**fields):
    return "&".join("%s=%s" % (key, quote(value, safe="")) for key, value in fields.items()
                    ).encode()


CLIENT = {"client_id": common.CLIENT_ID, "client_secret": common.CLIENT_SECRET}
CC_BODY = _form(grant_type="client_credentials", **CLIENT)
PASSWORD_BODY = _form(grant_type="password", username=common.USERNAME,
                      password=common.PASSWORD, **CLIENT)
STATE = "st4te-xyz"
AUTHORIZE_QUERY = "response_type=code&client_id=%s&redirect_uri=%s&state=%s" % (
    quote(common.CLIENT_ID, safe=""), quote(common.REDIRECT_URI, safe=""), STATE)
CODE_PREFIX = _form(grant_type="authorization_code", redirect_uri=common.REDIRECT_URI,
                    **CLIENT) + b"&code="
REFRESH_PREFIX = _form(grant_type="refresh_token", **CLIENT) + b"&refresh_token="

_BASE_ENVIRON = {
    "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "127.0.0.1:8080", "SCRIPT_NAME": "", "REMOTE_ADDR": "127.0.0.1",
    "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
    "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
}


def base_environ(method, path, query="", body=None):
    """The environ entries that are the same for every request of one kind; ``body`` given (even
    empty) fixes CONTENT_LENGTH too, None leaves it to each request."""
    environ = dict(_BASE_ENVIRON)
    environ["REQUEST_METHOD"] = method
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    if body:
        environ["CONTENT_TYPE"] = common.FORM
        environ["CONTENT_LENGTH"] = str(len(body))
    elif body is None:
        environ["CONTENT_TYPE"] = common.FORM
    return environ


def serve_one(app, environ):
    """What a WSGI server does with one request's environ: call the app with a start_response,
    join the iterable, close it. Returns (status line, headers, body bytes)."""
    started = []

    def start_response(status, headers, exc_info=None):
        started.append((status, headers))

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return status, headers, data


def call(app, method, path, query="", body=b""):
    """One request through the WSGI callable; returns (status line, headers, body bytes)."""
    environ = base_environ(method, path, query, body)
    environ["wsgi.input"] = io.BytesIO(body)
    return serve_one(app, environ)


def check_token(status, data, want_refresh=False):
    """The check every token response passes: 200, JSON, an access token, token_type Bearer."""
    if not status.startswith("200"):
        raise CheckFailed("status %r, body %r" % (status, data[:200]))
    try:
        token = json.loads(data)
    except ValueError:
        raise CheckFailed("token response is not JSON: %r" % data[:200])
    if not isinstance(token, dict):
        raise CheckFailed("token response is not a JSON object: %r" % data[:200])
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise CheckFailed("no access_token in %r" % data[:200])
    if str(token.get("token_type", "")).lower() != "bearer":
        raise CheckFailed("token_type is not Bearer in %r" % data[:200])
    if want_refresh and (not isinstance(token.get("refresh_token"), str)
                         or not token["refresh_token"]):
        raise CheckFailed("no refresh_token in %r" % data[:200])
    return token


def _location(headers):
    location = None
    for name, value in headers:
        if name.lower() == "location":
            location = value
    return location


def check_redirect(status, headers, code=None):
    """The check every authorize response passes: a 302 to the client's redirect URI whose query
    (parsed in full) carries one code and the state; ``code``, when given, is the value the
    driver took from it with its cheap scan and must be the same. Returns the code."""
    if not status.startswith("302"):
        raise CheckFailed("authorize: status %r" % (status,))
    location = _location(headers)
    if location is None or not location.startswith(common.REDIRECT_URI + "?"):
        raise CheckFailed("authorize: bad Location %r" % (location,))
    query = parse_qs(location[len(common.REDIRECT_URI) + 1:].partition("#")[0],
                     keep_blank_values=True)
    if query.get("state") != [STATE]:
        raise CheckFailed("authorize: bad Location %r" % (location,))
    codes = query.get("code")
    if not codes or len(codes) != 1 or not codes[0]:
        raise CheckFailed("authorize: no code in %r" % (location,))
    if code is not None and code != codes[0]:
        raise CheckFailed("authorize: the driver read code %r from %r" % (code, location))
    return codes[0]


# The fast paths below take a code or refresh token only when it is made of characters that
# stand unencoded in a form value (so it is its own encoding); anything else takes the slow path,
# the full parse and quoting, inside the loop. Either way the full check runs afterwards.
_CODE = re.compile(r"[?&]code=([A-Za-z0-9._~-]+)(?:[&#]|$)")
_REFRESH = re.compile(rb'"refresh_token"[ \t\r\n]*:[ \t\r\n]*"([A-Za-z0-9._~-]+)"')


def scan_code(headers):
    """The code of an authorize redirect, found without parsing the URL (the clock is running):
    the Location's ``code=`` parameter when it needs no encoding, or None."""
    location = None
    for name, value in headers:
        if name == "Location":
            location = value
    if location is None:
        location = _location(headers)
        if location is None:
            return None
    found = _CODE.search(location)
    return None if found is None else found.group(1)


def code_form_value(status, headers):
    """The slow path of scan_code: the code from the fully parsed redirect (which checks it),
    form-encoded for the token request."""
    return quote(check_redirect(status, headers), safe="")


def scan_refresh_token(data):
    """The refresh token of a token response, found without parsing the JSON (the clock is
    running): the bytes of the ``"refresh_token"`` string when it needs no encoding, or None."""
    found = _REFRESH.search(data)
    return None if found is None else found.group(1)


class Workload:
    """One op of a workload. ``step`` makes the op's requests with only the cheap work the next
    request needs inside it, and returns a record; ``check`` checks one record in full (after the
    clock stopped)."""

    def __init__(self, app):
        self.app = app

    def prepare(self):
        pass


class _FixedToken(Workload):
    body = b""

    def __init__(self, app):
        Workload.__init__(self, app)
        self.base = base_environ("POST", common.TOKEN_PATH, body=self.body)

    def step(self):
        environ = self.base.copy()
        environ["wsgi.input"] = io.BytesIO(self.body)
        status, _, data = serve_one(self.app, environ)
        return status, data

    def check(self, record):
        check_token(*record)


class ClientCredentials(_FixedToken):
    body = CC_BODY


class Password(_FixedToken):
    body = PASSWORD_BODY


class AuthorizationCode(Workload):
    """Both legs: GET /authorize (auto-approved) and POST /token with the code."""

    def __init__(self, app):
        Workload.__init__(self, app)
        self.authorize_base = base_environ("GET", common.AUTHORIZE_PATH, AUTHORIZE_QUERY, b"")
        self.token_base = base_environ("POST", common.TOKEN_PATH)

    def step(self):
        app = self.app
        environ = self.authorize_base.copy()
        environ["wsgi.input"] = io.BytesIO(b"")
        auth_status, auth_headers, _ = serve_one(app, environ)
        code = scan_code(auth_headers)
        if code is None:
            code = code_form_value(auth_status, auth_headers)
        body = CODE_PREFIX + code.encode()
        environ = self.token_base.copy()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        status, _, data = serve_one(app, environ)
        return auth_status, auth_headers, code, status, data

    def check(self, record):
        auth_status, auth_headers, code, status, data = record
        # The code sent is the one the redirect carries (form-decoded as the server decodes it).
        check_redirect(auth_status, auth_headers, unquote_plus(code))
        check_token(status, data)


class Refresh(Workload):
    """A chain of refreshes with rotation: each op spends the refresh token the last one got."""

    def __init__(self, app):
        Workload.__init__(self, app)
        self.base = base_environ("POST", common.TOKEN_PATH)

    def prepare(self):
        status, _, data = call(self.app, "POST", common.TOKEN_PATH, body=PASSWORD_BODY)
        token = check_token(status, data, want_refresh=True)["refresh_token"]
        self.refresh_token = quote(token, safe="").encode()

    def step(self):
        body = REFRESH_PREFIX + self.refresh_token
        environ = self.base.copy()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        status, _, data = serve_one(self.app, environ)
        token = scan_refresh_token(data)
        if token is None:
            # Escaped, in need of encoding, or missing: the full check now (which says what is
            # wrong when the chain cannot go on).
            token = quote(check_token(status, data, want_refresh=True)["refresh_token"],
                          safe="").encode()
        self.refresh_token = token
        return status, data, token

    def check(self, record):
        status, data, sent_next = record
        parsed = check_token(status, data, want_refresh=True)
        # The token the next request spent is the one this response carries.
        if quote(parsed["refresh_token"], safe="").encode() != sent_next:
            raise CheckFailed("the driver read refresh token %r from %r" % (sent_next, data[:200]))


WORKLOADS = {"client_credentials": ClientCredentials, "password": Password,
             "authorization_code": AuthorizationCode, "refresh": Refresh}


def check_all(work, records):
    check = work.check
    for record in records:
        check(record)


def measure(make_app, workload, requests, warmup=300):
    """Serve ``requests`` requests of one workload on a fresh app, after ``warmup`` more that are
    checked and dropped; µs per request. Every library serves the same number of requests, so
    every store ends a round holding the same number of tokens: a round of fixed duration would
    measure a faster library on a larger store, whose inserts miss the caches more often."""
    app = make_app()
    work = WORKLOADS[workload](app)
    work.prepare()
    step = work.step
    responses = [step() for _ in range(warmup)]
    check_all(work, responses)
    responses.clear()
    gc.collect()
    append = responses.append
    started = time.perf_counter()
    for _ in range(requests):
        append(step())
    elapsed = time.perf_counter() - started
    # Checked after the clock stopped, every one of them.
    check_all(work, responses)
    return {"us_per_op": elapsed / requests * 1e6, "ops": requests, "seconds": elapsed}


def measure_threads(make_app, workload, threads, duration):
    """``threads`` threads drive one shared app for ``duration`` seconds; total ops/s."""
    app = make_app()
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    finished = [0.0] * threads
    errors = []
    stop = threading.Event()

    def run(index):
        work = WORKLOADS[workload](app)
        try:
            work.prepare()
            barrier.wait()
            responses = []
            done = 0
            while not stop.is_set():
                for _ in range(20):
                    responses.append(work.step())
                done += 20
            counts[index] = done
            finished[index] = time.perf_counter()
            check_all(work, responses)
        except BaseException as error:  # reported to the orchestrator, never swallowed
            errors.append(repr(error))
            counts[index] = 0
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    time.sleep(duration)
    stop.set()
    for thread in pool:
        thread.join()
    # Each thread stops the clock for itself before it checks its responses.
    elapsed = max(finished) - started
    if errors:
        raise CheckFailed("; ".join(errors))
    total = sum(counts)
    return {"ops_per_s": total / elapsed, "ops": total, "seconds": elapsed, "threads": threads}


def load_app_module(name):
    return importlib.import_module("apps." + name)


def info(module):
    return {"library": module.library_version(), "python": platform.python_version(),
            "implementation": platform.python_implementation()}


def worker(args):
    module = load_app_module(args.app)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        try:
            command = request["cmd"]
            if command == "info":
                reply = info(module)
            elif command == "inproc":
                reply = measure(module.make_app, request["workload"], request["requests"])
            elif command == "threads":
                make_app = module.make_app
                if request.get("store") == "redis":
                    make_app = module.make_app_redis
                reply = measure_threads(make_app, request["workload"],
                                        request["threads"], request["duration"])
            elif command == "check":
                # One op of every workload, checked, before anything is timed.
                app = module.make_app()
                for workload in WORKLOADS:
                    work = WORKLOADS[workload](app)
                    work.prepare()
                    work.check(work.step())
                reply = {"ok": True}
            else:
                reply = {"error": "unknown command %r" % command}
        except Exception as error:
            reply = {"error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _status_kib(field):
    """A size from /proc/self/status: VmRSS (resident now) or VmHWM (the peak resident size)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise CheckFailed("no %s in /proc/self/status" % field)


def memory(args):
    module = load_app_module(args.app)
    gc.collect()
    baseline = _status_kib("VmRSS")
    started = time.perf_counter()
    store, last_refresh = module.fill_token_store(args.tokens, int(time.time()) + 3600)
    elapsed = time.perf_counter() - started
    gc.collect()
    live = _status_kib("VmRSS")
    peak = _status_kib("VmHWM")
    # The tokens are really there: the last one saved is fetched back by its refresh token.
    if store.fetch_by_refresh_token(last_refresh).refresh_token != last_refresh:
        raise CheckFailed("the last token saved cannot be fetched back")
    print(json.dumps({"library": module.library_version(), "tokens": args.tokens,
                      "baseline_kib": baseline, "live_kib": live, "peak_kib": peak,
                      "fill_seconds": elapsed}))


def serve(args):
    module = load_app_module(args.app)
    app = module.make_app()
    if args.server == "cheroot":
        from cheroot import wsgi
        server = wsgi.Server(("127.0.0.1", args.port), app, numthreads=args.threads)
        server.start()
    elif args.server == "waitress":
        import waitress
        waitress.serve(app, host="127.0.0.1", port=args.port, threads=args.threads,
                       _quiet=True)
    else:
        raise SystemExit("unknown server %r" % args.server)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["worker", "memory", "serve"])
    parser.add_argument("--app", required=True)
    parser.add_argument("--tokens", type=int, default=1000000)
    parser.add_argument("--server", default="cheroot")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    {"worker": worker, "memory": memory, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
