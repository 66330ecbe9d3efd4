"""The benchmark orchestrator: drives every library's venv, interleaves them, writes the results.

Run by scripts/bench.sh (which makes the venvs) with the tools venv's Python (matplotlib):

    python benches/python/run.py --venvs benches/python/.venvs --out docs/benchmarks \
        --doc docs/benchmarks.md [--skip ours] [--phases inproc,threads,http,memory]

Every knob has an environment default (BENCH_ROUNDS, BENCH_REQUESTS, ...; see ``options()``), so
``make bench`` can be made shorter or longer without editing anything.

Method, in short (docs/benchmarks.md says it at length):
- one long-lived worker process per library, each in its own venv; the orchestrator asks them in
  turn, rotating the order every round (A B C D E, B C D E A, ...), so drift on this shared
  machine hits every library alike;
- ratios are computed per round, between measurements taken seconds apart, and only then
  summarised (median, min, max); absolute figures drift, ratios much less;
- every response is checked by the worker (harness.py) or by wrk's Lua script; any failed check
  aborts the run with an error instead of producing a figure.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
import harness  # noqa: E402

# key, venv directory, app module, label in tables
LIBRARIES = [
    ("ours", "ours", "po2", "oauth2-engine (ours)"),
    ("python-oauth2", "po2", "po2", "python-oauth2 1.1.1"),
    ("authlib", "authlib", "authlib_app", "Authlib"),
    ("oauthlib", "oauthlib", "oauthlib_app", "oauthlib"),
    ("canned", "canned", "canned", "canned response (floor)"),
]
PEERS = ["python-oauth2", "authlib", "oauthlib"]
WORKLOADS = ["client_credentials", "password", "authorization_code", "refresh"]
WORKLOAD_LABELS = {"client_credentials": "client credentials", "password": "password",
                   "authorization_code": "authorization code (both legs)",
                   "refresh": "refresh (rotating)"}
SERVERS = ["cheroot", "waitress", "granian"]
TARGET_VS = {"python-oauth2": 8.0, "authlib": 5.0}
TARGET_HTTP = 0.90


class BenchError(Exception):
    pass


def log(message):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def options():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venvs", default=os.path.join(HERE, ".venvs"))
    parser.add_argument("--out", required=True, help="directory for results.json, tables, chart")
    parser.add_argument("--doc", help="markdown file to (re)write from the template")
    parser.add_argument("--template", default=os.path.join(HERE, "benchmarks.md.in"))
    parser.add_argument("--skip", default=env("BENCH_SKIP", ""),
                        help="comma-separated library keys to leave out (e.g. ours)")
    parser.add_argument("--phases", default=env("BENCH_PHASES", "inproc,threads,http,memory"))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", "5")))
    parser.add_argument("--requests", type=int, default=int(env("BENCH_REQUESTS", "20000")),
                        help="requests per in-process measurement (the same for every library)")
    parser.add_argument("--thread-counts", default=env("BENCH_THREAD_COUNTS", "1,2,4"))
    parser.add_argument("--thread-rounds", type=int, default=int(env("BENCH_THREAD_ROUNDS", "3")))
    parser.add_argument("--thread-duration", type=float,
                        default=float(env("BENCH_THREAD_DURATION", "1.0")))
    parser.add_argument("--thread-workloads",
                        default=env("BENCH_THREAD_WORKLOADS", "client_credentials,password"))
    parser.add_argument("--servers", default=env("BENCH_SERVERS", ",".join(SERVERS)))
    parser.add_argument("--http-rounds", type=int, default=int(env("BENCH_HTTP_ROUNDS", "3")))
    parser.add_argument("--http-duration", type=int, default=int(env("BENCH_HTTP_DURATION", "2")))
    parser.add_argument("--http-connections", type=int,
                        default=int(env("BENCH_HTTP_CONNECTIONS", "8")))
    parser.add_argument("--server-threads", type=int,
                        default=int(env("BENCH_SERVER_THREADS", "4")))
    parser.add_argument("--granian-threads", type=int,
                        default=int(env("BENCH_GRANIAN_THREADS", "1")),
                        help="granian's blocking threads: the app runs on these; more than one "
                             "only adds GIL contention for a CPU-bound app (measured: canned app "
                             "~2x faster with 1 than with 4)")
    parser.add_argument("--wrk-threads", type=int, default=int(env("BENCH_WRK_THREADS", "1")))
    parser.add_argument("--tokens", type=int, default=int(env("BENCH_TOKENS", "1000000")))
    return parser.parse_args()


# ----------------------------------------------------------------------------------------------
# Workers


class Worker:
    """One library's harness.py worker, alive for the whole in-process phase."""

    def __init__(self, key, python, app):
        self.key = key
        self.proc = subprocess.Popen([python, os.path.join(HERE, "harness.py"), "worker",
                                      "--app", app], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=HERE)

    def ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError("%s: worker exited (status %s)" % (self.key, self.proc.wait()))
        reply = json.loads(line)
        if "error" in reply:
            raise BenchError("%s %s: %s" % (self.key, request, reply["error"]))
        return reply

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def rotated(items, by):
    by %= len(items)
    return items[by:] + items[:by]


