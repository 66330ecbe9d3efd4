"""Token generators.

``Uuid4`` and ``URandomTokenGenerator`` run natively in the engine. A subclass that overrides
``generate()`` is called from the engine for every code and token. ``expires_in`` (grant type ->
seconds) and ``refresh_expires_in`` keep python-oauth2's meaning; writing them (as
``Provider.add_grant`` does, or ``gen.expires_in["client_credentials"] = 3600``) marks the
provider's engine for a rebuild before the next request.
"""

import hashlib
import os
import uuid

from oauth2 import _engine


class _ExpiresIn(dict):
    """A dict that tells the engine when it changes."""

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        _engine.bump()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        _engine.bump()

    def _mutate(name):  # noqa: N805 - builds methods below
        def method(self, *args, **kwargs):
            result = getattr(dict, name)(self, *args, **kwargs)
            _engine.bump()
            return result
        method.__name__ = name
        return method

    update = _mutate("update")
    pop = _mutate("pop")
    popitem = _mutate("popitem")
    clear = _mutate("clear")
    setdefault = _mutate("setdefault")
    del _mutate


class TokenGenerator(object):
    """Base class: subclasses implement ``generate()``."""

    def __init__(self):
        self.expires_in = {}
        self.refresh_expires_in = 0

    def __setattr__(self, name, value):
        if name == "expires_in" and type(value) is dict:
            value = _ExpiresIn(value)
        object.__setattr__(self, name, value)
        _engine.bump()

    def create_access_token_data(self, grant_type):
        """python-oauth2's token body for ``grant_type`` (kept for code that calls it)."""
        result = {"access_token": self.generate(), "token_type": "Bearer"}
        if self.expires_in.get(grant_type, 0) > 0:
            result["refresh_token"] = self.generate()
            result["expires_in"] = self.expires_in[grant_type]
        return result

    def generate(self):
        raise NotImplementedError


class URandomTokenGenerator(TokenGenerator):
    """``length`` lowercase hex characters (at most 128)."""

    def __init__(self, length=40):
        self.token_length = length
        TokenGenerator.__init__(self)

    def generate(self):
        random_data = os.urandom(100)
        return hashlib.sha512(random_data).hexdigest()[:self.token_length]


class Uuid4(TokenGenerator):
    """Random UUID4 strings (36 characters)."""

    def generate(self):
        return str(uuid.uuid4())
