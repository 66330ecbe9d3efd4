"""The engine's native backends (memory, SQLite, Redis) as python-oauth2 stores: full flows over
HTTP, persistence across providers, and no Python on the request path."""

import json
import uuid

import pytest

import oauth2
import oauth2.store._native_methods as nm
import oauth2.store.memory
import oauth2.store.native
import oauth2.tokengenerator
import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_command(*args):
    """One Redis command over a plain socket (RESP), for the tests' own clean-up."""
    import socket
    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as sock:
        sock.sendall(payload)
        return sock.recv(1 << 20)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request, tmp_path):
    """A factory of stores that share one backend (same file, same Redis prefix)."""
    prefix = "oauth2-pytest:%s:" % uuid.uuid4().hex
    if request.param == "memory":
        shared = oauth2.store.native.MemoryStore()
        return lambda: shared
    if request.param == "sqlite":
        path = tmp_path / "oauth2.db"
        return lambda: oauth2.store.native.SqliteStore(path, synchronous="normal")
    request.addfinalizer(lambda: redis_command(
        "EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end",
        "0", prefix + "*"))
    return lambda: oauth2.store.native.RedisStore(REDIS_URL, prefix=prefix)


def provider_on(store):
    return make_provider(client_store=store, token_store=store)


def test_flows_and_persistence_R17(backend, serve):
    store = backend()
    provider = provider_on(store)
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes&scope=write")
    code = query_of(r.headers["Location"])["code"]
    form = {"client_id": "abc", "client_secret": "xyz"}
    tok = s.post("/token", data=dict(form, grant_type="authorization_code", code=code,
                                     redirect_uri=REDIRECT)).json()
    assert tok["scope"] == "write" and tok["expires_in"] == 120
    fresh = s.post("/token", data=dict(form, grant_type="refresh_token",
                                       refresh_token=tok["refresh_token"])).json()
    assert fresh["expires_in"] == 120
    # A second store object on the same backend (another process would do the same) sees it all.
    other = backend()
    assert other.fetch_by_client_id("abc").redirect_uris == [REDIRECT]
    t = other.fetch_by_token(fresh["access_token"])
    assert (t.client_id, t.user_id, t.scopes, t.data) == ("abc", 42, ["write"], {"who": "alice"})
    assert other.fetch_by_refresh_token(tok["refresh_token"]).client_id == "abc"
    assert provider_on(other).validate_access_token(fresh["access_token"]) is not None
    cc = s.post("/token", data=dict(form, grant_type="client_credentials")).json()
    assert other.fetch_by_token(cc["access_token"]).grant_type == "client_credentials"
    # R17: replaying the code revokes everything issued from it, in the backend itself.
    again = s.post("/token", data=dict(form, grant_type="authorization_code", code=code,
                                       redirect_uri=REDIRECT))
    assert again.json()["error"] == "invalid_grant"
    with pytest.raises(oauth2.error.AccessTokenNotFound):
        other.fetch_by_token(fresh["access_token"])
    assert other.fetch_by_token(cc["access_token"]).client_id == "abc"


def test_one_store_object_for_all_three_slots_is_native(backend):
    store = backend()
    assert nm.is_native(store, nm.ClientMethods, nm.CLIENT_METHODS)
    assert nm.is_native(store, nm.TokenMethods, nm.CODE_METHODS)
    assert nm.is_native(store, nm.TokenMethods, nm.TOKEN_METHODS)


def test_no_python_on_the_request_path(serve, monkeypatch):
    provider = make_provider()
    app = oauth2.web.wsgi.Application(provider=provider)
    s = serve("wsgiref", app=app)
    form = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": "xyz"}
    assert s.post("/token", data=form).status_code == 200  # the engine is built now
    calls = []
    for name in ("save_token", "fetch_by_client_id", "fetch_by_token"):
        mixin = nm.TokenMethods if hasattr(nm.TokenMethods, name) else nm.ClientMethods
        original = getattr(mixin, name)

        def spy(self, *a, _name=name, _original=original):
            calls.append(_name)
            return _original(self, *a)
        monkeypatch.setattr(mixin, name, spy)
    token = s.post("/token", data=form).json()["access_token"]
    assert calls == []
    assert provider.access_token_store.fetch_by_token(token).client_id == "abc"
    assert calls == ["fetch_by_token"]


def test_sqlite_file_survives_a_new_store(tmp_path):
    path = tmp_path / "keep.db"
    first = oauth2.store.native.SqliteStore(path)
    first.add_client(client_id="c", client_secret="s", redirect_uris=["https://x/cb"],
                     authorized_grants=["client_credentials"])
    tok = oauth2.datatype.AccessToken(client_id="c", grant_type="client_credentials",
                                      token="T" * 40, expires_at=2 ** 31)
    first.save_token(tok)
    del first
    second = oauth2.store.native.SqliteStore(path)
    assert second.fetch_by_client_id("c").authorized_grants == ["client_credentials"]
    assert second.fetch_by_token("T" * 40).__dict__ == tok.__dict__
    assert second.remove_client("c") is True
    with pytest.raises(oauth2.error.ClientNotFoundError):
        second.fetch_by_client_id("c")


def test_bad_backend_configuration_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError):
        oauth2.store.native.RedisStore("http://not-redis")
    with pytest.raises(ValueError):
        oauth2.store.native.SqliteStore(tmp_path / "x.db", bogus_option=1)


