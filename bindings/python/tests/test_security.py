"""RFC 9700 / OAuth 2.1 checks (ids from oauth-security-requirements.md) through the Python
package's public face, over HTTP."""

import base64
import hashlib

import pytest

import oauth2.grant
import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of


@pytest.fixture
def server(serve):
    provider = make_provider()
    provider.grant_types[3].reissue_refresh_tokens = True
    store = provider.client_authenticator.client_store
    store.add_client(client_id="other", client_secret="pw2", redirect_uris=[REDIRECT])
    store.add_client(client_id="pub", client_secret=None,
                     redirect_uris=["http://127.0.0.1/native"])
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    s.provider = provider
    return s


def code_of(s, client="abc", extra=""):
    r = s.get("/authorize?response_type=code&client_id=%s&confirm=yes%s" % (client, extra))
    assert r.status_code == 302, r.text
    return query_of(r.headers["Location"])["code"]


def tokens(s, **form):
    base = {"client_id": "abc", "client_secret": "xyz"}
    base.update(form)
    return s.post("/token", data=base)


def password_tokens(s):
    r = tokens(s, grant_type="password", username="alice", password="pw")
    assert r.status_code == 200
    return r.json()


def test_R02_loopback_port_may_vary(server):
    r = server.get("/authorize?response_type=code&client_id=pub&confirm=yes"
                   "&redirect_uri=http://127.0.0.1:51234/native")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("http://127.0.0.1:51234/native?code=")


def test_R14_verifier_without_challenge_is_refused(server):
    r = tokens(server, grant_type="authorization_code", code=code_of(server),
               redirect_uri=REDIRECT, code_verifier="x" * 43)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_R15_plain_pkce_refused(server):
    r = server.get("/authorize?response_type=code&client_id=abc&confirm=yes&state=s"
                   "&code_challenge=" + "a" * 43 + "&code_challenge_method=plain")
    q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and q["state"] == "s"


def test_R16_challenge_never_echoed(server):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 43).digest()).decode().rstrip("=")
    r = server.get("/authorize?response_type=code&client_id=abc&confirm=yes"
                   "&code_challenge=%s&code_challenge_method=S256" % challenge)
    assert challenge not in r.headers["Location"]
    body = tokens(server, grant_type="authorization_code",
                  code=query_of(r.headers["Location"])["code"], code_verifier="v" * 43).text
    assert challenge not in body and "access_token" in body


def test_R17_replayed_code_revokes_what_it_bought(server):
    code = code_of(server)
    first = tokens(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    token = first.json()["access_token"]
    assert server.provider.validate_access_token(token) is not None
    again = tokens(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.json()["error"] == "invalid_grant"
    assert server.provider.validate_access_token(token) is None


def test_R23_no_store_on_token_responses(server):
    r = tokens(server, grant_type="client_credentials")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"


def test_R24_rotation_and_replay_revokes_the_grant(server):
    first = password_tokens(server)
    second = tokens(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    replay = tokens(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert server.provider.validate_access_token(new["access_token"]) is None
    dead = tokens(server, grant_type="refresh_token", refresh_token=new["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"


def test_R25_refresh_token_bound_to_client(server):
    first = password_tokens(server)
    r = tokens(server, grant_type="refresh_token", refresh_token=first["refresh_token"],
               client_id="other", client_secret="pw2")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    ok = tokens(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert ok.status_code == 200


def test_R26_refresh_cannot_widen_scope(server):
    code = code_of(server, extra="&scope=read")
    first = tokens(server, grant_type="authorization_code", code=code,
                   redirect_uri=REDIRECT).json()
    r = tokens(server, grant_type="refresh_token", refresh_token=first["refresh_token"],
               scope="read write")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_R33_public_client_never_authenticated_by_a_secret(server):
    code = code_of(server, client="pub")
    r = tokens(server, grant_type="authorization_code", code=code, client_id="pub",
               client_secret="guess")
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client"
    r = tokens(server, grant_type="client_credentials", client_id="pub", client_secret=None)
    assert r.json()["error"] in ("unauthorized_client", "invalid_client")


def test_R29_tokens_are_uuid4_from_the_engine(server):
    body = tokens(server, grant_type="client_credentials").json()
    import uuid
    assert uuid.UUID(body["access_token"]).version == 4
