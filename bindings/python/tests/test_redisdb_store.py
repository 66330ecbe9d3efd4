"""python-oauth2's Redis store layout (oauth2.store.redisdb) against a real Redis server, called
from the engine as a Python store."""

import json
import uuid

import pytest
import redis

import oauth2.datatype
import oauth2.store.redisdb
import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of


@pytest.fixture
def stores():
    rs = redis.StrictRedis(host="127.0.0.1", port=6379)
    prefix = "oauth2-pytest-%s" % uuid.uuid4().hex
    yield (oauth2.store.redisdb.ClientStore(rs=rs, prefix=prefix),
           oauth2.store.redisdb.TokenStore(rs=rs, prefix=prefix), rs, prefix)
    for key in rs.scan_iter(prefix + "_*"):
        rs.delete(key)


def test_reads_records_written_by_python_oauth2(stores):
    clients, tokens, rs, prefix = stores
    rs.set(prefix + "_legacy", json.dumps({
        "identifier": "legacy", "secret": "s", "redirect_uris": ["http://x/cb"],
        "authorized_grants": None, "authorized_response_types": None}))
    assert clients.fetch_by_client_id("legacy").redirect_uris == ["http://x/cb"]
    old = {"client_id": "legacy", "grant_type": "password", "token": "t1", "data": {"a": 1},
           "expires_at": None, "refresh_token": None, "refresh_expires_at": None,
           "scopes": [], "user_id": 5}
    rs.set(prefix + "_t1", json.dumps(old))
    assert tokens.fetch_by_token("t1").__dict__ == oauth2.datatype.AccessToken(**old).__dict__
    code = {"client_id": "legacy", "code": "c1", "expires_at": 2 ** 31,
            "redirect_uri": "http://x/cb", "scopes": [], "data": {}, "user_id": None}
    rs.set(prefix + "_c1", json.dumps(code))
    assert tokens.fetch_by_code("c1").redirect_uri == "http://x/cb"


def test_every_grant_through_the_engine(stores, serve):
    clients, tokens, rs, prefix = stores
    provider = make_provider(client_store=clients, token_store=tokens)
    provider.grant_types[3].reissue_refresh_tokens = True
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    code = query_of(s.get("/authorize?response_type=code&client_id=abc&confirm=yes")
                    .headers["Location"])["code"]
    assert rs.exists(prefix + "_" + code)
    form = {"client_id": "abc", "client_secret": "xyz"}
    tok = s.post("/token", data=dict(form, grant_type="authorization_code", code=code,
                                     redirect_uri=REDIRECT)).json()
    assert not rs.exists(prefix + "_" + code)
    saved = json.loads(rs.get(prefix + "_" + tok["access_token"]))
    assert sorted(saved) == sorted(oauth2.datatype.AccessToken("c", "g", "t").__dict__)
    assert 0 < rs.ttl(prefix + "_" + tok["access_token"]) <= 120
    new = s.post("/token", data=dict(form, grant_type="refresh_token",
                                     refresh_token=tok["refresh_token"])).json()
    assert "access_token" in new
    # the reissue deleted the old refresh token and its access token (python-oauth2 kept them)
    assert not rs.exists(prefix + "_" + tok["refresh_token"])
    assert not rs.exists(prefix + "_" + tok["access_token"])
    pw = s.post("/token", data=dict(form, grant_type="password", username="alice",
                                    password="pw")).json()
    assert rs.exists("%s_abc_password_42" % prefix)
    assert tokens.fetch_existing_token_of_user("abc", "password", 42).token == pw["access_token"]
    cc = s.post("/token", data=dict(form, grant_type="client_credentials"))
    assert cc.status_code == 200
