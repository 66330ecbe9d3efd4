"""The training run of a profile-guided build (scripts/pgo-wheel.sh): each of the harness's
four workloads, a few thousand requests on a fresh app, every response checked as the
benchmark checks it (a training run on a broken build fails instead of teaching it).

    python pgo_train.py [--ops 20000]

Run with a venv's python that has the instrumented wheel installed; the counts go where the
wheel's -Cprofile-generate said when the interpreter exits.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=20000)
    args = parser.parse_args()
    module = harness.load_app_module("po2")
    for name, workload in harness.WORKLOADS.items():
        started = time.perf_counter()
        work = workload(module.make_app())
        work.prepare()
        harness.check_all(work, [work.step() for _ in range(args.ops)])
        print("pgo training: %s, %d requests in %.1f s"
              % (name, args.ops, time.perf_counter() - started))


if __name__ == "__main__":
    main()
