"""python-oauth2 1.1.1's public API: module paths, names, signatures, datatypes, store methods,
and the 1.x behaviours applications rely on."""

import inspect
import re

import pytest

import oauth2
import oauth2.client_authenticator
import oauth2.compatibility
import oauth2.datatype
import oauth2.error
import oauth2.grant
import oauth2.log
import oauth2.store
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi
from conftest import REDIRECT, TestAdapter, make_provider, query_of


def test_module_map_and_reexports():
    assert oauth2.VERSION == "1.1.1"
    for name in ("json", "ClientAuthenticator", "request_body", "OAuthInvalidError",
                 "ClientNotFoundError", "OAuthInvalidNoRedirectError", "UnsupportedGrantError",
                 "app_log", "Response", "Uuid4", "Scope", "AuthorizationCodeGrant",
                 "ImplicitGrant", "ClientCredentialsGrant", "ResourceOwnerGrant",
                 "RefreshToken", "Provider"):
        assert hasattr(oauth2, name), name
    for name in ("AccessTokenNotFound", "AuthCodeNotFound", "ClientNotFoundError",
                 "InvalidSiteAdapter", "UserIdentifierMissingError", "UnsupportedGrantError",
                 "RedirectUriUnknown", "UserNotAuthenticated", "OAuthBaseError",
                 "OAuthInvalidError", "OAuthInvalidNoRedirectError"):
        assert issubclass(getattr(oauth2.error, name), Exception)
    assert issubclass(oauth2.error.OAuthInvalidNoRedirectError, oauth2.error.OAuthInvalidError)
    e = oauth2.error.OAuthInvalidError("invalid_scope", explanation="x")
    assert (e.error, e.error_uri, e.explanation) == ("invalid_scope", None, "x")
    assert oauth2.log.app_log.name == "oauth2.application"
    assert oauth2.log.gen_log.name == "oauth2.general"
    assert oauth2.compatibility.parse_qs("a=1") == {"a": ["1"]}
    assert oauth2.compatibility.urlencode({"a": "b c"}) == "a=b+c"
    for name in ("AccessTokenStore", "AuthCodeStore", "ClientStore"):
        assert hasattr(oauth2.store, name)
    for name in ("AuthenticatingSiteAdapter", "UserFacingSiteAdapter",
                 "AuthorizationCodeGrantSiteAdapter", "ImplicitGrantSiteAdapter",
                 "ResourceOwnerGrantSiteAdapter", "Request", "Response", "SiteAdapter", "Wsgi"):
        assert hasattr(oauth2.web, name), name


def test_signatures_and_defaults():
    sig = lambda f: str(inspect.signature(f))  # noqa: E731
    assert sig(oauth2.Provider.__init__) == (
        "(self, access_token_store, auth_code_store, client_store, token_generator, "
        "client_authentication_source=<function request_body at %s>, "
        "response_class=<class 'oauth2.web.Response'>, site_adapter=None)"
        % re.search(r"at (0x[0-9a-f]+)", repr(oauth2.client_authenticator.request_body))
        .group(1))
    assert sig(oauth2.grant.AuthorizationCodeGrant.__init__).startswith(
        "(self, unique_token=False, expires_in=0, default_scope=None, scopes=None")
    assert sig(oauth2.grant.RefreshToken.__init__).startswith(
        "(self, expires_in, reissue_refresh_tokens=False")
    assert sig(oauth2.web.wsgi.Application.__init__) == (
        "(self, provider, authorize_uri='/authorize', env_vars=None, "
        "request_class=<class 'oauth2.web.wsgi.Request'>, token_uri='/token')")
    with pytest.raises(TypeError):
        oauth2.grant.ClientCredentialsGrant(expires_in=10)
    with pytest.raises(TypeError):
        oauth2.grant.RefreshToken()


def test_access_token_has_exactly_nine_attributes_and_round_trips():
    t = oauth2.datatype.AccessToken(client_id="c", grant_type="password", token="t")
    assert sorted(t.__dict__) == sorted([
        "client_id", "grant_type", "token", "data", "expires_at", "refresh_token",
        "refresh_expires_at", "scopes", "user_id"])
    copy = oauth2.datatype.AccessToken(**t.__dict__)
    assert copy.__dict__ == t.__dict__
    other = oauth2.datatype.AccessToken(client_id="c", grant_type="password", token="u")
    assert t.data is not other.data and t.scopes is not other.scopes
    assert t.is_expired() is False
    with pytest.raises(TypeError):
        t.expires_in


