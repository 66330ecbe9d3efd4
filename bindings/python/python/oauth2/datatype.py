"""The records python-oauth2 stores hand around: clients, authorization codes, access tokens.

``AccessToken.__dict__`` holds exactly the nine constructor arguments, because stores rebuild
tokens with ``AccessToken(**saved.__dict__)``. What the engine needs beyond those (the grant
family, for revoking everything issued from one grant) lives in a slot outside ``__dict__``.
"""

import time

from oauth2.error import RedirectUriUnknown

# Sentinels for python-oauth2's mutable defaults (``data={}``, ``scopes=[]``): the signature
# shows the same defaults, but every instance gets its own dict and list, so no object is
# shared between tokens (or between the threads that made them).
_EMPTY_DATA = {}
_EMPTY_SCOPES = []


class AccessToken(object):
    """An access token and, when one was issued with it, its refresh token."""

    __slots__ = ("__dict__", "_family")

    def __init__(self, client_id, grant_type, token, data=_EMPTY_DATA, expires_at=None,
                 refresh_token=None, refresh_expires_at=None, scopes=_EMPTY_SCOPES,
                 user_id=None):
        self.client_id = client_id
        self.grant_type = grant_type
        self.token = token
        self.data = {} if data is _EMPTY_DATA else data
        self.expires_at = expires_at
        self.refresh_token = refresh_token
        self.refresh_expires_at = refresh_expires_at
        self.scopes = [] if scopes is _EMPTY_SCOPES else scopes
        self.user_id = user_id
        # Outside __dict__; the engine's stores set it. Set here, so that reading it never
        # raises (an unset slot raises AttributeError, which costs a save more than the rest).
        self._family = None

    @property
    def expires_in(self):
        """Seconds left (never negative). ``TypeError`` if the token never expires, as before."""
        return max(self.expires_at - int(time.time()), 0)

    def is_expired(self):
        if self.expires_at is None:
            return False
        return self.expires_at <= int(time.time())

    def __repr__(self):
        return "AccessToken(client_id=%r, grant_type=%r, scopes=%r, user_id=%r)" % (
            self.client_id, self.grant_type, self.scopes, self.user_id)


class AuthorizationCode(object):
    """A code between the authorization and the token request.

    Besides python-oauth2's seven fields it carries the PKCE challenge, the grant family and
    whether the request named its redirect URI. A store that keeps ``__dict__`` (or these
    keyword arguments) round-trips them; see docs/migration.md for stores that do not.
    """

    def __init__(self, client_id, code, expires_at, redirect_uri, scopes, data=None,
                 user_id=None, code_challenge=None, code_challenge_method=None, family=None,
                 redirect_uri_given=True):
        self.client_id = client_id
        self.code = code
        self.expires_at = expires_at
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.data = data
        self.user_id = user_id
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.family = family
        self.redirect_uri_given = redirect_uri_given

    def is_expired(self):
        return self.expires_at < int(time.time())


class Client(object):
    """A registered client. ``fetch_by_client_id`` returns a fresh one per call, so choosing a
    redirect URI on one never changes another request's default."""

    def __init__(self, identifier, secret, authorized_grants=None,
                 authorized_response_types=None, redirect_uris=None):
        self.authorized_grants = authorized_grants
        self.authorized_response_types = authorized_response_types
        self.identifier = identifier
        self.secret = secret
        self.redirect_uris = [] if redirect_uris is None else redirect_uris
        self._redirect_uri = None

    @property
    def redirect_uri(self):
        if self._redirect_uri is None:
            return self.redirect_uris[0]
        return self._redirect_uri

    @redirect_uri.setter
    def redirect_uri(self, value):
        if value not in self.redirect_uris:
            raise RedirectUriUnknown
        self._redirect_uri = value

    def grant_type_supported(self, grant_type):
        if self.authorized_grants is None:
            return True
        return grant_type in self.authorized_grants

    def response_type_supported(self, response_type):
        if self.authorized_response_types is None:
            return True
        return response_type in self.authorized_response_types
