"""The site-adapter path: the request object adapters get (parsed as python-oauth2 parsed it, built
lazily), the consent's client and scopes, and adapter results of every JSON shape (converted
without a JSON round trip, with json.dumps's rules for everything else)."""

import io
import json
import random
from urllib.parse import parse_qs

import pytest

import oauth2
import oauth2.datatype
import oauth2.error
import oauth2.grant
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of


def _parse_qs_first(raw):
    return {name: values[0] for name, values in parse_qs(raw).items()}


def _environ(method="GET", query="", body=b"", content_type="application/x-www-form-urlencoded"):
    return {"REQUEST_METHOD": method, "PATH_INFO": "/token", "QUERY_STRING": query,
            "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body)}


def test_request_params_match_parse_qs_on_random_input():
    rng = random.Random(20261129)
    alphabet = "ab=&+%;2Fé\x00 ZzC3%e9%E2%82%ac%zz%4"
    cases = ["", "&", "=", "a", "a=", "=b", "a=1&a=2", "a=&a=2", "a+b=c+d", "%61=%62",
             "x=%E2%82%AC", "x=%ff%fe", "k=v;w=z", "&&a=1&&", "a==b", "%=%", "a%2Bb=1+%2B+1"]
    for _ in range(3000):
        cases.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))))
    for raw in cases:
        want = _parse_qs_first(raw)
        assert oauth2.web.wsgi.Request(_environ(query=raw)).query_params == want, raw
        body = raw.encode("utf-8")
        post = oauth2.web.wsgi.Request(_environ("POST", body=body))
        # Single lookups scan the text (before any dict exists) with the same rule.
        for name in list(want) + ["a", "a b", "%61", "ab", "\ufffd", ""]:
            assert post.post_param(name) == want.get(name), (raw, name)
            assert post.get_param(name) is None
        assert post.post_params == want, raw
        assert post._raw_body == body


def test_body_lookups_with_bytes_that_are_not_utf8():
    # python-oauth2 decoded the body with errors replaced before parsing it.
    for body in [b"\xff=1&a=2", b"a\xff=1&a\xef\xbf\xbd=2", b"k=\xff%ff", b"\xc3=x&\xc3\xa9=y",
                 b"a%2=1&a%252=2", b"+a=1& a=2", b"a+%2B=1"]:
        want = _parse_qs_first(body.decode("utf-8", "replace"))
        for name in list(want) + ["a", "\ufffd", "a\ufffd", "\xe9", "k"]:
            request = oauth2.web.wsgi.Request(_environ("POST", body=body))
            assert request.post_param(name) == want.get(name), (body, name)


def test_request_attributes_and_assignment():
    r = oauth2.web.wsgi.Request(_environ("POST", query="a=1&b=2", body=b"c=3&c=4&d=",
                                         content_type="application/x-www-form-urlencoded; x=y"))
    assert (r.method, r.path, r.query_string) == ("POST", "/token", "a=1&b=2")
    assert r.get_param("a") == "1" and r.get_param("zz", "d") == "d"
    assert r.post_params == {"c": "3"} and r.post_param("d") is None
    r.post_params = {"c": "9"}
    r.query_params = {}
    assert r.post_param("c") == "9" and r.get_param("a") is None
    # Not a form: no post parameters, the body is still there.
    j = oauth2.web.wsgi.Request(_environ("POST", body=b'{"a": 1}', content_type="application/json"))
    assert j.post_params == {} and j._raw_body == b'{"a": 1}'
    # A GET never reads the body.
    g = oauth2.web.wsgi.Request(_environ("GET", body=b"a=1"))
    assert g.post_params == {} and g._raw_body == b""


class Recording(oauth2.web.AuthorizationCodeGrantSiteAdapter,
                oauth2.web.ResourceOwnerGrantSiteAdapter):
    """Returns whatever `result` holds and records what it was called with."""

    result = ({}, 1)

    def __init__(self):
        self.seen = []

    def authenticate(self, request, environ, scopes, client):
        self.seen.append((request, environ, scopes, client))
        return self.result

    def render_auth_page(self, request, response, environ, scopes, client):
        return response

    def user_has_denied_access(self, request):
        return False