def test_client_datatype():
    c = oauth2.datatype.Client(identifier="a", secret="b", redirect_uris=["x", "y"])
    assert c.redirect_uri == "x"
    c.redirect_uri = "y"
    assert c.redirect_uri == "y"
    with pytest.raises(oauth2.error.RedirectUriUnknown):
        c.redirect_uri = "z"
    assert c.grant_type_supported("anything") and c.response_type_supported("code")


def test_memory_stores_keep_their_methods():
    cs = oauth2.store.memory.ClientStore()
    assert cs.add_client(client_id="a", client_secret="b", redirect_uris=["http://x/cb"],
                         authorized_grants=["client_credentials"]) is True
    c = cs.fetch_by_client_id("a")
    assert isinstance(c, oauth2.datatype.Client)
    assert (c.identifier, c.secret, c.redirect_uris) == ("a", "b", ["http://x/cb"])
    assert c.authorized_grants == ["client_credentials"]
    # a fresh object per fetch: choosing a redirect URI never leaks into other requests
    assert cs.fetch_by_client_id("a") is not c
    with pytest.raises(oauth2.error.ClientNotFoundError):
        cs.fetch_by_client_id("nope")

    ts = oauth2.store.memory.TokenStore()
    code = oauth2.datatype.AuthorizationCode(client_id="a", code="k", expires_at=2 ** 31,
                                             redirect_uri="http://x/cb", scopes=["s"],
                                             data={"d": 1}, user_id=7)
    assert ts.save_code(code) is True
    got = ts.fetch_by_code("k")
    assert (got.code, got.scopes, got.data, got.user_id) == ("k", ["s"], {"d": 1}, 7)
    ts.delete_code("k")
    ts.delete_code("k")  # missing: a no-op
    with pytest.raises(oauth2.error.AuthCodeNotFound):
        ts.fetch_by_code("k")

    tok = oauth2.datatype.AccessToken(client_id="a", grant_type="password", token="T",
                                      expires_at=2 ** 31, refresh_token="R", user_id=7,
                                      scopes=["s"], data={"x": "y"})
    assert ts.save_token(tok) is True
    assert ts.fetch_by_token("T").__dict__ == tok.__dict__
    assert ts.fetch_by_refresh_token("R").token == "T"
    assert ts.fetch_existing_token_of_user("a", "password", 7).token == "T"
    ts.delete_refresh_token("R")
    with pytest.raises(oauth2.error.AccessTokenNotFound):
        ts.fetch_by_refresh_token("R")
    with pytest.raises(oauth2.error.AccessTokenNotFound):
        ts.fetch_by_token("nope")


def test_token_generators():
    u = oauth2.tokengenerator.Uuid4()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        u.generate())
    assert u.expires_in == {} and u.refresh_expires_in == 0
    r = oauth2.tokengenerator.URandomTokenGenerator(20)
    assert r.token_length == 20 and len(r.generate()) == 20
    u.expires_in["password"] = 5
    data = u.create_access_token_data("password")
    assert list(data) == ["access_token", "token_type", "refresh_token", "expires_in"]


def test_add_grant_writes_the_generator_and_unique_tokens(serve):
    provider = make_provider()
    gen = provider.token_generator
    assert gen.expires_in["authorization_code"] == 120
    assert gen.expires_in["password"] == 120
    assert gen.refresh_expires_in == 60
    provider.enable_unique_tokens()
    assert provider.grant_types[0].unique_token is True
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    form = {"grant_type": "password", "username": "alice", "password": "pw",
            "client_id": "abc", "client_secret": "xyz"}
    a = s.post("/token", data=form).json()
    b = s.post("/token", data=form).json()
    assert a["access_token"] == b["access_token"]  # the user's live token, handed back
    assert 0 < b["expires_in"] <= 120


