"""One contract for every storage a Provider can run on (store_backends.py): the engine's
native memory, SQLite and Redis stores, a plain application-written Python store, and each of
python-oauth2's store modules on its real server. Everything goes through a Provider and its
WSGI application served over HTTP on loopback (wsgiref), except the records planted to test
expiry, which are saved through the store's own python-oauth2 interface."""

import threading
import time
import uuid

import pytest

import oauth2.web.wsgi
from oauth2.datatype import AccessToken, AuthorizationCode
from conftest import REDIRECT, USER_ID, make_provider, query_of
from store_backends import ATOMIC_ACROSS_HANDLES, OPENERS, open_backend

FORM = {"client_id": "abc", "client_secret": "xyz"}
RACERS = 8


@pytest.fixture(params=sorted(OPENERS))
def backend(request, tmp_path):
    b = open_backend(request.param, tmp_path)
    yield b
    b.close()


def provider_on(clients, codes, tokens, add_client=True):
    provider = make_provider(client_store=clients, token_store=tokens, code_store=codes,
                             add_client=add_client)
    provider.grant_types[3].reissue_refresh_tokens = True  # RefreshToken: rotate
    return provider


def serve_backend(serve, backend):
    provider = provider_on(backend.clients, backend.codes, backend.tokens)
    server = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    server.provider = provider
    return server


def new_code(server):
    r = server.get("/authorize?response_type=code&client_id=abc&confirm=yes&scope=read")
    assert r.status_code == 302, r.text
    return query_of(r.headers["Location"])["code"]


def redeem(server, code):
    return server.post("/token", data=dict(FORM, grant_type="authorization_code", code=code,
                                           redirect_uri=REDIRECT))


def refresh(server, refresh_token):
    return server.post("/token", data=dict(FORM, grant_type="refresh_token",
                                           refresh_token=refresh_token))


def race(calls):
    """Runs the calls at once (released together by a barrier); returns their responses."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def assert_one_winner(responses):
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (len(responses) - 1), statuses
    for r in responses:
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_grant"


def test_code_flow_save_fetch_consume_refresh(backend, serve):
    s = serve_backend(serve, backend)
    code = new_code(s)
    r = redeem(s, code)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 120
    found = s.provider.validate_access_token(tok["access_token"])
    assert found is not None and found.client_id == "abc" and found.scopes == ["read"]
    assert found.user_id == USER_ID
    # refresh keeps the user and the scopes (B9 on mongodb), then the old refresh token is dead
    new = refresh(s, tok["refresh_token"])
    assert new.status_code == 200, new.text
    fresh = s.provider.validate_access_token(new.json()["access_token"])
    assert fresh is not None and fresh.user_id == USER_ID and fresh.scopes == ["read"]
    replay = refresh(s, tok["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # consume: a code is good once (R17). (Stores with grant families, the native ones, also
    # revoke what the code issued; python-oauth2's interface has no families.)
    again = redeem(s, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_unknown_code_and_refresh_token_are_refused(backend, serve):
    s = serve_backend(serve, backend)
    assert redeem(s, "no-such-code").json()["error"] == "invalid_grant"
    assert refresh(s, "no-such-refresh-token").json()["error"] == "invalid_grant"
    assert s.provider.validate_access_token("no-such-token") is None


def test_expired_code_is_refused(backend, serve):
    s = serve_backend(serve, backend)
    code = "expired-" + uuid.uuid4().hex
    backend.codes.save_code(AuthorizationCode(
        client_id="abc", code=code, expires_at=int(time.time()) - 5, redirect_uri=REDIRECT,
        scopes=["read"], data={"who": "alice"}, user_id=USER_ID))
    r = redeem(s, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_expired_tokens_are_refused_and_live_ones_validate(backend, serve):
    s = serve_backend(serve, backend)
    now = int(time.time())
    dead = AccessToken(client_id="abc", grant_type="authorization_code",
                       token="dead-" + uuid.uuid4().hex, data={"who": "alice"},
                       expires_at=now - 100, refresh_token="deadrt-" + uuid.uuid4().hex,
                       refresh_expires_at=now - 5, scopes=["read"], user_id=USER_ID)
    live = AccessToken(client_id="abc", grant_type="authorization_code",
                       token="live-" + uuid.uuid4().hex, data={"who": "alice"},
                       expires_at=now + 100, refresh_token="livert-" + uuid.uuid4().hex,
                       refresh_expires_at=now + 200, scopes=["read"], user_id=USER_ID)
    backend.tokens.save_token(dead)
    backend.tokens.save_token(live)
    assert s.provider.validate_access_token(dead.token) is None
    r = refresh(s, dead.refresh_token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    found = s.provider.validate_access_token(live.token)
    assert found is not None and found.user_id == USER_ID and found.data == {"who": "alice"}
    assert refresh(s, live.refresh_token).status_code == 200


def test_revoked_refresh_token_and_its_access_token(backend, serve):
    """delete_refresh_token (what rotation calls) kills the refresh token everywhere."""
    s = serve_backend(serve, backend)
    tok = redeem(s, new_code(s)).json()
    backend.tokens.delete_refresh_token(tok["refresh_token"])
    r = refresh(s, tok["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_race_8_threads_redeem_one_code_through_one_provider(backend, serve):
    s = serve_backend(serve, backend)
    for _ in range(3):
        code = new_code(s)
        assert_one_winner(race([lambda: redeem(s, code)] * RACERS))


def test_race_8_threads_refresh_one_token_through_one_provider(backend, serve):
    s = serve_backend(serve, backend)
    for _ in range(3):
        tok = redeem(s, new_code(s)).json()
        assert_one_winner(race([lambda: refresh(s, tok["refresh_token"])] * RACERS))


@pytest.mark.parametrize("name", ATOMIC_ACROSS_HANDLES)
def test_race_8_providers_on_own_connections_one_winner(name, tmp_path, serve):
    """Eight Providers, each with its own store objects and connections (as eight worker
    processes would have), redeem one code and then refresh one token: the data engine itself
    must pick one winner, no per-process lock can."""
    backend = open_backend(name, tmp_path)
    try:
        servers = []
        for i in range(RACERS):
            clients, codes, tokens = backend.reopen()
            provider = provider_on(clients, codes, tokens, add_client=(i == 0))
            servers.append(serve("threaded", app=oauth2.web.wsgi.Application(provider=provider)))
        for _ in range(3):
            code = new_code(servers[0])
            assert_one_winner(race([lambda s=s: redeem(s, code) for s in servers]))
            tok = redeem(servers[0], new_code(servers[0])).json()
            assert_one_winner(race([lambda s=s: refresh(s, tok["refresh_token"])
                                    for s in servers]))
    finally:
        backend.close()