class StrSub(str):
    pass


class IntSub(int):
    pass


def _password_app(adapter, request_class=oauth2.web.wsgi.Request, env_vars=None):
    token_store = oauth2.store.memory.TokenStore()
    provider = make_provider(token_store=token_store)
    provider.grant_types[2] = oauth2.grant.ResourceOwnerGrant(site_adapter=adapter,
                                                             expires_in=120)
    app = oauth2.web.wsgi.Application(provider=provider, request_class=request_class,
                                      env_vars=env_vars)
    return app, token_store


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


PASSWORD = {"grant_type": "password", "username": "alice", "password": "pw",
            "client_id": "abc", "client_secret": "xyz", "scope": "read"}


@pytest.mark.parametrize("data,user_id", [
    ({}, 42),
    ({"s": "x", "i": -3, "big": 2 ** 63 + 5, "f": 1.5, "whole": 2.0, "t": True, "f0": False,
      "n": None, "l": [1, "a", [None]], "tu": (1, 2), "d": {"e": {}}}, "alice"),
    ({"neg": -2 ** 64}, 10 ** 20),
    ({1: "int key", None: "none key", True: "bool key", 2.5: "float key"}, None),
    ({"sub": StrSub("x"), StrSub("k"): IntSub(7)}, IntSub(3)),
    ([1, 2], [1, {"a": "b"}]),
    ("just a string", 0),
    ({"deep": _nested(70)}, "deep"),
    ({"text": "é\u20ac\U0001f600\x00"}, "u"),
])
def test_adapter_results_are_stored_as_json_would_have_them(serve, data, user_id):
    adapter = Recording()
    adapter.result = (data, user_id)
    app, store = _password_app(adapter)
    s = serve("wsgiref", app=app)
    r = s.post("/token", data=PASSWORD)
    assert r.status_code == 200, r.text
    token = store.fetch_by_token(r.json()["access_token"])
    assert token.data == json.loads(json.dumps(data))
    assert token.user_id == json.loads(json.dumps(user_id))


def test_a_bare_result_is_data_without_a_user(serve):
    adapter = Recording()
    adapter.result = {"only": "data"}
    app, store = _password_app(adapter)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    token = store.fetch_by_token(r.json()["access_token"])
    assert token.data == {"only": "data"} and token.user_id is None


@pytest.mark.parametrize("data,error", [
    ({"a": {1, 2}}, TypeError),
    ({"when": object()}, TypeError),
    ({(1, 2): "tuple key"}, TypeError),
])
def test_results_json_cannot_hold_are_logged_server_errors(serve, app_log_records, data, error):
    adapter = Recording()
    adapter.result = (data, "u")
    app, store = _password_app(adapter)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    assert app_log_records[-1].name == "oauth2.application"
    assert app_log_records[-1].exc_info[0] is error


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_numbers_are_server_errors(serve, value):
    adapter = Recording()
    adapter.result = ({"x": value}, "u")
    app, _ = _password_app(adapter)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    assert r.status_code == 500 and r.json()["error"] == "server_error"


def test_cyclic_result_is_a_logged_server_error(serve, app_log_records):
    cyclic = {}
    cyclic["me"] = [cyclic]
    adapter = Recording()
    adapter.result = (cyclic, "u")
    app, _ = _password_app(adapter)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    assert app_log_records[-1].exc_info[0] is ValueError


