"""Instructions per op of one library on one workload, counted by callgrind (stdlib only).

    python count.py --app po2 --workload refresh [--ops 1000,3000] [--profile out.callgrind]

Runs the harness's own loop (the same ``step`` the in-process phase times) under
``valgrind --tool=callgrind`` twice, for each of two op counts after the same warm-up, and
prints the difference of the totals divided by the difference of the op counts: the cost of
one op, free of start-up, and the same on a busy machine. ``--profile`` keeps the larger run's
callgrind file for callgrind_annotate. Run it with the venv's python of the library measured
(benches/python/.venvs/<library>/bin/python).
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run_ops(args):
    """The measured side: warm up, then ``ops`` steps, then check the warm-up's records and the
    last hundred (the same number at every op count, so the checks cancel out)."""
    sys.path.insert(0, HERE)
    import harness
    module = harness.load_app_module(args.app)
    work = harness.WORKLOADS[args.workload](module.make_app())
    work.prepare()
    records = [work.step() for _ in range(args.warmup)]
    records += [work.step() for _ in range(args.run)]
    harness.check_all(work, records[:args.warmup] + records[-100:])


def count(args, ops, keep=None):
    out = keep or tempfile.mktemp(suffix=".callgrind")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable,
           os.path.abspath(__file__), "--app", args.app, "--workload", args.workload,
           "--warmup", str(args.warmup), "--run", str(ops)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
        raise SystemExit("callgrind wrote no summary to %s" % out)
    finally:
        if keep is None:
            os.unlink(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--workload", required=True,
                        choices=["client_credentials", "password", "authorization_code",
                                 "refresh"])
    parser.add_argument("--ops", default="1000,3000")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", help="keep the larger run's callgrind output here")
    args = parser.parse_args()
    if args.run is not None:
        run_ops(args)
        return
    n1, n2 = (int(n) for n in args.ops.split(","))
    i1 = count(args, n1)
    i2 = count(args, n2, args.profile)
    print("%s %s: %d instructions per op (callgrind, %d and %d ops)"
          % (args.app, args.workload, (i2 - i1) // (n2 - n1), n1, n2))


if __name__ == "__main__":
    main()
