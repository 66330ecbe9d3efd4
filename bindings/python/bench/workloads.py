"""In-process benchmark of the benchmark harness's workloads (benches/python), CPU time per op.

Uses the harness's own app (benches/python/apps/po2.py, written against python-oauth2's 1.x
API) and its checked workloads, so it runs unchanged on python-oauth2 1.1.1 and on this package:
    python bench/workloads.py [seconds] [workload ...]
Prints one line per workload: CPU microseconds per op (best of 5 rounds, this thread only, so a
busy shared machine moves it little). Every response is checked by the harness.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "benches", "python"))

import harness  # noqa: E402
from apps import po2  # noqa: E402


def measure(workload, seconds):
    app = po2.make_app()
    work = harness.WORKLOADS[workload](app)
    work.prepare()
    for _ in range(200):
        work.step()
    best = None
    for _ in range(5):
        responses = []
        ops = 0
        t0 = time.thread_time()
        wall = time.perf_counter() + seconds
        while time.perf_counter() < wall:
            for _ in range(50):
                responses.append(work.step())
            ops += 50
        us = (time.thread_time() - t0) / ops * 1e6
        harness.check_all(work, responses)
        best = us if best is None else min(best, us)
    return best


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
    names = sys.argv[2:] or ["password", "authorization_code", "refresh", "client_credentials"]
    label = po2.library_version()
    for name in names:
        print("%-20s %-24s %8.2f us/op" % (name, label, measure(name, seconds)))