def test_consent_client_scopes_and_request_reach_the_adapter(serve):
    adapter = Recording()
    provider = make_provider()
    provider.grant_types[0] = oauth2.grant.AuthorizationCodeGrant(
        site_adapter=adapter, scopes=["read", "write"], default_scope="read")
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider,
                                                         env_vars=["REQUEST_METHOD", "NOT_THERE"]))
    r = s.get("/authorize?response_type=code&client_id=abc&state=q&scope=read+write"
              "&redirect_uri=" + REDIRECT.replace(":", "%3A").replace("/", "%2F"))
    assert query_of(r.headers["Location"])["state"] == "q"
    request, environ, scopes, client = adapter.seen[-1]
    assert type(request) is oauth2.web.wsgi.Request
    assert request.get_param("scope") == "read write" and request.get_param("state") == "q"
    assert request.get_param("redirect_uri") == REDIRECT
    assert environ == {"REQUEST_METHOD": "GET"}
    assert scopes == ["read", "write"]
    assert type(client) is oauth2.datatype.Client
    assert (client.identifier, client.secret, client.redirect_uris, client.redirect_uri) == (
        "abc", "xyz", [REDIRECT], REDIRECT)
    assert client.authorized_grants is None and client.authorized_response_types is None
    # The engine makes the client without running __init__: it must leave what __init__ leaves.
    expected = oauth2.datatype.Client(identifier="abc", secret="xyz", redirect_uris=[REDIRECT])
    expected.redirect_uri = REDIRECT
    assert vars(client) == vars(expected) and list(vars(client)) == list(vars(expected))


def test_each_consent_gets_its_own_client_and_sees_record_changes():
    """The engine reuses the Python strings of a client between requests, never the client or
    its lists: what one adapter call changes is not seen by the next, and a changed record is."""
    seen = []

    class Mutating(Recording):
        def authenticate(self, request, environ, scopes, client):
            seen.append((client, {k: (list(v) if isinstance(v, list) else v)
                                  for k, v in vars(client).items()}))
            client.redirect_uris.append("http://elsewhere.example/cb")
            client.secret = "changed"
            client.extra = 1
            return self.result

    client_store = oauth2.store.memory.ClientStore()
    provider = make_provider(client_store=client_store)
    provider.grant_types[2] = oauth2.grant.ResourceOwnerGrant(site_adapter=Mutating(),
                                                             expires_in=120)
    app = oauth2.web.wsgi.Application(provider=provider)

    def token(secret):
        body = "&".join("%s=%s" % kv for kv in dict(PASSWORD, client_secret=secret).items())
        started = []
        out = b"".join(app(_environ("POST", body=body.encode()), lambda s, h: started.append(s)))
        assert started == ["200 OK"], out

    token("xyz")
    token("xyz")
    (first, first_vars), (second, second_vars) = seen
    assert first is not second and first.redirect_uris is not second.redirect_uris
    assert first_vars == second_vars == {
        "authorized_grants": None, "authorized_response_types": None, "identifier": "abc",
        "secret": "xyz", "redirect_uris": [REDIRECT], "_redirect_uri": None}
    other = "https://other.example/cb"
    client_store.remove_client("abc")
    client_store.add_client(client_id="abc", client_secret="new", redirect_uris=[REDIRECT, other],
                            authorized_grants=["password"])
    token("new")
    third, third_vars = seen[-1]
    assert third_vars == {
        "authorized_grants": ["password"], "authorized_response_types": None,
        "identifier": "abc", "secret": "new", "redirect_uris": [REDIRECT, other],
        "_redirect_uri": None}
    assert type(third) is oauth2.datatype.Client and third.redirect_uri == REDIRECT


def test_custom_request_class_is_what_adapters_get(serve):
    made = []

    class MyRequest(oauth2.web.wsgi.Request):
        def __init__(self, env):
            super(MyRequest, self).__init__(env)
            made.append(self)
            self.extra = env.get("HTTP_X_EXTRA")

    adapter = Recording()
    app, _ = _password_app(adapter, request_class=MyRequest)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD, headers={"X-Extra": "1"})
    assert r.status_code == 200
    request = adapter.seen[-1][0]
    assert type(request) is MyRequest and made == [request]
    assert request.extra == "1" and request.post_param("username") == "alice"
    assert request.post_params == {k: v for k, v in PASSWORD.items()}


def test_request_class_not_derived_from_ours(serve):
    class Plain(object):
        def __init__(self, env):
            self.body = env["wsgi.input"].read(int(env["CONTENT_LENGTH"]))

        def post_param(self, name, default=None):
            return _parse_qs_first(self.body.decode()).get(name, default)

    adapter = Recording()
    app, _ = _password_app(adapter, request_class=Plain)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    assert r.status_code == 200
    request = adapter.seen[-1][0]
    assert type(request) is Plain and request.post_param("password") == "pw"


