"""Store interfaces. Any object with these methods works as a store: the engine calls it.

Raise the not-found exception of ``oauth2.error`` when a record is missing; any other exception
is logged on ``oauth2.application`` and answered with ``server_error``.
"""


class AccessTokenStore(object):
    def save_token(self, access_token):
        raise NotImplementedError

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        """Raise ``AccessTokenNotFound`` if there is none (needed for unique tokens only)."""
        raise NotImplementedError

    def fetch_by_refresh_token(self, refresh_token):
        """Raise ``AccessTokenNotFound`` if there is none."""
        raise NotImplementedError

    def delete_refresh_token(self, refresh_token):
        """Invalidate the refresh token (and the access token issued with it)."""
        raise NotImplementedError


class AuthCodeStore(object):
    def fetch_by_code(self, code):
        """Raise ``AuthCodeNotFound`` if there is none."""
        raise NotImplementedError

    def save_code(self, authorization_code):
        raise NotImplementedError

    def delete_code(self, code):
        raise NotImplementedError


class ClientStore(object):
    def fetch_by_client_id(self, client_id):
        """Raise ``ClientNotFoundError`` if there is none."""
        raise NotImplementedError
