"""The built wheel installs into a fresh venv and works there (stubs and py.typed included)."""

import glob
import os
import subprocess
import sys
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

SMOKE = r"""
import io, json, oauth2, oauth2.grant, oauth2.store.memory, oauth2.tokengenerator, oauth2.web.wsgi
cs = oauth2.store.memory.ClientStore()
cs.add_client(client_id="a", client_secret="b", redirect_uris=["http://127.0.0.1/cb"])
ts = oauth2.store.memory.TokenStore()
gen = oauth2.tokengenerator.Uuid4()
p = oauth2.Provider(access_token_store=ts, auth_code_store=ts, client_store=cs, token_generator=gen)
p.add_grant(oauth2.grant.ClientCredentialsGrant())
app = oauth2.web.wsgi.Application(provider=p)
body = b"grant_type=client_credentials&client_id=a&client_secret=b"
env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token", "CONTENT_TYPE":
       "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
       "wsgi.input": io.BytesIO(body)}
st = []
out = json.loads(b"".join(app(env, lambda s, h: st.append(s))))
assert st == ["200 OK"] and len(out["access_token"]) == 36, (st, out)
print("ok", oauth2.VERSION, oauth2.__version__, oauth2.__file__)
"""


def newest_wheel():
    wheels = glob.glob(os.path.join(ROOT, "target", "wheels", "oauth2_engine-*.whl"))
    assert wheels, "no wheel in target/wheels: run scripts/python-env.sh first"
    return max(wheels, key=os.path.getmtime)


def test_wheel_contents():
    names = zipfile.ZipFile(newest_wheel()).namelist()
    assert "oauth2/py.typed" in names
    assert any(n.startswith("oauth2/_engine") and n.endswith(".so") for n in names)
    for stub in ("oauth2/__init__.pyi", "oauth2/_engine.pyi", "oauth2/web/wsgi.pyi"):
        assert stub in names, stub


def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-index", newest_wheel()],
                   check=True)
    run = subprocess.run([py, "-c", SMOKE], capture_output=True, text=True, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ok 1.1.1")
    assert str(venv) in run.stdout
