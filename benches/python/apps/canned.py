"""The floor: a WSGI app that does no OAuth at all and answers every request with a canned response.

It still reads the request body (a real server app must) and answers the authorize leg with a
redirect carrying a code and the state, so every workload's checks pass against it. No WSGI
library can be faster than this plus its own work; the other rows are read against it.
"""

import json

import common

_TOKEN = json.dumps({"access_token": "3f1a9c0e-5b7d-4e21-9a4f-0c8d2e6b1a77", "token_type": "Bearer",
                     "expires_in": common.ACCESS_TOKEN_LIFETIME,
                     "refresh_token": "8e2b4d6f-1a3c-4e5f-8a7b-9c0d1e2f3a4b"}).encode()
_TOKEN_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                  ("Pragma", "no-cache"), ("Content-Length", str(len(_TOKEN)))]


def make_app():
    def app(environ, start_response):
        if environ["PATH_INFO"] == common.AUTHORIZE_PATH:
            query = environ.get("QUERY_STRING", "")
            state = ""
            for part in query.split("&"):
                if part.startswith("state="):
                    state = "&" + part
            start_response("302 Found", [
                ("Location", common.REDIRECT_URI + "?code=canned-code" + state),
                ("Content-Length", "0")])
            return [b""]
        length = environ.get("CONTENT_LENGTH")
        if length:
            environ["wsgi.input"].read(int(length))
        start_response("200 OK", list(_TOKEN_HEADERS))
        return [_TOKEN]
    return app


def library_version():
    return "canned response (no library)"
