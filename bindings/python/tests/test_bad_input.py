"""Bad input never gives a traceback or a bare 500: every answer is an OAuth error (or the 404)."""

import socket

import pytest

import oauth2.web.wsgi
from conftest import make_provider


@pytest.fixture(params=["wsgiref", "threaded"])
def server(request, serve):
    return serve(request.param, app=oauth2.web.wsgi.Application(provider=make_provider()))


def raw(server, data):
    """Sends raw bytes (for requests an HTTP library would not make) and returns the reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def assert_oauth_error(r, code, status=400):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"] == code
    assert "Traceback" not in r.text


def test_non_utf8_body(server):
    r = server.post("/token", data=b"grant_type=client_credentials&client_id=%FF%FE",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(r, "invalid_request")


def test_non_utf8_query_at_authorize(server):
    r = server.get("/authorize?response_type=code&client_id=%C3%28")
    assert_oauth_error(r, "invalid_request")


def test_oversized_body(server):
    body = b"grant_type=client_credentials&pad=" + b"a" * (200 * 1024)
    r = server.post("/token", data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(r, "invalid_request")


def test_post_without_content_type(server):
    reply = raw(server, b"POST /token HTTP/1.0\r\nHost: x\r\nContent-Length: 29\r\n\r\n"
                        b"grant_type=client_credentials")
    assert reply.startswith(b"HTTP/1.0 400") and b"invalid_request" in reply
    assert b"Traceback" not in reply


def test_repeated_parameters_R09(server):
    r = server.post("/token", data=[("grant_type", "client_credentials"),
                                    ("client_id", "abc"), ("client_id", "abc2"),
                                    ("client_secret", "xyz")])
    assert_oauth_error(r, "invalid_request")
    r = server.get("/authorize?response_type=code&client_id=abc&client_id=abc")
    assert_oauth_error(r, "invalid_request")


def test_json_body(server):
    r = server.post("/token", json={"grant_type": "client_credentials", "client_id": "abc",
                                    "client_secret": "xyz"})
    assert_oauth_error(r, "invalid_request")


def test_unknown_paths_and_methods(server):
    assert server.get("/token/../x").status_code == 404
    assert server.post("/", data={"grant_type": "password"}).status_code == 404
    assert_oauth_error(server.get("/token"), "invalid_request")
    import requests
    r = requests.put(server.url + "/authorize?response_type=code&client_id=abc", timeout=10)
    assert r.status_code == 405 and "Traceback" not in r.text


def test_unknown_grant_and_response_types(server):
    r = server.post("/token", data={"grant_type": "urn:x", "client_id": "abc",
                                    "client_secret": "xyz"})
    assert_oauth_error(r, "unsupported_grant_type")
    r = server.get("/authorize?response_type=magic&client_id=abc&state=z")
    assert r.status_code == 302 and "unsupported_response_type" in r.headers["Location"]
    assert "state=z" in r.headers["Location"]


def test_garbage_authorization_header(server):
    r = server.post("/token", data={"grant_type": "client_credentials"},
                    headers={"Authorization": "Basic !!!notbase64"})
    assert r.status_code in (400, 401) and "Traceback" not in r.text
    assert r.json()["error"] in ("invalid_request", "invalid_client")


def test_bogus_content_length(server):
    reply = raw(server, b"POST /token HTTP/1.0\r\nHost: x\r\nContent-Type: "
                        b"application/x-www-form-urlencoded\r\nContent-Length: nope\r\n\r\n")
    assert reply.split(b"\r\n", 1)[0] in (b"HTTP/1.0 400 Bad Request",)
    assert b"Traceback" not in reply


def test_bad_input_through_tornado(serve):
    s = serve("tornado", provider=make_provider())
    r = s.post("/token", data=b"grant_type=client_credentials&client_id=%FF",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(r, "invalid_request")
    r = s.post("/token", json={"grant_type": "client_credentials"})
    assert_oauth_error(r, "invalid_request")
    r = s.post("/token", data=[("grant_type", "client_credentials"), ("grant_type", "password")])
    assert_oauth_error(r, "invalid_request")
    assert s.get("/elsewhere").status_code == 404