class ExistingTokens(oauth2.store.memory.TokenStore):
    """A Python store (it overrides a store method) that answers unique-token lookups itself."""

    def __init__(self):
        super(ExistingTokens, self).__init__()
        self.asked = []
        self.saved = {}

    def save_token(self, access_token):
        self.saved[access_token.token] = access_token

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        self.asked.append((client_id, grant_type, user_id))
        for token in self.saved.values():
            if (token.client_id, token.grant_type, token.user_id) == (client_id, grant_type,
                                                                       user_id):
                return token
        raise oauth2.error.AccessTokenNotFound


@pytest.mark.parametrize("user_id", [42, "alice", 2 ** 63 + 1, 1.5, True,
                                     {"id": 7, "roles": ["a", None], "w": 0.25}])
def test_unique_tokens_hand_the_store_the_user_id_as_python(serve, user_id):
    adapter = Recording()
    adapter.result = ({"k": "v"}, user_id)
    store = ExistingTokens()
    provider = make_provider(token_store=store)
    provider.grant_types[2] = oauth2.grant.ResourceOwnerGrant(site_adapter=adapter,
                                                             expires_in=120)
    provider.enable_unique_tokens()
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    first = s.post("/token", data=PASSWORD).json()
    second = s.post("/token", data=PASSWORD).json()
    assert first["access_token"] == second["access_token"]
    assert len(store.saved) == 1
    client_id, grant_type, seen = store.asked[-1]
    assert (client_id, grant_type) == ("abc", "password")
    assert seen == user_id and type(seen) is type(user_id)


def test_the_password_adapter_gets_a_fresh_client_and_request_each_time(serve):
    adapter = Recording()
    app, _ = _password_app(adapter)
    s = serve("wsgiref", app=app)
    for _ in range(2):
        assert s.post("/token", data=PASSWORD).status_code == 200
    (r1, e1, scopes1, c1), (r2, e2, scopes2, c2) = adapter.seen[-2:]
    assert type(r1) is oauth2.web.wsgi.Request and r1 is not r2
    assert c1 is not c2 and c1.redirect_uris is not c2.redirect_uris
    assert vars(c1) == vars(oauth2.datatype.Client(identifier="abc", secret="xyz",
                                                  redirect_uris=[REDIRECT]))
    c1.redirect_uris.append("https://elsewhere/cb")
    assert c2.redirect_uris == [REDIRECT]
    assert (r1.method, r1.path, r1.query_string) == ("POST", "/token", "")
    assert r1.env_raw["PATH_INFO"] == "/token" and r1.env_raw is not r2.env_raw
    assert r1.post_param("username") == "alice" and r1.post_param("missing", "d") == "d"
    assert r1.post_params == PASSWORD and r1.get_param("x", 5) == 5
    assert r1._raw_body.decode() == "&".join("%s=%s" % kv for kv in PASSWORD.items())
    assert e1 == {} and type(scopes1) is list and scopes1 == scopes2 and scopes1 is not scopes2


def test_the_password_adapter_reads_the_query_string_of_a_token_request(serve):
    # The WSGI glue does not read QUERY_STRING for the token endpoint (the engine never looks
    # at it there); the request object handed to the adapter reads it from the environ.
    adapter = Recording()
    app, _ = _password_app(adapter)
    s = serve("wsgiref", app=app)
    assert s.post("/token?x=7&y=a+b", data=PASSWORD).status_code == 200
    assert s.post("/token", data=PASSWORD).status_code == 200
    (with_query, _, _, _), (without, _, _, _) = adapter.seen[-2:]
    assert with_query.query_string == "x=7&y=a+b"
    assert with_query.get_param("x") == "7" and with_query.get_param("y") == "a b"
    assert without.query_string == "" and without.get_param("x") is None


