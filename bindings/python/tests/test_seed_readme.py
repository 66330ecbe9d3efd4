"""python-oauth2's early README example, run unchanged (tests/fixtures/seed_readme_example.py is
its code block, verbatim), served over HTTP and walked as its comments say."""

import importlib.util
import json
import os

import pytest

from conftest import query_of

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "seed_readme_example.py")
CALLBACK = "http://localhost/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _readme_block():
    """The README's code block, if the project's reference copy is beside the checkout."""
    root = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    for base in (os.path.join(root, "..", "shared"), os.path.join(root, "shared")):
        path = os.path.join(base, "reference", "seed-README.rst")
        if os.path.exists(path):
            text = open(path).read()
            start = text.index(".. code-block:: python\n") + len(".. code-block:: python\n")
            block = text[start:text.index("Storage adapters")]
            lines = [ln[4:] if ln.startswith("    ") else ln for ln in block.split("\n")]
            return "\n".join(lines).strip("\n") + "\n"
    return None


@pytest.fixture
def example(serve):
    spec = importlib.util.spec_from_file_location("seed_readme_example", FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not __main__: the example's own server does not start
    return serve("wsgiref", app=module.app)


def _authorize(response_type="code"):
    return "/authorize?response_type=%s&client_id=abc&redirect_uri=%s&state=s%%201" % (
        response_type, CALLBACK)


def test_fixture_is_the_readme_code_verbatim():
    block = _readme_block()
    fixture = open(FIXTURE).read()
    assert "oauth2.web.Wsgi(server=auth_controller)" in fixture
    if block is not None:
        assert fixture == block


def _code(example):
    r = example.post(_authorize(), data="confirm=confirm", headers=FORM)
    assert r.status_code == 302
    q = query_of(r.headers["Location"])
    assert r.headers["Location"].startswith(CALLBACK + "?")
    assert q["state"] == "s 1"
    return q["code"]


def _token(example, code):
    return example.post("/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": "abc",
        "client_secret": "xyz", "redirect_uri": CALLBACK})


def test_get_shows_the_consent_page_R08(example):
    r = example.get(_authorize())
    assert r.status_code == 200
    assert 'name="confirmation_form"' in r.text
    assert 'value="confirm"' in r.text and 'value="deny"' in r.text
    assert r.headers["X-Frame-Options"] == "DENY"


def test_confirm_gives_code_and_state_and_the_code_buys_a_30_day_bearer_token(example):
    r = _token(example, _code(example))
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 2592000
    assert len(body["access_token"]) == 36 and len(body["refresh_token"]) == 36
    assert r.headers["Cache-Control"] == "no-store"
    # json.dumps spelling, as python-oauth2 answered
    assert r.text.startswith('{"access_token": "')


def test_deny_redirects_access_denied_with_state_R05(example):
    r = example.post(_authorize(), data="deny=deny", headers=FORM)
    assert r.status_code == 302
    q = query_of(r.headers["Location"])
    assert q["error"] == "access_denied"
    assert q["state"] == "s 1"
    assert "code" not in q


def test_refresh_works_and_keeps_the_lifetime(example):
    first = _token(example, _code(example)).json()
    r = example.post("/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": "abc", "client_secret": "xyz"})
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == 2592000
    assert body["access_token"] != first["access_token"]


def test_code_is_single_use_R17(example):
    code = _code(example)
    assert _token(example, code).status_code == 200
    again = _token(example, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_implicit_works(example):
    r = example.post(_authorize("token"), data="confirm=confirm", headers=FORM)
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith(CALLBACK + "#")
    q = query_of(loc)
    assert q["token_type"] == "bearer" and q["state"] == "s 1"
    assert len(q["access_token"]) == 36
    assert q["expires_in"] == "2592000"


def test_implicit_consent_page_on_get(example):
    r = example.get(_authorize("token"))
    assert r.status_code == 200 and "confirmation_form" in r.text


def test_unknown_paths_answer_404(example):
    for path in ("/", "/nope", "/authorize/x", "/token/"):
        r = example.get(path)
        assert r.status_code == 404
        assert r.text == "Not Found"
    assert example.post("/elsewhere", data={"grant_type": "password"}).status_code == 404


def test_client_credentials_is_not_offered(example):
    r = example.post("/token", data={"grant_type": "client_credentials", "client_id": "abc",
                                     "client_secret": "xyz"})
    assert r.status_code == 400
    assert json.loads(r.text)["error"] == "unsupported_grant_type"
