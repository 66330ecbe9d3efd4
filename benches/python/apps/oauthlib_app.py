"""The benchmark app for oauthlib: its all-grants ``Server`` endpoint with an in-memory
RequestValidator, behind a minimal WSGI front (oauthlib is framework-neutral and has none).

Token generation is oauthlib's default (random 30-character tokens), as an oauthlib user gets it.
"""

import hmac
import time

from oauthlib.oauth2 import OAuth2Error, RequestValidator, Server

import common


class Client:
    def __init__(self, client_id, client_secret, redirect_uris):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris


class MemoryValidator(RequestValidator):
    def __init__(self):
        self.clients = {}
        self.codes = {}
        self.tokens = {}
        self.refresh_tokens = {}

    # Clients
    def client_authentication_required(self, request, *args, **kwargs):
        return True

    def authenticate_client(self, request, *args, **kwargs):
        client = self.clients.get(request.client_id)
        secret = request.client_secret
        if client is None or secret is None or not hmac.compare_digest(client.client_secret,
                                                                       secret):
            return False
        request.client = client
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        return False  # every client here is confidential

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return client_id in self.clients

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri in self.clients[client_id].redirect_uris

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return self.clients[client_id].redirect_uris[0]

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return True

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return True

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return []

    # Authorization codes
    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes[code["code"]] = (client_id, request.redirect_uri, request.scopes, request.user,
                                    int(time.time()) + 600)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        found = self.codes.get(code)
        if found is None or found[0] != client_id or found[4] < time.time():
            return False
        request.user = found[3]
        request.scopes = found[2]
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args,
                             **kwargs):
        found = self.codes.get(code)
        return found is not None and found[1] == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes.pop(code, None)

    # Password
    def validate_user(self, username, password, client, request, *args, **kwargs):
        if username == common.USERNAME and password == common.PASSWORD:
            request.user = common.USER_ID
            return True
        return False

    # Tokens
    def save_bearer_token(self, token, request, *args, **kwargs):
        record = {"client_id": request.client.client_id, "user": request.user,
                  "scopes": request.scopes, "expires_at": int(time.time()) + token["expires_in"],
                  "access_token": token["access_token"],
                  "refresh_token": token.get("refresh_token")}
        self.tokens[token["access_token"]] = record
        if request.grant_type == "refresh_token":
            # Rotation: the refresh token just used is spent.
            self.refresh_tokens.pop(request.refresh_token, None)
        if record["refresh_token"]:
            self.refresh_tokens[record["refresh_token"]] = record

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        found = self.refresh_tokens.get(refresh_token)
        if found is None or found["client_id"] != client.client_id:
            return False
        request.user = found["user"]
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return self.refresh_tokens[refresh_token]["scopes"]


_REASONS = {200: "200 OK", 302: "302 Found", 400: "400 Bad Request", 401: "401 Unauthorized",
            403: "403 Forbidden", 404: "404 Not Found", 500: "500 Internal Server Error"}


def make_app():
    validator = MemoryValidator()
    validator.clients[common.CLIENT_ID] = Client(common.CLIENT_ID, common.CLIENT_SECRET,
                                                 [common.REDIRECT_URI])
    server = Server(validator, token_expires_in=common.ACCESS_TOKEN_LIFETIME)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        query = environ.get("QUERY_STRING", "")
        uri = "http://%s%s%s" % (environ.get("HTTP_HOST", "127.0.0.1"), path,
                                 ("?" + query) if query else "")
        body = ""
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = environ["wsgi.input"].read(int(length)).decode("utf-8")
        headers = {}
        if "CONTENT_TYPE" in environ:
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        if "HTTP_AUTHORIZATION" in environ:
            headers["Authorization"] = environ["HTTP_AUTHORIZATION"]
        if path == common.TOKEN_PATH and method == "POST":
            out_headers, out_body, status = server.create_token_response(
                uri, method, body, headers)
        elif path == common.AUTHORIZE_PATH:
            # The user is signed in and consent is given without a page. No separate
            # validate_authorization_request: create_authorization_response validates the
            # request itself, and a consent page is the only reason to call both.
            try:
                out_headers, out_body, status = server.create_authorization_response(
                    uri, method, body, headers, scopes=None,
                    credentials={"user": common.USER_ID})
            except OAuth2Error as error:
                out_headers, out_body, status = (
                    {"Content-Type": "application/json"}, error.json, error.status_code)
        else:
            out_headers, out_body, status = {"Content-Type": "text/plain"}, "Not Found", 404
        data = (out_body or "").encode("utf-8")
        response_headers = list(out_headers.items())
        response_headers.append(("Content-Length", str(len(data))))
        start_response(_REASONS.get(status, "%d Unknown" % status), response_headers)
        return [data]
    return app


def library_version():
    from importlib import metadata
    return "oauthlib %s" % metadata.version("oauthlib")