def _native_and_python(raw_body, query=""):
    """The same request made by the engine's path (``Request(env)``) and parsed by parse_qs."""
    return (oauth2.web.wsgi.Request(_environ("POST", query=query, body=raw_body)),
            _parse_qs_first(raw_body.decode("utf-8", "replace")))


def test_single_lookups_agree_with_the_full_parse_on_random_bytes():
    rng = random.Random(20261130)
    alphabet = [b"a", b"b", b"=", b"&", b"+", b"%", b"2", b"F", b"e9", b"\xc3", b"\xa9", b"\xff",
                b"%C3", b"%A9", b"\xe2\x82", b"%E2%82%AC", b" ", b"\xef\xbf\xbd"]
    names = ["a", "b", "", " ", "a b", "\ufffd", "é", "€", "a+b", "ab"]
    for _ in range(3000):
        raw = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        want = _parse_qs_first(raw.decode("utf-8", "replace"))
        for name in names:
            request, _ = _native_and_python(raw)
            # Looked up before the dict exists (a scan), then through the dict.
            assert request.post_param(name) == want.get(name), (raw, name)
            assert request.post_params == want, raw
            assert request.post_param(name) == want.get(name), (raw, name)


def test_lookups_follow_assigned_and_mutated_params():
    request, _ = _native_and_python(b"a=1&b=2", query="q=1")
    request.post_params["a"] = "changed"
    assert request.post_param("a") == "changed"
    request.post_params = {"z": "9"}
    assert request.post_param("a") is None and request.post_param("z") == "9"

    class Mapping(object):
        def get(self, name, default=None):
            return "mapped-" + name if name != "none" else default
    request.query_params = Mapping()
    assert request.get_param("q") == "mapped-q" and request.get_param("none", 3) == 3
    # Names that are not plain str are looked up in the dict, as before.
    fresh, _ = _native_and_python(b"1=x&a=y")
    assert fresh.post_param(1) is None and fresh.post_param(StrSub("a")) == "y"


def test_a_subclass_of_the_request_is_built_and_read_as_before():
    class Mine(oauth2.web.wsgi.Request):
        pass

    request = Mine(_environ("POST", query="x=%41", body=b"y=%42&y=2"))
    assert (request.get_param("x"), request.post_param("y")) == ("A", "B")
    assert request.header("missing", "dflt") == "dflt"
    request.anything = 1
    assert request.anything == 1


class TupleSub(tuple):
    pass


class Reversed(tuple):
    """A pair whose own iteration (which `tuple(result)` uses) gives its items reversed."""

    def __iter__(self):
        return iter([self[1], self[0]])


@pytest.mark.parametrize("result,data,user_id", [
    (TupleSub(({"k": 1}, "u")), {"k": 1}, "u"),
    (Reversed(("u", {"k": 2})), {"k": 2}, "u"),
    (None, {}, None),
    (({"a": 1}, "u", "extra"), [{"a": 1}, "u", "extra"], None),
    (TupleSub((1, 2, 3)), [1, 2, 3], None),
])
def test_what_the_adapter_answers_is_read_as_python_oauth2_read_it(serve, result, data, user_id):
    adapter = Recording()
    adapter.result = result
    app, store = _password_app(adapter)
    r = serve("wsgiref", app=app).post("/token", data=PASSWORD)
    assert r.status_code == 200, r.text
    token = store.fetch_by_token(r.json()["access_token"])
    assert token.data == data and token.user_id == user_id


def test_a_request_copies_with_its_native_fields():
    import copy
    request = oauth2.web.wsgi.Request(_environ("POST", query="q=1", body=b"a=1&b=2"))
    request.extra = "x"
    request.post_params["b"] = "changed"
    twin = copy.copy(request)
    assert type(twin) is oauth2.web.wsgi.Request and twin.extra == "x"
    assert (twin.method, twin.path, twin.query_string) == ("POST", "/token", "q=1")
    assert twin.env_raw is request.env_raw and twin._raw_body == b"a=1&b=2"
    assert twin.get_param("q") == "1" and twin.post_param("b") == "changed"
    assert twin.post_params is request.post_params
