"""User Python objects called from the engine: stores, site adapters (both API generations),
token generators and client-authentication sources; and what happens when they raise."""

import itertools

import pytest

import oauth2
import oauth2.datatype
import oauth2.error
import oauth2.grant
import oauth2.store
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of

CC = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": "xyz"}


class DictClientStore(oauth2.store.ClientStore):
    def __init__(self):
        self.clients = {}
        self.calls = 0

    def add_client(self, client_id, client_secret, redirect_uris):
        self.clients[client_id] = (client_secret, redirect_uris)

    def fetch_by_client_id(self, client_id):
        self.calls += 1
        if client_id not in self.clients:
            raise oauth2.error.ClientNotFoundError
        secret, uris = self.clients[client_id]
        return oauth2.datatype.Client(identifier=client_id, secret=secret, redirect_uris=uris)


class DictTokenStore(oauth2.store.AccessTokenStore, oauth2.store.AuthCodeStore):
    """Stores records the way python-oauth2's redis store did: as `__dict__` copies."""

    def __init__(self):
        self.codes, self.tokens, self.refresh = {}, {}, {}

    def save_code(self, authorization_code):
        self.codes[authorization_code.code] = dict(authorization_code.__dict__)

    def fetch_by_code(self, code):
        if code not in self.codes:
            raise oauth2.error.AuthCodeNotFound
        return oauth2.datatype.AuthorizationCode(**self.codes[code])

    def delete_code(self, code):
        self.codes.pop(code, None)

    def save_token(self, access_token):
        self.tokens[access_token.token] = dict(access_token.__dict__)
        if access_token.refresh_token:
            self.refresh[access_token.refresh_token] = dict(access_token.__dict__)

    def fetch_by_refresh_token(self, refresh_token):
        if refresh_token not in self.refresh:
            raise oauth2.error.AccessTokenNotFound
        return oauth2.datatype.AccessToken(**self.refresh[refresh_token])

    def delete_refresh_token(self, refresh_token):
        self.refresh.pop(refresh_token, None)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        raise oauth2.error.AccessTokenNotFound


class Counter(oauth2.tokengenerator.TokenGenerator):
    def __init__(self):
        super(Counter, self).__init__()
        self.n = itertools.count(1)

    def generate(self):
        return "tok-%04d-%s" % (next(self.n), "x" * 24)


def test_python_stores_and_generator_over_http(serve):
    cs, ts = DictClientStore(), DictTokenStore()
    provider = make_provider(client_store=cs, token_store=ts, generator=Counter())
    provider.grant_types[3].reissue_refresh_tokens = True
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes&scope=read")
    code = query_of(r.headers["Location"])["code"]
    assert code.startswith("tok-") and code in ts.codes
    body = s.post("/token", data={"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": REDIRECT, "client_id": "abc",
                                  "client_secret": "xyz"}).json()
    assert code not in ts.codes
    saved = ts.tokens[body["access_token"]]
    assert saved["user_id"] == 42 and saved["data"] == {"who": "alice"}
    assert sorted(saved) == sorted(oauth2.datatype.AccessToken("c", "g", "t").__dict__)
    refreshed = s.post("/token", data={"grant_type": "refresh_token",
                                       "refresh_token": body["refresh_token"],
                                       "client_id": "abc", "client_secret": "xyz"}).json()
    assert refreshed["access_token"].startswith("tok-") and "refresh_token" in refreshed
    assert body["refresh_token"] not in ts.refresh  # reissue: the old one was deleted
    again = s.post("/token", data={"grant_type": "refresh_token",
                                   "refresh_token": body["refresh_token"],
                                   "client_id": "abc", "client_secret": "xyz"})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert cs.calls >= 3
    assert s.post("/token", data=dict(CC, client_id="ghost")).json()["error"] == \
        "invalid_client"


def test_memory_store_subclass_override_is_honoured(serve):
    import oauth2.store.memory
    saved = []

    class Auditing(oauth2.store.memory.TokenStore):
        def save_token(self, access_token):
            saved.append(access_token.token)
            return super(Auditing, self).save_token(access_token)

    provider = make_provider(token_store=Auditing())
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    token = s.post("/token", data=CC).json()["access_token"]
    assert saved == [token]
    assert provider.access_token_store.fetch_by_token(token).client_id == "abc"


def test_custom_authentication_source(serve):
    def from_header(request):
        value = request.header("x_client")
        if value is None:
            raise oauth2.OAuthInvalidError(error="invalid_request",
                                           explanation="X-Client header missing")
        return tuple(value.split(":", 1))

    provider = make_provider(client_authentication_source=from_header)
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    ok = s.post("/token", data={"grant_type": "client_credentials"},
                headers={"X-Client": "abc:xyz"})
    assert ok.status_code == 200
    missing = s.post("/token", data={"grant_type": "client_credentials"})
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_request",
                              "error_description": "X-Client header missing"}