def summary(values):
    values = sorted(values)
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {"median": statistics.median(values), "q1": q1, "q3": q3, "min": values[0],
            "max": values[-1], "n": len(values), "values": values}


def run_inproc(opts, libs, workers):
    samples = {key: {w: [] for w in WORKLOADS} for key in libs}
    ratios = {peer: {w: [] for w in WORKLOADS} for peer in libs if peer != "ours"}
    keys = list(libs)
    for round_index in range(opts.rounds):
        log("in-process round %d/%d" % (round_index + 1, opts.rounds))
        for workload in WORKLOADS:
            this_round = {}
            for key in rotated(keys, round_index):
                reply = workers[key].ask(cmd="inproc", workload=workload,
                                        requests=opts.requests)
                this_round[key] = reply["us_per_op"]
                samples[key][workload].append(reply["us_per_op"])
            if "ours" in this_round:
                for peer in ratios:
                    # Speed-up of ours over the peer in this round: peer time / our time.
                    ratios[peer][workload].append(this_round[peer] / this_round["ours"])
    return {"us_per_op": {k: {w: summary(v) for w, v in ws.items()} for k, ws in samples.items()},
            "speedup_of_ours": {p: {w: summary(v) for w, v in ws.items() if v}
                                for p, ws in ratios.items()} if "ours" in libs else {}}


def run_threads(opts, libs, workers):
    counts = [int(c) for c in opts.thread_counts.split(",")]
    workloads = [w for w in opts.thread_workloads.split(",") if w]
    # "ours-redis": our package on its native Redis store, driven by our worker.
    keys = [k for k in ("ours", "ours-redis", "python-oauth2")
            if k.split("-redis")[0] in libs]
    samples = {k: {w: {c: [] for c in counts} for w in workloads} for k in keys}
    for round_index in range(opts.thread_rounds):
        log("thread scaling round %d/%d" % (round_index + 1, opts.thread_rounds))
        for workload in workloads:
            for threads in counts:
                for key in rotated(keys, round_index):
                    extra = {"store": "redis"} if key == "ours-redis" else {}
                    worker = workers[key.split("-redis")[0]]
                    reply = worker.ask(cmd="threads", workload=workload, threads=threads,
                                       duration=opts.thread_duration, **extra)
                    samples[key][workload][threads].append(reply["ops_per_s"])
    return {"ops_per_s": {k: {w: {str(c): summary(v) for c, v in cs.items()}
                              for w, cs in ws.items()} for k, ws in samples.items()},
            "thread_counts": counts, "workloads": workloads}


