"""Every grant over real HTTP on loopback (1.x API), through wsgiref, a multi-threaded wsgiref,
waitress and Tornado."""

import base64

import pytest

import oauth2.web.wsgi
from conftest import REDIRECT, USER_ID, make_provider, query_of

KINDS = ["wsgiref", "threaded", "waitress", "tornado"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(params=KINDS)
def server(request, serve):
    provider = make_provider()
    if request.param == "tornado":
        s = serve("tornado", provider=provider)
    else:
        s = serve(request.param, app=oauth2.web.wsgi.Application(provider=provider))
    s.provider = provider
    return s


def authorize(server, response_type="code", extra=""):
    return server.get("/authorize?response_type=%s&client_id=abc&redirect_uri=%s&state=st%s"
                      % (response_type, REDIRECT, extra))


def code_of(server, extra="&scope=write"):
    r = authorize(server, extra="&confirm=yes" + extra)
    assert r.status_code == 302, r.text
    q = query_of(r.headers["Location"])
    assert q["state"] == "st"
    return q["code"]


def token(server, **form):
    data = {"client_id": "abc", "client_secret": "xyz"}
    data.update(form)
    return server.post("/token", data=data)


def test_authorization_code_grant(server):
    r = authorize(server)
    assert r.status_code == 200 and "consent for abc: read" in r.text
    r = token(server, grant_type="authorization_code", code=code_of(server),
              redirect_uri=REDIRECT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["access_token", "token_type", "refresh_token", "expires_in", "scope"]
    assert body["expires_in"] == 120 and body["scope"] == "write"
    assert r.headers["Pragma"] == "no-cache" and r.headers["Cache-Control"] == "no-store"
    stored = server.provider.access_token_store.fetch_by_token(body["access_token"])
    assert stored.user_id == USER_ID and stored.data == {"who": "alice"}
    assert stored.scopes == ["write"] and stored.grant_type == "authorization_code"


def test_refresh_grant_answers_the_code_grant_lifetime(server):
    first = token(server, grant_type="authorization_code", code=code_of(server),
                  redirect_uri=REDIRECT).json()
    r = token(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 120
    assert "refresh_token" not in body  # no reissue configured, as in python-oauth2
    stored = server.provider.access_token_store.fetch_by_token(body["access_token"])
    assert stored.grant_type == "authorization_code" and stored.user_id == USER_ID


def test_implicit_grant(server):
    r = authorize(server, "token", "&confirm=yes")
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith(REDIRECT + "#access_token=")
    q = query_of(loc)
    assert q["token_type"] == "bearer" and q["state"] == "st"
    assert server.provider.access_token_store.fetch_by_token(q["access_token"]).grant_type \
        == "implicit"


def test_password_grant(server):
    r = token(server, grant_type="password", username="alice", password="pw")
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 120 and "refresh_token" in r.json()
    bad = token(server, grant_type="password", username="alice", password="nope")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_client_credentials_grant(server):
    r = token(server, grant_type="client_credentials")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["token_type", "access_token", "expires_in"]
    assert body["expires_in"] == 3600


def test_deny_redirects_with_state_R05(server):
    r = authorize(server, extra="&deny=yes")
    q = query_of(r.headers["Location"])
    assert r.status_code == 302 and q["error"] == "access_denied" and q["state"] == "st"


def test_wrong_secret_is_invalid_client(server):
    r = token(server, grant_type="client_credentials", client_secret="nope")
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"


def test_basic_failure_is_401_with_challenge_R35(server):
    r = server.post("/token", data={"grant_type": "client_credentials"},
                    headers={"Authorization": "Basic " + base64.b64encode(b"abc:bad").decode()})
    # request_body is the configured source, so the Basic header is not a credential here
    assert r.status_code in (400, 401)
    assert r.json()["error"] in ("invalid_client", "invalid_request")


def test_code_bound_to_client_R18(server):
    server.provider.client_authenticator.client_store.add_client(
        client_id="other", client_secret="pw2", redirect_uris=[REDIRECT])
    r = token(server, grant_type="authorization_code", code=code_of(server),
              redirect_uri=REDIRECT, client_id="other", client_secret="pw2")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_unregistered_redirect_is_never_followed_R04(server):
    r = server.get("/authorize?response_type=code&client_id=abc"
                   "&redirect_uri=http://evil.example/cb&confirm=yes")
    assert r.status_code == 400 and "Location" not in r.headers
    assert r.json()["error"] == "invalid_request"


def test_pkce_enforced_when_a_challenge_was_sent_R13(server):
    import hashlib
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .decode().rstrip("=")
    code = code_of(server, "&code_challenge=%s&code_challenge_method=S256" % challenge)
    bad = token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    code = code_of(server, "&code_challenge=%s&code_challenge_method=S256" % challenge)
    ok = token(server, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
               code_verifier=verifier)
    assert ok.status_code == 200


def test_wsgi_responses_carry_their_content_length():
    """A complete body is announced with Content-Length, so an HTTP/1.1 server need not chunk it
    (cheroot does for a WSGI app that gives none)."""
    import io

    app = oauth2.web.wsgi.Application(provider=make_provider())

    def call(method, path, query="", body=b""):
        started = []
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                   "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.input": io.BytesIO(body),
                   "CONTENT_TYPE": FORM["Content-Type"], "CONTENT_LENGTH": str(len(body))}
        data = b"".join(app(environ, lambda status, headers, exc=None:
                            started.append((status, headers))))
        status, headers = started[-1]
        lengths = [v for k, v in headers if k.lower() == "content-length"]
        assert lengths == [str(len(data))], (status, headers)
        return status

    assert call("POST", "/token", body=b"grant_type=client_credentials&client_id=abc"
                b"&client_secret=xyz").startswith("200")
    assert call("POST", "/token", body=b"grant_type=nope").startswith("400")
    assert call("GET", "/authorize", "response_type=code&client_id=abc&redirect_uri="
                + REDIRECT + "&state=s&confirm=yes").startswith("302")
    assert call("GET", "/elsewhere").startswith("404")