class OldAdapter(oauth2.web.SiteAdapter):
    """0.x adapter: three-argument methods."""

    def authenticate(self, request, environ, scopes):
        if request.post_param("confirm") == "confirm":
            return {"old": True}, "u7"
        raise oauth2.error.UserNotAuthenticated

    def render_auth_page(self, request, response, environ, scopes):
        response.body = "old page"
        return response

    def user_has_denied_access(self, request):
        return request.post_param("deny") == "deny"


def test_0x_api_positional_provider_and_adapter_arity(serve):
    cs = oauth2.store.memory.ClientStore()
    cs.add_client(client_id="abc", client_secret="xyz", redirect_uris=[REDIRECT])
    ts = oauth2.store.memory.TokenStore()
    # python-oauth2 0.7's positional order: site adapter before the token generator
    provider = oauth2.Provider(ts, ts, cs, OldAdapter(), oauth2.tokengenerator.Uuid4())
    assert isinstance(provider.site_adapter, OldAdapter)
    provider.add_grant(oauth2.grant.AuthorizationCodeGrant())
    provider.add_grant(oauth2.grant.ResourceOwnerGrant())
    s = serve("wsgiref", app=oauth2.web.Wsgi(server=provider))
    assert s.get("/authorize?response_type=code&client_id=abc").text == "old page"
    r = s.post("/authorize?response_type=code&client_id=abc", data={"confirm": "confirm"})
    code = query_of(r.headers["Location"])["code"]
    s.post("/token", data={"grant_type": "authorization_code", "code": code,
                           "client_id": "abc", "client_secret": "xyz"})
    # password grant with the same 0.x adapter (three arguments, no client)
    r = s.post("/token", data={"grant_type": "password", "username": "u", "password": "p",
                               "confirm": "confirm", "client_id": "abc",
                               "client_secret": "xyz"})
    assert r.status_code == 200
    tok = provider.access_token_store.fetch_by_token(r.json()["access_token"])
    assert tok.user_id == "u7" and tok.data == {"old": True}


def test_grant_without_any_adapter_is_a_clear_error():
    provider = make_provider()
    provider.add_grant(oauth2.grant.ImplicitGrant())
    provider.grant_types.insert(0, provider.grant_types.pop())
    with pytest.raises(TypeError, match="needs a site adapter"):
        provider._native_engine()


def test_typeerror_inside_an_adapter_is_not_swallowed(serve, app_log_records):
    class Buggy(oauth2.web.AuthorizationCodeGrantSiteAdapter):
        def authenticate(self, request, environ, scopes, client):
            return len(None)  # a bug in user code

        def render_auth_page(self, request, response, environ, scopes, client):
            return response

        def user_has_denied_access(self, request):
            return False

    provider = make_provider()
    provider.grant_types[0] = oauth2.grant.AuthorizationCodeGrant(site_adapter=Buggy())
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc&state=q")
    q = query_of(r.headers["Location"])
    assert (q["error"], q["state"]) == ("server_error", "q")
    assert app_log_records and app_log_records[-1].exc_info[0] is TypeError


class Exploding(DictTokenStore):
    def save_token(self, access_token):
        raise RuntimeError("disk full")


def test_raising_store_gives_server_error_logged_nothing_half_written(serve, app_log_records):
    store = Exploding()
    provider = make_provider(token_store=store)
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.post("/token", data=CC)
    assert r.status_code == 500
    assert r.json() == {"error": "server_error", "error_description": "Internal server error"}
    assert "Traceback" not in r.text and "disk full" not in r.text
    assert store.tokens == {} and store.refresh == {}
    rec = app_log_records[-1]
    assert rec.name == "oauth2.application" and rec.getMessage() == "Uncaught Exception"
    assert rec.exc_info[0] is RuntimeError


def test_raising_client_store_and_generator(serve, app_log_records):
    class BadClients(DictClientStore):
        def fetch_by_client_id(self, client_id):
            raise KeyError(client_id)

    class BadGen(oauth2.tokengenerator.TokenGenerator):
        def generate(self):
            raise ValueError("no entropy")

    s = serve("wsgiref", app=oauth2.web.wsgi.Application(
        provider=make_provider(client_store=BadClients())))
    assert s.post("/token", data=CC).json()["error"] == "server_error"
    s2 = serve("wsgiref", app=oauth2.web.wsgi.Application(
        provider=make_provider(generator=BadGen())))
    r = s2.post("/token", data=CC)
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    kinds = [rec.exc_info[0] for rec in app_log_records if rec.exc_info]
    assert KeyError in kinds and ValueError in kinds


def test_adapter_arity_variants(serve):
    calls = []

    class V05(oauth2.web.SiteAdapter):
        """0.5: render_auth_page(request, response, environ); *args authenticate."""

        def authenticate(self, *args):
            calls.append(len(args))
            raise oauth2.error.UserNotAuthenticated

        def render_auth_page(self, request, response, environ):
            response.body = "v05"
            return response

        def user_has_denied_access(self, request):
            return False

    provider = make_provider(site_adapter=V05())
    provider.grant_types[0] = oauth2.grant.AuthorizationCodeGrant()
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc")
    assert r.status_code == 200 and r.text == "v05"
    assert calls == [4]  # *args gets everything, client included
