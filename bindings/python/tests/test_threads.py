"""One Provider shared by many threads: no duplicate tokens, one winner per code."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

import oauth2.web.wsgi
from conftest import REDIRECT, make_provider, query_of

CC = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": "xyz"}


def test_many_threads_distinct_tokens_R29(serve):
    provider = make_provider()
    s = serve("waitress", app=oauth2.web.wsgi.Application(provider=provider))

    def one(_):
        with requests.Session() as sess:
            return [sess.post(s.url + "/token", data=CC, timeout=10).json()["access_token"]
                    for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        tokens = [t for batch in pool.map(one, range(8)) for t in batch]
    assert len(tokens) == 200 and len(set(tokens)) == 200
    for t in tokens[:10]:
        assert provider.validate_access_token(t).client_id == "abc"


def test_one_winner_per_code_R17(serve):
    provider = make_provider()
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    for _ in range(5):
        r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes")
        code = query_of(r.headers["Location"])["code"]
        barrier = threading.Barrier(8)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "client_id": "abc", "client_secret": "xyz"}

        def redeem(_):
            barrier.wait(5)
            return requests.post(s.url + "/token", data=form, timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(redeem, range(8)))
        assert statuses.count(200) == 1, statuses
        assert statuses.count(400) == 7


def test_in_process_threads_share_one_application():
    """Direct WSGI calls from many threads (the engine runs with the GIL released)."""
    import io
    app = oauth2.web.wsgi.Application(provider=make_provider())
    body = b"grant_type=client_credentials&client_id=abc&client_secret=xyz"
    out, lock = [], threading.Lock()

    def work():
        for _ in range(200):
            env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
            status = []
            payload = b"".join(app(env, lambda st, h: status.append(st)))
            with lock:
                out.append((status[0], payload))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 1200 and all(st == "200 OK" for st, _ in out)
    tokens = {oauth2.json.loads(p)["access_token"] for _, p in out}
    assert len(tokens) == 1200


def test_one_winner_per_code_with_a_python_store_R17(serve):
    """python-oauth2's store interface has no atomic take; the engine serializes fetch+delete."""
    from test_custom_hosts import DictTokenStore
    store = DictTokenStore()
    provider = make_provider(token_store=store)
    s = serve("threaded", app=oauth2.web.wsgi.Application(provider=provider))
    for _ in range(3):
        r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes")
        code = query_of(r.headers["Location"])["code"]
        barrier = threading.Barrier(6)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "client_id": "abc", "client_secret": "xyz"}

        def redeem(_):
            barrier.wait(5)
            return requests.post(s.url + "/token", data=form, timeout=10).status_code

        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(redeem, range(6)))
        assert statuses.count(200) == 1, statuses
    assert len(store.tokens) == 3
