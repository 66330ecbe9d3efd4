"""python-oauth2's memcached token store (codes, access and refresh tokens; no client store).

``TokenStore(mc=None, prefix="oauth2", *args, **kwargs)``: ``mc`` is a memcached client; without
one, ``memcache.Client(*args, **kwargs)`` is built as before when python-memcached is
installed, else a pymemcache ``HashClient`` for the same ``["host:port", ...]`` list.

Keys keep python-oauth2's layout: ``<prefix>_<code>``, ``<prefix>_<access_token>``,
``<prefix>_<refresh_token>`` and ``<prefix>_<client_id>_<grant_type>_<user_id>``. Differences
from 1.1.1 (docs/migration.md):

- refresh-token and unique-token lookups use the prefixed keys they were written under (1.1.1
  read unprefixed keys and never found anything, B8);
- every key expires with its record (codes at ``expires_at``; tokens at the later of the access
  and refresh expiry; never-expiring tokens keep no expiry), instead of never (S8);
- values are written as JSON text, never pickled; values a python-memcached client unpickles
  (written by 1.1.1) are still read;
- ``consume_code``/``consume_refresh_token`` take a record atomically with pymemcache: the
  record is read, then deleted, and only the caller whose ``delete`` found the key wins;
- ``delete_refresh_token`` removes the refresh key and the access key of the token.

memcached may evict any key under memory pressure: a code or token can vanish before it
expires. That is memcached's nature; use it where re-authorizing is acceptable.
"""

import json
import threading
import time

from oauth2.datatype import AccessToken, AuthorizationCode
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound
from oauth2.store import AccessTokenStore, AuthCodeStore

# memcached reads an expiry above 30 days as an absolute Unix time.
_RELATIVE_LIMIT = 30 * 24 * 3600


def _default_client(*args, **kwargs):
    try:
        import memcache
    except ImportError:
        memcache = None
    if memcache is not None:
        return memcache.Client(*args, **kwargs)
    from pymemcache.client.hash import HashClient
    servers = args[0] if args else kwargs.pop("servers", ["127.0.0.1:11211"])
    nodes = []
    for server in servers:
        host, _, port = str(server).rpartition(":")
        nodes.append((host or "127.0.0.1", int(port or 11211)))
    return HashClient(nodes, **kwargs)


def _token_expiry(access_token):
    """When every key of a token may go: the later of the access and refresh expiry."""
    if access_token.expires_at is None:
        return None
    if access_token.refresh_token:
        if not access_token.refresh_expires_at:
            return None
        return max(access_token.expires_at, access_token.refresh_expires_at)
    return access_token.expires_at


class TokenStore(AccessTokenStore, AuthCodeStore):
    def __init__(self, mc=None, prefix="oauth2", *args, **kwargs):
        self.mc = mc if mc is not None else _default_client(*args, **kwargs)
        self.prefix = prefix
        # Only pymemcache tells a delete that found the key from one that did not
        # (python-memcached answers 1 for both), which the atomic take relies on.
        self._delete_tells = type(self.mc).__module__.startswith("pymemcache")
        # The engine calls a store from many threads, and a memcached client holds one socket
        # that two threads must not use at once: calls on this store take turns.
        self._lock = threading.Lock()

    def _key(self, name):
        return "%s_%s" % (self.prefix, name)

    def _set(self, name, data, expires_at=None):
        expire = 0
        if expires_at:
            left = int(expires_at) - int(time.time())
            if left <= 0:
                return  # already expired: nothing worth keeping
            expire = left if left <= _RELATIVE_LIMIT else int(expires_at)
        with self._lock:
            if self._delete_tells:
                self.mc.set(self._key(name), json.dumps(data), expire=expire, noreply=False)
            else:
                self.mc.set(self._key(name), json.dumps(data), expire)

    def _get(self, name):
        with self._lock:
            value = self.mc.get(self._key(name))
        if value is None:
            return None
        if isinstance(value, dict):
            return value  # unpickled by python-memcached: written by python-oauth2 1.1.1
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return json.loads(value)

    def _delete(self, name):
        """Deletes a key; True when this call removed it (pymemcache), else None."""
        with self._lock:
            if self._delete_tells:
                return self.mc.delete(self._key(name), noreply=False)
            self.mc.delete(self._key(name))
            return None

    # --- codes ------------------------------------------------------------------------------

    def save_code(self, authorization_code):
        self._set(authorization_code.code, dict(authorization_code.__dict__),
                  authorization_code.expires_at)
        return True

    def fetch_by_code(self, code):
        data = self._get(code)
        if data is None or data.get("code") != code:
            raise AuthCodeNotFound
        return AuthorizationCode(**data)

    def delete_code(self, code):
        self._delete(code)

    def consume_code(self, code):
        found = self.fetch_by_code(code)
        if self._delete(code) is False:
            raise AuthCodeNotFound  # another caller deleted it between our get and delete
        return found

    # --- tokens -----------------------------------------------------------------------------

    def save_token(self, access_token):
        data = dict(access_token.__dict__)
        until = _token_expiry(access_token)
        self._set(access_token.token, data, until)
        self._set(self._unique_name(access_token.client_id, access_token.grant_type,
                                    access_token.user_id), data, until)
        if access_token.refresh_token:
            self._set(access_token.refresh_token, data, until)
        return True

    def fetch_by_token(self, token):
        data = self._get(token)
        if data is None or data.get("token") != token:
            raise AccessTokenNotFound
        return AccessToken(**data)

    def fetch_by_refresh_token(self, refresh_token):
        data = self._get(refresh_token)
        if data is None or data.get("refresh_token") != refresh_token:
            raise AccessTokenNotFound
        return AccessToken(**data)

    def delete_refresh_token(self, refresh_token):
        access_token = self.fetch_by_refresh_token(refresh_token)
        self._delete(refresh_token)
        self._delete(access_token.token)

    def consume_refresh_token(self, refresh_token):
        access_token = self.fetch_by_refresh_token(refresh_token)
        if self._delete(refresh_token) is False:
            raise AccessTokenNotFound
        self._delete(access_token.token)
        return access_token

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        data = self._get(self._unique_name(client_id, grant_type, user_id))
        if data is None:
            raise AccessTokenNotFound
        # The pointer outlives a token deleted by a refresh: never hand that one out again.
        if self._get(data["token"]) is None:
            raise AccessTokenNotFound
        return AccessToken(**data)

    @staticmethod
    def _unique_name(client_id, grant_type, user_id):
        return "%s_%s_%s" % (client_id, grant_type, user_id)