def test_saved_records_cross_as_json_would_write_them(backend):
    """save_token/save_code hand plain values to the engine without JSON; what only json.dumps
    knows how to write still takes its rules, and what it refuses still raises its TypeError,
    with nothing saved."""
    import time
    from oauth2.datatype import AccessToken, AuthorizationCode
    from oauth2.error import AccessTokenNotFound, AuthCodeNotFound

    now = int(time.time())

    def token(name, data, user_id="alice"):
        return AccessToken(client_id="abc", grant_type="password", token=name, data=data,
                           expires_at=now + 600, refresh_token="rt-" + name,
                           refresh_expires_at=now + 900, scopes=["read", "write"],
                           user_id=user_id)

    tokens = backend()
    plain = {"n": 7, "f": 1.5, "big": 2 ** 63, "t": (1, "x"), "u": "ß✓", "none": None, "yes": True}
    tokens.save_token(token("plain", plain, user_id={"id": 7}))
    back = tokens.fetch_by_token("plain")
    assert back.data == json.loads(json.dumps(plain)) and back.user_id == {"id": 7}
    assert back.scopes == ["read", "write"] and back.refresh_token == "rt-plain"
    assert tokens.fetch_by_refresh_token("rt-plain").token == "plain"
    # A key json.dumps turns into a string, a str subclass: the JSON path, same result.
    odd = {1: "one", "s": type("Str", (str,), {})("sub")}
    tokens.save_token(token("odd", odd))
    assert tokens.fetch_by_token("odd").data == {"1": "one", "s": "sub"}
    with pytest.raises(TypeError):
        tokens.save_token(token("refused", {"x": object()}))
    with pytest.raises(AccessTokenNotFound):
        tokens.fetch_by_token("refused")

    code = AuthorizationCode(client_id="abc", code="c-plain", expires_at=now + 600,
                             redirect_uri=REDIRECT, scopes=["read"], data={"k": (1, 2)},
                             user_id="alice")
    tokens.save_code(code)
    assert tokens.delete_code("c-plain") is None
    with pytest.raises(TypeError):
        tokens.save_code(AuthorizationCode(client_id="abc", code="c-refused",
                                           expires_at=now + 600, redirect_uri=REDIRECT,
                                           scopes=[], data={"x": object()}))
    if isinstance(tokens, oauth2.store.native.MemoryStore):  # the one that can peek at codes
        with pytest.raises(AuthCodeNotFound):
            tokens.fetch_by_code("c-refused")


def test_save_token_reads_plain_tokens_natively_and_by_the_general_rules(backend):
    """save_token reads a token's plain fields natively; any other field sends the whole token
    through token_to_core and _save_token. Both paths must store the same record, and a token
    either path refuses is refused with nothing saved."""
    import time
    from oauth2 import _support
    from oauth2.datatype import AccessToken
    from oauth2.error import AccessTokenNotFound

    store = backend()
    now = int(time.time())
    Text = type("Text", (str,), {})

    def make(name, family=None, **fields):
        base = dict(client_id="abc", grant_type="password", data={"k": [1, "x"]},
                    expires_at=now + 600, refresh_token="rt-" + name,
                    refresh_expires_at=now + 900, scopes=["read", "write"], user_id="alice")
        base.update(fields)
        if callable(base["refresh_token"]):
            base["refresh_token"] = base["refresh_token"](name)
        t = AccessToken(token=name, **base)
        if family is not None:
            t._family = family
        return t

    # (fields, whether the native reader takes them as they are)
    cases = [
        ({}, True),
        (dict(scopes=("read",), user_id=7, data=None), True),
        (dict(scopes=None, user_id=None, data={}), True),
        (dict(expires_at=None, refresh_token=None, refresh_expires_at=None), True),
        (dict(refresh_expires_at=0), True),
        (dict(family="fam-given"), True),
        (dict(family=""), True),
        (dict(grant_type="client_credentials", refresh_token=None), True),
        (dict(expires_at=now + 600.7), False),
        (dict(refresh_expires_at=True), False),
        (dict(scopes={"read"}), False),
        (dict(scopes=[Text("read")]), False),
        (dict(client_id=Text("abc")), False),
        (dict(family=0), False),
        (dict(data={1: "one"}), False),
        (dict(refresh_token=lambda name: Text("rt-" + name)), False),
    ]
    for i, (fields, native) in enumerate(cases):
        fast, slow = "fast-%d" % i, "slow-%d" % i
        assert store._save_token_object(make(fast, **fields)) is native, fields
        assert (store._fetch_by_token(fast) is not None) is native, "saved only when taken"
        store.save_token(make(fast + "b", **fields))
        nm._hand_over(store._save_token, _support.token_to_core(make(slow, **fields)))
        for name in ((fast,) if native else ()) + (fast + "b",):
            got = json.loads(store._fetch_by_token(name).replace(name, "NAME"))
            want = json.loads(store._fetch_by_token(slow).replace(slow, "NAME"))
            assert got == want, (fields, got, want)
        record = json.loads(store._fetch_by_token(fast + "b"))
        if record["refresh_token"] and (record["refresh_expires_at"] or now + 1) > now:
            assert store.fetch_by_refresh_token(record["refresh_token"]).token == fast + "b"

    # Refused by both paths, nothing saved.
    for name, fields, error in [("bad-grant", dict(grant_type="telepathy"), ValueError),
                                ("bad-data", dict(data={"x": object()}), TypeError),
                                ("bad-scopes", dict(scopes=[1]), ValueError),
                                ("bad-expiry", dict(expires_at=2 ** 70), ValueError)]:
        assert store._save_token_object(make(name, **fields)) is False
        with pytest.raises(error):
            store.save_token(make(name, **fields))
        with pytest.raises(AccessTokenNotFound):
            store.fetch_by_token(name)

    class Partial(object):  # no user_id: token_to_core's AttributeError, as before
        token, client_id, grant_type, scopes, data = "partial", "abc", "password", [], {}
        expires_at = refresh_token = refresh_expires_at = None
    assert store._save_token_object(Partial()) is False
    with pytest.raises(AttributeError):
        store.save_token(Partial())
