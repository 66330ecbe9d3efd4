"""The demo server (examples/python/demo_server.py), walked over HTTP as its banner says."""

import importlib.util
import os

import pytest

from conftest import query_of

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "python",
                    "demo_server.py")


@pytest.fixture
def demo(serve):
    spec = importlib.util.spec_from_file_location("demo_server", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    s = serve("threaded", app=module.build_app())
    s.m = module
    return s


def creds(m, **form):
    form.update(client_id=m.CLIENT_ID, client_secret=m.CLIENT_SECRET)
    return form


def test_login_consent_code_refresh(demo):
    m = demo.m
    url = "/authorize?response_type=code&client_id=%s&redirect_uri=%s&state=xyz" % (
        m.CLIENT_ID, m.REDIRECT_URI)
    page = demo.get(url)
    assert page.status_code == 200 and "<form" in page.text and "profile" in page.text
    wrong = demo.post(url, data={"username": "demo", "password": "no", "confirm": "yes"})
    assert wrong.status_code == 200 and "Wrong user or password" in wrong.text
    ok = demo.post(url, data={"username": "demo", "password": m.USERS["demo"],
                              "confirm": "yes"})
    assert ok.status_code == 302
    q = query_of(ok.headers["Location"])
    assert q["state"] == "xyz"
    tok = demo.post("/token", data=creds(m, grant_type="authorization_code", code=q["code"],
                                         redirect_uri=m.REDIRECT_URI)).json()
    assert tok["scope"] == "profile" and tok["expires_in"] == 3600
    new = demo.post("/token", data=creds(m, grant_type="refresh_token",
                                         refresh_token=tok["refresh_token"])).json()
    assert new["refresh_token"] != tok["refresh_token"]  # reissued (rotation)
    denied = demo.post(url, data={"deny": "yes"})
    assert query_of(denied.headers["Location"])["error"] == "access_denied"


def test_password_client_credentials_implicit(demo):
    m = demo.m
    r = demo.post("/token", data=creds(m, grant_type="password", username="demo",
                                       password=m.USERS["demo"]))
    assert r.status_code == 200 and "refresh_token" in r.json()
    r = demo.post("/token", data=creds(m, grant_type="client_credentials"))
    assert r.json()["expires_in"] == 3600
    r = demo.post("/authorize?response_type=token&client_id=%s&state=s" % m.CLIENT_ID,
                  data={"username": "demo", "password": m.USERS["demo"], "confirm": "yes"})
    assert r.status_code == 302 and "#access_token=" in r.headers["Location"]