# ----------------------------------------------------------------------------------------------
# Loopback HTTP


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(opts, venv, app, server, port):
    env = dict(os.environ, BENCH_APP=app)
    if server == "granian":
        command = [os.path.join(venv, "bin", "granian"), "--interface", "wsgi",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                   "--blocking-threads", str(opts.granian_threads), "--no-ws",
                   "--log-level", "warning", "wsgi_entry:app"]
    else:
        command = [os.path.join(venv, "bin", "python"), os.path.join(HERE, "harness.py"),
                   "serve", "--app", app, "--server", server, "--port", str(port),
                   "--threads", str(opts.server_threads)]
    # A session of its own, so that stopping it stops its children too (granian forks workers).
    proc = subprocess.Popen(command, cwd=HERE, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise BenchError("%s/%s exited early: %s" % (server, app, proc.stderr.read()[-2000:]))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise BenchError("%s/%s did not listen on port %d" % (server, app, port))


def stop_server(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    proc.stderr.close()


def check_over_http(port):
    """One real request before the load: the server answers a checked token response."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", common.TOKEN_PATH, body=harness.CC_BODY,
                           headers={"Content-Type": common.FORM})
        response = connection.getresponse()
        harness.check_token("%d %s" % (response.status, response.reason), response.read())
    finally:
        connection.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(opts, port):
    command = ["wrk", "-t", str(opts.wrk_threads), "-c", str(opts.http_connections),
               "-d", "%ds" % opts.http_duration, "--timeout", "5s",
               "-s", os.path.join(HERE, "client_credentials.lua"),
               "http://127.0.0.1:%d%s" % (port, common.TOKEN_PATH)]
    output = subprocess.run(command, capture_output=True, text=True,
                            timeout=opts.http_duration + 60).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    check = re.search(r"CHECK total=(\d+) bad=(\d+)", output)
    if not found or not check:
        raise BenchError("cannot read wrk's output:\n" + output)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)\s", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    result = {"requests_per_s": float(found.group(1)), "responses": int(check.group(1)),
              "bad_responses": int(check.group(2)),
              "non_2xx": int(non2xx.group(1)) if non2xx else 0,
              "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
              "latency_avg_ms": (float(latency.group(1)) * _UNITS[latency.group(2)]
                                 if latency else None)}
    if result["bad_responses"] or result["non_2xx"] or not result["responses"]:
        raise BenchError("wrk saw failed responses (%s):\n%s" % (result, output))
    return result


def http_order(keys, round_index):
    """The rotated order, except that ours and the canned app run back to back (which of the two
    first alternates), because their ratio is the figure the loopback target is about; a server
    run lasts seconds, long enough for the shared machine's load to change between distant runs."""
    order = rotated(keys, round_index)
    if "ours" in order and "canned" in order:
        pair = ["ours", "canned"] if round_index % 2 == 0 else ["canned", "ours"]
        at = order.index("ours")
        order = [k for k in order if k not in pair]
        order[at:at] = pair
    return order


def run_http(opts, libs):
    servers = [s for s in opts.servers.split(",") if s]
    keys = list(libs)
    samples = {s: {k: [] for k in keys} for s in servers}
    runs = {s: {k: [] for k in keys} for s in servers}
    ratios = {s: [] for s in servers}
    for round_index in range(opts.http_rounds):
        for server in servers:
            log("loopback HTTP round %d/%d, %s" % (round_index + 1, opts.http_rounds, server))
            this_round = {}
            for key in http_order(keys, round_index):
                venv, app = libs[key]
                port = free_port()
                proc = start_server(opts, venv, app, server, port)
                try:
                    check_over_http(port)
                    result = run_wrk(opts, port)
                finally:
                    stop_server(proc)
                this_round[key] = result["requests_per_s"]
                samples[server][key].append(result["requests_per_s"])
                runs[server][key].append(result)
            if "ours" in this_round and "canned" in this_round:
                ratios[server].append(this_round["ours"] / this_round["canned"])
    return {"requests_per_s": {s: {k: summary(v) for k, v in ks.items()}
                               for s, ks in samples.items()},
            "runs": runs,
            "ours_over_canned": {s: summary(v) for s, v in ratios.items() if v},
            "servers": servers}


# ----------------------------------------------------------------------------------------------
# Memory


def run_memory(opts, libs):
    results = {}
    for key in ("ours", "python-oauth2"):
        if key not in libs:
            continue
        venv, app = libs[key]
        log("memory: %s, %d tokens" % (key, opts.tokens))
        done = subprocess.run([os.path.join(venv, "bin", "python"),
                               os.path.join(HERE, "harness.py"), "memory", "--app", app,
                               "--tokens", str(opts.tokens)],
                              capture_output=True, text=True, cwd=HERE, timeout=1800)
        if done.returncode != 0:
            raise BenchError("memory run of %s failed:\n%s" % (key, done.stderr[-3000:]))
        results[key] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


# ----------------------------------------------------------------------------------------------
# The machine and the versions


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def machine():
    model = re.search(r"model name\s*:\s*(.+)", _read("/proc/cpuinfo"))
    memory = re.search(r"MemTotal:\s+(\d+) kB", _read("/proc/meminfo"))
    release = re.search(r'PRETTY_NAME="([^"]+)"', _read("/etc/os-release"))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).strip().splitlines()
    return {"cpu": model.group(1).strip() if model else platform.processor(),
            "cores": os.cpu_count(),
            "memory_gib": round(int(memory.group(1)) / 1048576, 1) if memory else None,
            "os": release.group(1) if release else platform.platform(),
            "kernel": platform.release(),
            "wrk": wrk_version[0].split(" Copyright")[0] if wrk_version else "?",
            "load_average_at_start": os.getloadavg()}


def versions(libs):
    found = {}
    for key, (venv, app) in libs.items():
        script = ("import json, sys; sys.path.insert(0, %r); from importlib import metadata\n"
                  "import apps.%s as m\n"
                  "out = {'library': m.library_version(), 'python': sys.version.split()[0]}\n"
                  "for name in ('cheroot', 'waitress', 'granian'):\n"
                  "    try: out[name] = metadata.version(name)\n"
                  "    except metadata.PackageNotFoundError: pass\n"
                  "print(json.dumps(out))" % (HERE, app))
        done = subprocess.run([os.path.join(venv, "bin", "python"), "-c", script],
                              capture_output=True, text=True, cwd=HERE)
        if done.returncode != 0:
            raise BenchError("%s: cannot import its app:\n%s" % (key, done.stderr[-3000:]))
        found[key] = json.loads(done.stdout)
    return found


# ----------------------------------------------------------------------------------------------


def main():
    opts = options()
    started = time.time()
    skip = {s for s in opts.skip.split(",") if s}
    phases = {p for p in opts.phases.split(",") if p}
    libs = {}
    for key, venv_dir, app, _ in LIBRARIES:
        if key in skip:
            continue
        venv = os.path.join(os.path.abspath(opts.venvs), venv_dir)
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            raise BenchError("no venv for %s at %s (scripts/bench.sh makes them)" % (key, venv))
        libs[key] = (venv, app)
    commit = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "?"
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "commit": commit,
               # How scripts/bench.sh built our wheel (run.py on its own: unknown).
               "ours_build": os.environ.get("BENCH_OURS_BUILD", "not recorded"),
               "machine": machine(), "versions": versions(libs), "libraries": list(libs),
               "config": {k: v for k, v in vars(opts).items()
                          if k not in ("venvs", "out", "doc", "template")}}
    log("libraries: %s" % ", ".join(libs))
    if phases & {"inproc", "threads"}:
        workers = {key: Worker(key, os.path.join(venv, "bin", "python"), app)
                   for key, (venv, app) in libs.items()}
        try:
            for worker in workers.values():
                worker.ask(cmd="check")
            if "inproc" in phases:
                results["inproc"] = run_inproc(opts, libs, workers)
            if "threads" in phases:
                results["threads"] = run_threads(opts, libs, workers)
        finally:
            for worker in workers.values():
                worker.close()
    if "http" in phases:
        results["http"] = run_http(opts, libs)
    if "memory" in phases:
        results["memory"] = run_memory(opts, libs)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["runtime_seconds"] = time.time() - started
    os.makedirs(opts.out, exist_ok=True)
    with open(os.path.join(opts.out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
        handle.write("\n")
    import report
    report.write_all(results, opts.out, opts.doc, opts.template)
    log("done in %.0f s; results in %s" % (results["runtime_seconds"], opts.out))


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        log("FAILED: %s" % error)
        sys.exit(1)
