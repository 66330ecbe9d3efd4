"""Client authentication at the token endpoint.

``request_body`` and ``http_basic_auth`` are recognised by the engine and run natively (as
``client_secret_post`` and ``client_secret_basic``); any other callable is called from the engine
with ``request=`` and must return ``(client_id, client_secret)`` or raise ``OAuthInvalidError``.
``ClientAuthenticator`` keeps python-oauth2's methods for code that calls them directly.
"""

import base64
import hmac

from oauth2.error import (ClientNotFoundError, OAuthInvalidError,
                          OAuthInvalidNoRedirectError, RedirectUriUnknown)


class ClientAuthenticator(object):
    def __init__(self, client_store, source):
        self.client_store = client_store
        self.source = source

    def by_identifier(self, request):
        client_id = request.get_param("client_id")
        if client_id is None:
            raise OAuthInvalidNoRedirectError(error="missing_client_id")
        try:
            client = self.client_store.fetch_by_client_id(client_id)
        except ClientNotFoundError:
            raise OAuthInvalidNoRedirectError(error="unknown_client")
        redirect_uri = request.get_param("redirect_uri")
        if redirect_uri is not None:
            try:
                client.redirect_uri = redirect_uri
            except RedirectUriUnknown:
                raise OAuthInvalidNoRedirectError(error="invalid_redirect_uri")
        return client

    def by_identifier_secret(self, request):
        client_id, client_secret = self.source(request=request)
        try:
            client = self.client_store.fetch_by_client_id(client_id)
        except ClientNotFoundError:
            raise OAuthInvalidError(error="invalid_client",
                                    explanation="No client could be found")
        grant_type = request.post_param("grant_type")
        if client.grant_type_supported(grant_type) is False:
            raise OAuthInvalidError(error="unauthorized_client",
                                    explanation="The client is not allowed to use this grant type")
        # Constant time, unlike python-oauth2's `!=`.
        if client.secret is None or client_secret is None or not hmac.compare_digest(
                str(client.secret).encode("utf-8"), str(client_secret).encode("utf-8")):
            raise OAuthInvalidError(error="invalid_client",
                                    explanation="Invalid client credentials")
        return client


def request_body(request):
    """Client id and secret from the form body."""
    client_id = request.post_param("client_id")
    if client_id is None:
        raise OAuthInvalidError(error="invalid_request", explanation="Missing client identifier")
    client_secret = request.post_param("client_secret")
    if client_secret is None:
        raise OAuthInvalidError(error="invalid_request", explanation="Missing client credentials")
    return client_id, client_secret


def http_basic_auth(request):
    """Client id and secret from ``Authorization: Basic``."""
    auth_header = request.header("authorization")
    if auth_header is None:
        raise OAuthInvalidError(error="invalid_request",
                                explanation="Authorization header is missing")
    parts = auth_header.strip().encode("latin1").split(None)
    if not parts or parts[0].lower() != b"basic":
        raise OAuthInvalidError(error="invalid_request",
                                explanation="Provider supports basic authentication only")
    try:
        client_id, client_secret = base64.b64decode(parts[1]).split(b":", 1)
    except (IndexError, ValueError):
        raise OAuthInvalidError(error="invalid_request",
                                explanation="Malformed Basic credentials")
    return client_id.decode("latin1"), client_secret.decode("latin1")
