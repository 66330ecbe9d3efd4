"""The measuring side of the benchmark: runs inside one library's venv (stdlib only).

    python harness.py worker  --app po2      JSON lines in on stdin, JSON lines out on stdout
    python harness.py memory  --app po2 --tokens 1000000
    python harness.py serve   --app po2 --server cheroot --port 8123 --threads 4

``--app`` names a module of ``apps/`` (po2, authlib_app, oauthlib_app, canned). The orchestrator
(run.py) keeps one worker per library alive and asks each in turn, so that libraries interleave.

Every measured request goes through the app's WSGI callable exactly as a WSGI server would call
it (fresh environ, wsgi.input, start_response, the iterable joined and closed), and every
response is checked: status, an access token, token_type Bearer. A failed check aborts the
measurement with an error, so a broken path can never be reported as fast.
"""

import argparse
import gc
import importlib
import io
import json
import os
import platform
import sys
import threading
import time
from urllib.parse import quote

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


def call(app, method, path, query="", body=b""):
    """One request through the WSGI callable; returns (status line, headers, body bytes)."""
    environ = dict(_BASE_ENVIRON)
    environ["REQUEST_METHOD"] = method
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    environ["wsgi.input"] = io.BytesIO(body)
    if body:
        environ["CONTENT_TYPE"] = common.FORM
        environ["CONTENT_LENGTH"] = str(len(body))
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


def check_token(status, data, want_refresh=False):
    """The check every token response passes: 200, JSON, an access token, token_type Bearer."""
    if not status.startswith("200"):
        raise CheckFailed("status %r, body %r" % (status, data[:200]))
    try:
        token = json.loads(data)
    except ValueError:
        raise CheckFailed("token response is not JSON: %r" % data[:200])
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise CheckFailed("no access_token in %r" % data[:200])
    if str(token.get("token_type", "")).lower() != "bearer":
        raise CheckFailed("token_type is not Bearer in %r" % data[:200])
    if want_refresh and not token.get("refresh_token"):
        raise CheckFailed("no refresh_token in %r" % data[:200])
    return token


def authorize(app):
    """The authorize leg (consent auto-approved): a 302 to the client with a code and the state."""
    status, headers, data = call(app, "GET", common.AUTHORIZE_PATH, AUTHORIZE_QUERY)
    if not status.startswith("302"):
        raise CheckFailed("authorize: status %r, body %r" % (status, data[:200]))
    location = None
    for name, value in headers:
        if name.lower() == "location":
            location = value
    if (location is None or not location.startswith(common.REDIRECT_URI + "?")
            or ("state=" + STATE) not in location):
        raise CheckFailed("authorize: bad Location %r" % (location,))
    start = location.find("code=")
    if start < 0:
        raise CheckFailed("authorize: no code in %r" % (location,))
    end = location.find("&", start)
    return location[start + 5:] if end < 0 else location[start + 5:end]


class Workload:
    """One op of a workload; ``step`` returns (status, body) for the deferred check, or None when
    it checked inline (the refresh chain must read each response to go on)."""

    def __init__(self, app):
        self.app = app

    def prepare(self):
        pass


class ClientCredentials(Workload):
    def step(self):
        status, _, data = call(self.app, "POST", common.TOKEN_PATH, body=CC_BODY)
        return status, data


class Password(Workload):
    def step(self):
        status, _, data = call(self.app, "POST", common.TOKEN_PATH, body=PASSWORD_BODY)
        return status, data


class AuthorizationCode(Workload):
    """Both legs: GET /authorize (auto-approved) and POST /token with the code."""

    def step(self):
        code = authorize(self.app)
        status, _, data = call(self.app, "POST", common.TOKEN_PATH,
                               body=CODE_PREFIX + quote(code, safe="").encode())
        return status, data


class Refresh(Workload):
    """A chain of refreshes with rotation: each op spends the refresh token the last one got."""

    def prepare(self):
        status, _, data = call(self.app, "POST", common.TOKEN_PATH, body=PASSWORD_BODY)
        self.refresh_token = check_token(status, data, want_refresh=True)["refresh_token"]

    def step(self):
        status, _, data = call(self.app, "POST", common.TOKEN_PATH,
                               body=REFRESH_PREFIX + quote(self.refresh_token, safe="").encode())
        self.refresh_token = check_token(status, data, want_refresh=True)["refresh_token"]
        return None


WORKLOADS = {"client_credentials": ClientCredentials, "password": Password,
             "authorization_code": AuthorizationCode, "refresh": Refresh}


def _check_all(responses):
    for status, data in responses:
        check_token(status, data)


def measure(make_app, workload, duration, warmup=0.1):
    """Time one workload on a fresh app for about ``duration`` seconds; µs per op."""
    app = make_app()
    work = WORKLOADS[workload](app)
    work.prepare()
    step = work.step
    responses = []
    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        responses.append(step())
    _check_all(r for r in responses if r is not None)
    responses.clear()
    gc.collect()
    batch = 50
    ops = 0
    started = time.perf_counter()
    deadline = started + duration
    now = started
    while now < deadline:
        for _ in range(batch):
            responses.append(step())
        ops += batch
        now = time.perf_counter()
    elapsed = now - started
    # Checked after the clock stopped, every one of them (the refresh chain checked inline).
    _check_all(r for r in responses if r is not None)
    return {"us_per_op": elapsed / ops * 1e6, "ops": ops, "seconds": elapsed}


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
            _check_all(r for r in responses if r is not None)
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
                reply = measure(module.make_app, request["workload"], request["duration"])
            elif command == "threads":
                reply = measure_threads(module.make_app, request["workload"],
                                        request["threads"], request["duration"])
            elif command == "check":
                # One op of every workload, checked, before anything is timed.
                app = module.make_app()
                for workload in WORKLOADS:
                    work = WORKLOADS[workload](app)
                    work.prepare()
                    result = work.step()
                    if result is not None:
                        check_token(*result)
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
