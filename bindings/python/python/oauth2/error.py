"""Exceptions, as python-oauth2 1.1.1 defined them (every class extends ``Exception``)."""


class AccessTokenNotFound(Exception):
    """A token store has no such access or refresh token."""


class AuthCodeNotFound(Exception):
    """An auth-code store has no such code."""


class ClientNotFoundError(Exception):
    """A client store has no client with that id."""


class InvalidSiteAdapter(Exception):
    """A grant was given a site adapter of the wrong class."""


class UserIdentifierMissingError(Exception):
    """Unique tokens need a user id, but the site adapter returned none."""


class UnsupportedGrantError(Exception):
    """No grant handles the request."""


class RedirectUriUnknown(Exception):
    """A redirect URI that the client did not register."""


class UserNotAuthenticated(Exception):
    """Raised by a site adapter's ``authenticate`` when the user is not (yet) logged in."""


class OAuthBaseError(Exception):
    """An OAuth protocol error: ``error`` is the RFC 6749 code."""

    def __init__(self, error, error_uri=None, explanation=None):
        self.error = error
        self.error_uri = error_uri
        self.explanation = explanation
        super(OAuthBaseError, self).__init__()


class OAuthInvalidError(OAuthBaseError):
    """An error answered to the client."""


class OAuthInvalidNoRedirectError(OAuthInvalidError):
    """An error that must not be redirected (the redirect URI is not trusted)."""
