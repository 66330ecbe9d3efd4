"""Random hostile requests straight into the WSGI application: every one gets a well-formed
answer (never an exception, never a bare 500), with native and with Python stores."""

import io
import json
import random

import pytest

import oauth2.web.wsgi
from conftest import make_provider
from test_custom_hosts import DictClientStore, DictTokenStore

PIECES = ["grant_type", "client_id", "client_secret", "code", "redirect_uri", "refresh_token",
          "scope", "state", "response_type", "username", "password", "code_verifier",
          "code_challenge", "code_challenge_method", "confirm", "deny", "abc", "xyz",
          "authorization_code", "refresh_token", "password", "client_credentials", "code",
          "token", "yes", "%FF", "%00", "%", "+", "=", "&", "&&", "==", "\u00e9", "\ud800x",
          "http://127.0.0.1:9/cb", "http://evil/cb", " ", "S256", "plain", "a" * 300]


def random_text(rng):
    return "".join(rng.choice(PIECES) + rng.choice(["=", "&", "", " "])
                   for _ in range(rng.randint(0, 12)))


def random_environ(rng):
    body_text = random_text(rng)
    body = body_text.encode("utf-8", "surrogatepass") if rng.random() < 0.8 else \
        bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
    env = {
        "REQUEST_METHOD": rng.choice(["GET", "POST", "PUT", "HEAD", "OPTIONS", "", "post"]),
        "PATH_INFO": rng.choice(["/token", "/authorize", "/token", "/authorize", "/", "/x",
                                 "/token/", "\udcff"]),
        "QUERY_STRING": random_text(rng),
        "wsgi.input": io.BytesIO(body),
    }
    if rng.random() < 0.8:
        env["CONTENT_LENGTH"] = rng.choice([str(len(body)), str(len(body) + 10), "0", "-1",
                                            "nope", "99999999999999999999"])
    if rng.random() < 0.8:
        env["CONTENT_TYPE"] = rng.choice(["application/x-www-form-urlencoded",
                                          "application/x-www-form-urlencoded; charset=utf-8",
                                          "application/json", "text/plain", ""])
    if rng.random() < 0.3:
        env["HTTP_AUTHORIZATION"] = rng.choice(["Basic YWJjOnh5eg==", "Basic", "Basic !!!",
                                                "Bearer x", "basic YWJjOg==", "\u00e9"])
    return env


@pytest.mark.parametrize("stores", ["native", "python"])
def test_random_requests_always_get_an_answer(stores):
    if stores == "native":
        provider = make_provider()
    else:
        provider = make_provider(client_store=DictClientStore(), token_store=DictTokenStore())
    app = oauth2.web.wsgi.Application(provider=provider)
    rng = random.Random(20260)
    seen = set()
    for _ in range(3000):
        env = random_environ(rng)
        out = []
        body = b"".join(app(env, lambda s, h: out.append((s, h))))
        status, headers = out[0]
        code = int(status.split()[0])
        seen.add(code)
        assert code in (200, 302, 400, 401, 404, 405), (status, body, env)
        if code in (400, 401) and dict(headers).get("Content-Type") == "application/json":
            assert json.loads(body)["error"]
        if code == 302:
            assert dict(headers)["Location"].startswith("http://127.0.0.1:9/cb")
    assert {400, 404} <= seen
