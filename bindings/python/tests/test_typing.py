"""The shipped stubs type-check a typical 1.x program, and catch a wrong call."""

import os
import subprocess
import sys

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "typed_usage.py")


def mypy(path, cwd):
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", path],
                          capture_output=True, text=True, cwd=cwd)


def test_stubs_accept_a_typical_program(tmp_path):
    run = mypy(FIXTURE, str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr


def test_stubs_reject_a_wrong_call(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import oauth2.store.memory\n"
                   "oauth2.store.memory.ClientStore().add_client(client_id=1)\n")
    run = mypy(str(bad), str(tmp_path))
    assert run.returncode == 1
    assert "add_client" in run.stdout
