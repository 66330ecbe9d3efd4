"""python-oauth2's Redis stores, with the same key layout and JSON values, so the data an
existing deployment wrote stays readable. Needs the ``redis`` package (imported here, as before).

Keys are ``<prefix>_<name>``: ``<prefix>_<client_id>`` for clients, ``<prefix>_<code>`` for
codes, and for tokens ``<prefix>_<access_token>``, ``<prefix>_<refresh_token>`` and
``<prefix>_<client_id>_<grant_type>_<user_id>`` (unique tokens), each holding
``AccessToken.__dict__`` as JSON. Unlike python-oauth2, ``delete_refresh_token`` removes the
refresh key and the access key (its version left the refresh token usable), and keys get a TTL
when the record expires. New deployments are better served by ``oauth2.store.native.RedisStore``
(atomic takes, grant families, no Python on the request path).
"""

import json
import time

import redis

from oauth2.datatype import AccessToken, AuthorizationCode, Client
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from oauth2.store import AccessTokenStore, AuthCodeStore
from oauth2.store import ClientStore as ClientStoreBase


class RedisStore(object):
    def __init__(self, rs=None, prefix="oauth2", *args, **kwargs):
        self.prefix = prefix
        self.rs = rs if rs is not None else redis.StrictRedis(*args, **kwargs)

    def _key(self, name):
        return "{0}_{1}".format(self.prefix, name)

    def write(self, name, data, expires_at=None):
        ttl = None
        if expires_at:
            ttl = max(int(expires_at) - int(time.time()), 1)
        self.rs.set(self._key(name), json.dumps(data), ex=ttl)

    def read(self, name):
        value = self.rs.get(self._key(name))
        if value is None:
            return None
        return json.loads(value.decode("utf-8"))

    def delete(self, name):
        self.rs.delete(self._key(name))


def _token_expiry(access_token):
    """When every key of a token may go: the later of the access and refresh expiry."""
    if access_token.expires_at is None:
        return None
    if access_token.refresh_token:
        if not access_token.refresh_expires_at:
            return None
        return max(access_token.expires_at, access_token.refresh_expires_at)
    return access_token.expires_at


class TokenStore(AccessTokenStore, AuthCodeStore, RedisStore):
    def fetch_by_code(self, code):
        data = self.read(code)
        if data is None:
            raise AuthCodeNotFound
        return AuthorizationCode(**data)

    def save_code(self, authorization_code):
        self.write(authorization_code.code, dict(authorization_code.__dict__),
                   authorization_code.expires_at)
        return True

    def delete_code(self, code):
        self.delete(code)

    def save_token(self, access_token):
        data = dict(access_token.__dict__)
        until = _token_expiry(access_token)
        self.write(access_token.token, data, until)
        self.write(self._unique_name(access_token.client_id, access_token.grant_type,
                                     access_token.user_id), data, until)
        if access_token.refresh_token:
            self.write(access_token.refresh_token, data, until)
        return True

    def fetch_by_token(self, token):
        data = self.read(token)
        if data is None:
            raise AccessTokenNotFound
        return AccessToken(**data)

    def fetch_by_refresh_token(self, refresh_token):
        data = self.read(refresh_token)
        if data is None or data.get("refresh_token") != refresh_token:
            raise AccessTokenNotFound
        return AccessToken(**data)

    def delete_refresh_token(self, refresh_token):
        access_token = self.fetch_by_refresh_token(refresh_token)
        self.delete(access_token.token)
        self.delete(refresh_token)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        data = self.read(self._unique_name(client_id, grant_type, user_id))
        if data is None:
            raise AccessTokenNotFound
        return AccessToken(**data)

    @staticmethod
    def _unique_name(client_id, grant_type, user_id):
        return "{0}_{1}_{2}".format(client_id, grant_type, user_id)


class ClientStore(ClientStoreBase, RedisStore):
    def add_client(self, client_id, client_secret, redirect_uris, authorized_grants=None,
                   authorized_response_types=None):
        self.write(client_id, {"identifier": client_id, "secret": client_secret,
                               "redirect_uris": redirect_uris,
                               "authorized_grants": authorized_grants,
                               "authorized_response_types": authorized_response_types})
        return True

    def fetch_by_client_id(self, client_id):
        data = self.read(client_id)
        if data is None:
            raise ClientNotFoundError
        return Client(identifier=data["identifier"], secret=data["secret"],
                      redirect_uris=data["redirect_uris"],
                      authorized_grants=data["authorized_grants"],
                      authorized_response_types=data["authorized_response_types"])
