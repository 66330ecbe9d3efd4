"""In-process benchmark: client-credentials token requests through the WSGI application.

Works unchanged with python-oauth2 1.1.1 and with this package (same API), so the two can be
compared in one run:  python bench/wsgi_client_credentials.py [requests]
Prints CPU microseconds per request (best of 5 rounds). No sockets: the WSGI callable is called
directly, which is what a WSGI server does per request.
"""

import io
import sys
import time

import oauth2
import oauth2.grant
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web.wsgi


def build():
    client_store = oauth2.store.memory.ClientStore()
    client_store.add_client(client_id="bench", client_secret="s3cret",
                            redirect_uris=["http://127.0.0.1/cb"])
    token_store = oauth2.store.memory.TokenStore()
    gen = oauth2.tokengenerator.Uuid4()
    gen.expires_in["client_credentials"] = 3600
    provider = oauth2.Provider(access_token_store=token_store, auth_code_store=token_store,
                               client_store=client_store, token_generator=gen)
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    return oauth2.web.wsgi.Application(provider=provider)


BODY = b"grant_type=client_credentials&client_id=bench&client_secret=s3cret"


def run(app, n):
    status = []

    def start_response(s, h):
        status.append(s)

    base = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token", "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(BODY)), "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    # CPU time of this thread: the figure that does not move with the load of a shared machine.
    t0 = time.thread_time()
    for _ in range(n):
        env = dict(base)
        env["wsgi.input"] = io.BytesIO(BODY)
        b"".join(app(env, start_response))
    elapsed = time.thread_time() - t0
    assert status[-1].startswith("200"), status[-1]
    return elapsed / n * 1e6


def floor(n):
    """The cost of the loop itself with a trivial WSGI app (environ copy, BytesIO, join)."""
    def app(env, start_response):
        env["wsgi.input"].read(int(env["CONTENT_LENGTH"]))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]
    return run(app, n)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    app = build()
    run(app, 1000)
    best = min(run(app, n) for _ in range(5))
    print("%s %s: %.2f us/request (floor %.2f us)" % (
        getattr(oauth2, "__name__", "oauth2"), getattr(oauth2, "__version__", oauth2.VERSION),
        best, min(floor(n) for _ in range(3))))
