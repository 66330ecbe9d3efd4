"""oauth2.store.memcache against the real memcached on 127.0.0.1:11211 (a fresh key prefix per
test). The contract (flows, expiry, races) is in test_store_contract.py; this file covers the
key layout, the fixes (B8: prefixed lookups; S8: expiry) and the constructor."""

import json
import socket
import time
import uuid

import pytest
from pymemcache.client.base import Client as Memcached

import oauth2.store.memcache
import oauth2.store.memory
import oauth2.web.wsgi
from oauth2.datatype import AccessToken, AuthorizationCode
from oauth2.error import AccessTokenNotFound
from conftest import REDIRECT, USER_ID, make_provider, query_of
from store_backends import MEMCACHED

FORM = {"client_id": "abc", "client_secret": "xyz"}


@pytest.fixture
def mc():
    client = Memcached(MEMCACHED, connect_timeout=2, timeout=2)
    yield client
    client.close()


@pytest.fixture
def prefix():
    return "pytest%s" % uuid.uuid4().hex[:12]


def ttl(key):
    """Seconds left on a key (-1: no expiry, None: missing), by memcached's meta get."""
    with socket.create_connection(MEMCACHED, timeout=2) as s:
        s.sendall(b"mg " + key.encode() + b" t\r\n")
        line = s.makefile("rb").readline().decode().split()
    if line[0] == "EN":
        return None
    return int(line[1][1:])


def test_flow_over_http_uses_python_oauth2_keys(mc, prefix, serve):
    tokens = oauth2.store.memcache.TokenStore(mc=mc, prefix=prefix)
    provider = make_provider(client_store=oauth2.store.memory.ClientStore(), token_store=tokens)
    provider.grant_types[3].reissue_refresh_tokens = True
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes")
    code = query_of(r.headers["Location"])["code"]
    saved = json.loads(mc.get("%s_%s" % (prefix, code)))
    assert saved["client_id"] == "abc" and saved["user_id"] == USER_ID
    assert 590 <= ttl("%s_%s" % (prefix, code)) <= 601  # S8: the code's lifetime
    tok = s.post("/token", data=dict(FORM, grant_type="authorization_code", code=code,
                                     redirect_uri=REDIRECT)).json()
    assert mc.get("%s_%s" % (prefix, code)) is None
    for name in (tok["access_token"], tok["refresh_token"], "abc_authorization_code_42"):
        record = json.loads(mc.get("%s_%s" % (prefix, name)))
        assert sorted(record) == sorted(AccessToken("c", "g", "t").__dict__)
        assert record["token"] == tok["access_token"]
        # S8: keys live as long as the later of the access (120 s) and refresh (60 s) expiry
        assert 110 <= ttl("%s_%s" % (prefix, name)) <= 121
    # B8: the refresh and unique lookups read the prefixed keys
    assert tokens.fetch_by_refresh_token(tok["refresh_token"]).user_id == USER_ID
    assert tokens.fetch_existing_token_of_user("abc", "authorization_code", USER_ID).token == \
        tok["access_token"]
    new = s.post("/token", data=dict(FORM, grant_type="refresh_token",
                                     refresh_token=tok["refresh_token"]))
    assert new.status_code == 200, new.text
    # the rotation removed the old refresh and access keys, and the unique pointer to them
    assert mc.get("%s_%s" % (prefix, tok["refresh_token"])) is None
    assert mc.get("%s_%s" % (prefix, tok["access_token"])) is None
    found = tokens.fetch_existing_token_of_user("abc", "authorization_code", USER_ID)
    assert found.token == new.json()["access_token"]


def test_never_expiring_token_has_no_ttl_and_expired_records_are_not_written(mc, prefix):
    tokens = oauth2.store.memcache.TokenStore(mc=mc, prefix=prefix)
    tokens.save_token(AccessToken("abc", "client_credentials", "forever"))
    assert ttl("%s_forever" % prefix) == -1
    tokens.save_token(AccessToken("abc", "client_credentials", "gone",
                                  expires_at=int(time.time()) - 1))
    assert mc.get("%s_gone" % prefix) is None
    tokens.save_code(AuthorizationCode("abc", "old-code", int(time.time()) - 1, REDIRECT, []))
    assert mc.get("%s_old-code" % prefix) is None
    # a lifetime beyond memcached's 30-day relative limit is sent as an absolute time
    far = int(time.time()) + 40 * 86400
    tokens.save_token(AccessToken("abc", "client_credentials", "far", expires_at=far))
    # (memcached converts absolute times with its own one-second clock: allow a second)
    assert 40 * 86400 - 10 <= ttl("%s_far" % prefix) <= 40 * 86400 + 2


def test_delete_refresh_token_and_atomic_take(mc, prefix):
    tokens = oauth2.store.memcache.TokenStore(mc=mc, prefix=prefix)
    now = int(time.time())
    for i in (1, 2):
        tokens.save_token(AccessToken("abc", "password", "t%d" % i, expires_at=now + 60,
                                      refresh_token="r%d" % i, refresh_expires_at=now + 90,
                                      user_id=i))
    tokens.delete_refresh_token("r1")
    for name in ("t1", "r1"):
        assert mc.get("%s_%s" % (prefix, name)) is None
    with pytest.raises(AccessTokenNotFound):
        tokens.delete_refresh_token("r1")
    assert tokens.consume_refresh_token("r2").user_id == 2
    with pytest.raises(AccessTokenNotFound):
        tokens.consume_refresh_token("r2")
    # an access token is not a refresh token
    tokens.save_token(AccessToken("abc", "password", "t3", expires_at=now + 60))
    with pytest.raises(AccessTokenNotFound):
        tokens.fetch_by_refresh_token("t3")


def test_builds_its_own_client_from_server_addresses(prefix):
    """TokenStore(mc=None, prefix, *args): python-oauth2 passed args to memcache.Client; without
    python-memcached installed a pymemcache client is built for the same address list."""
    tokens = oauth2.store.memcache.TokenStore(None, prefix, ["%s:%d" % MEMCACHED])
    tokens.save_code(AuthorizationCode("abc", "c1", int(time.time()) + 60, REDIRECT, ["read"],
                                       data={"x": 1}, user_id=5))
    found = tokens.consume_code("c1")
    assert (found.scopes, found.data, found.user_id) == (["read"], {"x": 1}, 5)