def test_generator_expires_in_mutation_rebuilds_the_engine(serve):
    provider = make_provider()
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    form = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": "xyz"}
    assert s.post("/token", data=form).json()["expires_in"] == 3600
    provider.token_generator.expires_in["client_credentials"] = 77
    assert s.post("/token", data=form).json()["expires_in"] == 77
    del provider.token_generator.expires_in["client_credentials"]
    assert "expires_in" not in s.post("/token", data=form).json()


def test_invalid_site_adapter():
    with pytest.raises(oauth2.error.InvalidSiteAdapter):
        oauth2.grant.ResourceOwnerGrant(site_adapter=TestAdapter())
    with pytest.raises(oauth2.error.InvalidSiteAdapter):
        oauth2.grant.AuthorizationCodeGrant(site_adapter=object())


def test_response_object():
    r = oauth2.web.Response()
    assert (r.status_code, r.headers, r.body) == (200, {"Content-Type": "text/html"}, "")
    r.add_header("X-N", 5)
    assert r.headers["X-N"] == "5"


def test_env_vars_reach_the_adapter_and_1x_call_order(serve):
    seen = {}

    class Recording(oauth2.web.AuthorizationCodeGrantSiteAdapter):
        def authenticate(self, request, environ, scopes, client):
            seen["auth"] = (request.path, dict(environ), scopes, client.identifier,
                            client.redirect_uri)
            return {}

        def render_auth_page(self, request, response, environ, scopes, client):
            return response

        def user_has_denied_access(self, request):
            seen["deny"] = request.get_param("client_id")
            return "yes"  # only `True` itself denies

    provider = make_provider()
    provider.grant_types[0] = oauth2.grant.AuthorizationCodeGrant(site_adapter=Recording(),
                                                                  scopes=["read"])
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    app = oauth2.web.wsgi.Application(provider=provider, env_vars=["HTTP_X_USER", "NOPE"])
    s = serve("wsgiref", app=app)
    r = s.get("/authorize?response_type=code&client_id=abc&scope=read", headers={"X-User": "u1"})
    assert r.status_code == 302
    assert seen["deny"] == "abc"
    assert seen["auth"] == ("/authorize", {"HTTP_X_USER": "u1"}, ["read"], "abc", REDIRECT)


def test_custom_paths_and_scope_separator(serve):
    provider = make_provider()
    app = oauth2.web.wsgi.Application(provider=provider, authorize_uri="/oauth/auth",
                                      token_uri="/oauth/token")
    assert (provider.authorize_path, provider.token_path) == ("/oauth/auth", "/oauth/token")
    s = serve("wsgiref", app=app)
    assert s.post("/token", data={"grant_type": "client_credentials"}).status_code == 404
    old = oauth2.grant.Scope.separator
    try:
        provider.scope_separator = ","
        r = s.get("/oauth/auth?response_type=code&client_id=abc&scope=read,write&confirm=yes")
        code = query_of(r.headers["Location"])["code"]
        body = s.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": "abc", "client_secret": "xyz"}).json()
        assert body["scope"] == "read,write"
    finally:
        oauth2.grant.Scope.separator = old


def test_http_basic_auth_source(serve):
    import base64
    provider = make_provider(client_authentication_source=oauth2.client_authenticator
                             .http_basic_auth)
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    ok = s.post("/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": "Basic " + base64.b64encode(b"abc:xyz").decode()})
    assert ok.status_code == 200
    bad = s.post("/token", data={"grant_type": "client_credentials"},
                 headers={"Authorization": "Basic " + base64.b64encode(b"abc:no").decode()})
    assert bad.status_code == 401 and "WWW-Authenticate" in bad.headers
    assert bad.json()["error"] == "invalid_client"


def test_provider_dispatch_with_a_wsgi_request():
    import io
    provider = make_provider()
    body = b"grant_type=client_credentials&client_id=abc&client_secret=xyz"
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token", "QUERY_STRING": "",
           "CONTENT_TYPE": "application/x-www-form-urlencoded",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    response = provider.dispatch(oauth2.web.wsgi.Request(env), environ={})
    assert isinstance(response, oauth2.web.Response)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    token = oauth2.json.loads(response.body)["access_token"]
    assert provider.validate_access_token(token).client_id == "abc"
    assert provider.validate_access_token("nope") is None
