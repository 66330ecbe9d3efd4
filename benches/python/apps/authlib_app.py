"""The benchmark app for authlib: its framework-neutral AuthorizationServer, in-memory models and a
minimal WSGI front (authlib ships Flask/Django/Starlette integrations, no plain-WSGI one).

The token generator is the one authlib's framework integrations build by default (random
42-character access tokens, 48-character refresh tokens), so this is what an authlib user gets.
"""

import hmac
import json
import os
import time
from urllib.parse import parse_qsl

# Loopback benchmarks speak plain HTTP; authlib refuses non-TLS URIs unless told this.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.common.security import generate_token  # noqa: E402
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Payload  # noqa: E402
from authlib.oauth2.rfc6749 import OAuth2Request, grants  # noqa: E402
from authlib.oauth2.rfc6750 import BearerTokenGenerator  # noqa: E402

import common  # noqa: E402

_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class Client(ClientMixin):
    def __init__(self, client_id, client_secret, redirect_uris):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return scope or ""

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in _AUTH_METHODS

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return True


class User:
    def __init__(self, user_id):
        self.id = user_id

    def get_user_id(self):
        return self.id


class AuthorizationCode:
    def __init__(self, code, client_id, redirect_uri, scope, user_id):
        self.code = code
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.user_id = user_id
        self.expires_at = int(time.time()) + 600

    def is_expired(self):
        return self.expires_at < time.time()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


class Token:
    def __init__(self, data, client_id, user_id):
        self.access_token = data["access_token"]
        self.refresh_token = data.get("refresh_token")
        self.scope = data.get("scope", "")
        self.client_id = client_id
        self.user_id = user_id
        self.expires_at = int(time.time()) + data.get("expires_in", 0)
        self.revoked = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return max(self.expires_at - int(time.time()), 0)

    def is_expired(self):
        return self.expires_at <= time.time()

    def is_revoked(self):
        return self.revoked


class Payload(OAuth2Payload):
    def __init__(self, data):
        self._data = data

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return {key: [value] for key, value in self._data.items()}


class WsgiRequest(OAuth2Request):
    """An OAuth2Request built from a WSGI environ: query and form parsed once."""

    def __init__(self, environ):
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        query = environ.get("QUERY_STRING", "")
        uri = "%s://%s%s%s" % (scheme, host, environ.get("PATH_INFO", ""),
                                ("?" + query) if query else "")
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if "CONTENT_TYPE" in environ:
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        super().__init__(environ["REQUEST_METHOD"], uri, headers=headers)
        self._args = dict(parse_qsl(query))
        self._form = {}
        length = environ.get("CONTENT_LENGTH")
        if length and environ.get("CONTENT_TYPE", "").startswith(common.FORM):
            body = environ["wsgi.input"].read(int(length)).decode("utf-8")
            self._form = dict(parse_qsl(body))
        values = dict(self._args)
        values.update(self._form)
        self.payload = Payload(values)

    @property
    def args(self):
        return self._args

    @property
    def form(self):
        return self._form


class Server(AuthorizationServer):
    def __init__(self):
        super().__init__()
        self.clients = {}
        self.codes = {}
        self.tokens = {}
        self.refresh_tokens = {}
        self.register_token_generator("default", BearerTokenGenerator(
            lambda **kw: generate_token(42), lambda **kw: generate_token(48),
            lambda client, grant_type: common.ACCESS_TOKEN_LIFETIME))

    def query_client(self, client_id):
        return self.clients.get(client_id)

    def save_token(self, token, request):
        user_id = request.user.get_user_id() if request.user else None
        record = Token(token, request.client.client_id, user_id)
        self.tokens[record.access_token] = record
        if record.refresh_token:
            self.refresh_tokens[record.refresh_token] = record

    def send_signal(self, name, *args, **kwargs):
        pass

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else WsgiRequest(request)

    def handle_response(self, status, body, headers):
        if isinstance(body, dict):
            body = json.dumps(body)
        return status, body, headers


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def save_authorization_code(self, code, request):
        self.server.codes[code] = AuthorizationCode(
            code, request.client.client_id, request.payload.redirect_uri,
            request.payload.scope or "", request.user.get_user_id())

    def query_authorization_code(self, code, client):
        found = self.server.codes.get(code)
        if found is not None and found.client_id == client.client_id and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return User(authorization_code.user_id)


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS

    def authenticate_user(self, username, password):
        if username == common.USERNAME and password == common.PASSWORD:
            return User(common.USER_ID)
        return None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS
    # Rotation, as the other libraries are configured: every refresh issues a new refresh token
    # and revokes the old one.
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        found = self.server.refresh_tokens.get(refresh_token)
        if found is not None and not found.revoked:
            return found
        return None

    def authenticate_user(self, refresh_token):
        return User(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True
        self.server.refresh_tokens.pop(refresh_token.refresh_token, None)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = _AUTH_METHODS


_REASONS = {200: "200 OK", 302: "302 Found", 400: "400 Bad Request", 401: "401 Unauthorized",
            403: "403 Forbidden", 404: "404 Not Found", 500: "500 Internal Server Error"}


def make_app():
    server = Server()
    server.clients[common.CLIENT_ID] = Client(common.CLIENT_ID, common.CLIENT_SECRET,
                                              [common.REDIRECT_URI])
    server.register_grant(AuthorizationCodeGrant)
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    signed_in = User(common.USER_ID)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == common.TOKEN_PATH and environ["REQUEST_METHOD"] == "POST":
            status, body, headers = server.create_token_response(WsgiRequest(environ))
        elif path == common.AUTHORIZE_PATH:
            # The user is signed in and consent is given without a page.
            request = WsgiRequest(environ)
            try:
                grant = server.get_authorization_grant(request)
            except Exception as error:  # authlib's OAuth2Error carries its own response
                status, body, headers = server.handle_error_response(request, error)
            else:
                status, body, headers = server.create_authorization_response(
                    request, grant_user=signed_in, grant=grant)
        else:
            status, body, headers = 404, "Not Found", [("Content-Type", "text/plain")]
        data = body.encode("utf-8") if isinstance(body, str) else body
        start_response(_REASONS.get(status, "%d Unknown" % status),
                       list(headers) + [("Content-Length", str(len(data)))])
        return [data]
    return app


def library_version():
    from importlib import metadata
    return "Authlib %s" % metadata.version("Authlib")
