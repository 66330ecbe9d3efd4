"""oauth2: a drop-in successor of python-oauth2 (1.x API and the 0.x API of its early README)
running on a Rust OAuth 2.0 engine.

``Provider`` collects the configuration (stores, token generator, grants, client
authentication) exactly as python-oauth2's did, and turns it into a native engine (the core's
``legacy`` profile, ``json.dumps``-identical bodies). The engine is rebuilt lazily, before the
next request, whenever that configuration changes.
"""

import json
import threading

from oauth2 import _engine, _support
from oauth2.client_authenticator import ClientAuthenticator, http_basic_auth, request_body
from oauth2.error import (ClientNotFoundError, OAuthInvalidError, OAuthInvalidNoRedirectError,
                          UnsupportedGrantError)
from oauth2.grant import (AuthorizationCodeGrant, ClientCredentialsGrant, ImplicitGrant,
                          RefreshToken, ResourceOwnerGrant, Scope, _DefaultLifetime)
from oauth2.log import app_log
from oauth2.tokengenerator import TokenGenerator, URandomTokenGenerator, Uuid4
from oauth2.web import Response

VERSION = "1.1.1"
"""The python-oauth2 API level this package provides."""

__version__ = _engine.VERSION

__all__ = [
    "VERSION", "Provider", "json", "ClientAuthenticator", "request_body", "OAuthInvalidError",
    "ClientNotFoundError", "OAuthInvalidNoRedirectError", "UnsupportedGrantError", "app_log",
    "Response", "Uuid4", "Scope", "AuthorizationCodeGrant", "ImplicitGrant",
    "ClientCredentialsGrant", "ResourceOwnerGrant", "RefreshToken",
]

_USER_FACING = ("authorization_code", "implicit", "password")
_INTERNAL = ("_engine", "_engine_lock")


def _is_adapter(obj):
    return hasattr(obj, "authenticate") and not hasattr(obj, "generate")


def _store_slot(store, mixin, methods):
    """``(store, True)`` when the engine may use the store's native backend directly."""
    from oauth2.store._native_methods import is_native
    return (store, is_native(store, mixin, methods))


class Provider(object):
    """The authorization server: stores, token generator and grants.

    ``Provider(access_token_store, auth_code_store, client_store, token_generator,
    client_authentication_source=request_body, response_class=Response, site_adapter=None)``.
    ``site_adapter`` is python-oauth2 0.x's: grants created without their own adapter use it.
    """

    authorize_path = "/authorize"
    token_path = "/token"

    def __init__(self, access_token_store, auth_code_store, client_store, token_generator,
                 client_authentication_source=request_body, response_class=Response,
                 site_adapter=None):
        if _is_adapter(token_generator) and site_adapter is None:
            # python-oauth2 0.7's positional order: (..., client_store, site_adapter,
            # token_generator, ...).
            site_adapter, token_generator = token_generator, client_authentication_source
            client_authentication_source = request_body
        object.__setattr__(self, "_engine", None)
        object.__setattr__(self, "_engine_lock", threading.Lock())
        self.grant_types = []
        self._input_handler = None
        self.access_token_store = access_token_store
        self.auth_code_store = auth_code_store
        self.client_authenticator = ClientAuthenticator(
            client_store=client_store, source=client_authentication_source)
        self.response_class = response_class
        self.token_generator = token_generator
        self.site_adapter = site_adapter

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name not in _INTERNAL:
            _engine.bump()

    @property
    def scope_separator(self):
        """The scope separator (``oauth2.grant.Scope.separator``, which is global)."""
        return Scope.separator

    @scope_separator.setter
    def scope_separator(self, separator):
        Scope.separator = separator

    def add_grant(self, grant):
        """Adds a grant; writes its lifetimes into the token generator, as python-oauth2 did."""
        if hasattr(grant, "expires_in"):
            self.token_generator.expires_in[grant.grant_type] = grant.expires_in
        if hasattr(grant, "refresh_expires_in"):
            self.token_generator.refresh_expires_in = grant.refresh_expires_in
        self.grant_types.append(grant)
        _engine.bump()

    def enable_unique_tokens(self):
        """Unique tokens for the grants added so far (later ones are not affected)."""
        for grant_type in self.grant_types:
            if hasattr(grant_type, "unique_token"):
                grant_type.unique_token = True
        _engine.bump()

    # --- the engine -------------------------------------------------------------------------

    def _config(self):
        """The core's Config (legacy profile) and the site adapters, from this provider."""
        gen = self.token_generator
        expires = getattr(gen, "expires_in", {}) or {}
        refresh = next((g for g in self.grant_types if g.grant_type == "refresh_token"), None)
        refresh_life = 0
        if refresh is not None:
            refresh_life = int(getattr(gen, "refresh_expires_in", 0) or 0)
        grants, adapters, seen = [], {}, set()
        for g in self.grant_types:
            kind = getattr(g, "grant_type", None)
            if kind not in ("authorization_code", "implicit", "password", "client_credentials",
                            "refresh_token"):
                raise TypeError("%r is not a grant this engine can run" % (g,))
            if kind in seen:
                continue  # python-oauth2: the first grant of a type wins
            seen.add(kind)
            scopes = list(g.scopes) if isinstance(g.scopes, (list, tuple)) else []
            default = g.default_scope
            if default is not None and scopes and default not in scopes:
                scopes.append(default)
            cfg = {"type": kind, "scopes": scopes, "default_scope": default, "unique_token": False}
            if kind in _USER_FACING:
                life = expires.get(kind)
                if (life is None or isinstance(life, _DefaultLifetime)) and refresh_life > 0:
                    # The README's `RefreshToken(expires_in=N)` "sets the expiration time of
                    # access tokens": a grant that left its own lifetime at the default gets N.
                    life = refresh_life
                cfg["expires_in"] = int(life or 0)
                cfg["unique_token"] = bool(getattr(g, "unique_token", False))
                adapter = getattr(g, "site_adapter", None) or self.site_adapter
                if adapter is None:
                    raise TypeError("the %s grant needs a site adapter: pass site_adapter= to "
                                    "the grant or to the Provider" % kind)
                adapters[kind] = adapter
            elif kind == "client_credentials":
                cfg["expires_in"] = int(expires.get("client_credentials") or 0)
            else:
                cfg["expires_in"] = refresh_life
                cfg["rotate"] = bool(g.reissue_refresh_tokens)
            grants.append(cfg)
        source = self.client_authenticator.source
        config = {
            "profile": "legacy",
            "authorize_path": self.authorize_path,
            "token_path": self.token_path,
            "grants": grants,
            "wire_style": "python",
            "scope_separator": Scope.separator,
            "code_lifetime": 600,
        }
        auth_source = None
        if source is request_body:
            config["client_authentication"] = "client_secret_post"
        elif source is http_basic_auth:
            config["client_authentication"] = "client_secret_basic"
        else:
            auth_source = source
        generator = None
        method = getattr(type(gen), "generate", None)
        if method is Uuid4.generate:
            config["token_format"] = {"type": "uuid4"}
        elif method is URandomTokenGenerator.generate and 32 <= gen.token_length <= 128:
            config["token_format"] = {"type": "hex", "length": int(gen.token_length)}
        else:
            generator = gen
        return config, adapters, generator, auth_source

    def _native_engine(self):
        """The engine for the current configuration, built if anything changed since."""
        generation = _engine.generation()
        eng = self._engine
        if eng is not None and eng.generation == generation:
            return eng
        with self._engine_lock:
            eng = self._engine
            if eng is not None and eng.generation == generation:
                return eng
            from oauth2.store import _native_methods as nm
            config, adapters, generator, auth_source = self._config()
            client_store = self.client_authenticator.client_store
            eng = _engine.Engine(
                json.dumps(config), _support,
                _store_slot(client_store, nm.ClientMethods, nm.CLIENT_METHODS),
                _store_slot(self.auth_code_store, nm.TokenMethods, nm.CODE_METHODS),
                _store_slot(self.access_token_store, nm.TokenMethods, nm.TOKEN_METHODS),
                adapters, self.response_class, generator, auth_source, generation)
            object.__setattr__(self, "_engine", eng)
            return eng

    def dispatch(self, request, environ):
        """Answers one request (any object with python-oauth2's request interface) with a
        ``response_class`` instance."""
        method, path, query, headers, body = _raw_request(request)
        status, out_headers, out_body = self._native_engine().handle(
            method, path, query, headers, body, request, environ)
        response = self.response_class()
        response.status_code = status
        response.body = out_body
        for name, value in out_headers:
            response.add_header(name, value)
        return response

    def validate_access_token(self, token):
        """The live ``AccessToken`` for ``token``, or None (for resource servers)."""
        found = self._native_engine().validate_access_token(token)
        return None if found is None else _support.token_from_core(json.loads(found))


def _raw_request(request):
    """Method, path, query, headers and raw body of a python-oauth2 request object."""
    from oauth2.compatibility import urlencode
    handler = getattr(request, "handler", None)
    if handler is not None and hasattr(handler, "request"):  # Tornado
        r = handler.request
        headers = [(k, v) for k, v in r.headers.get_all()
                   if k.lower() in ("authorization", "content-type")]
        return r.method, r.path, r.query or "", headers, r.body or b""
    env = getattr(request, "env_raw", None)
    method = request.method
    path = request.path
    query = getattr(request, "query_string", None)
    if query is None:
        query = urlencode(getattr(request, "query_params", {}) or {})
    headers = []
    body = getattr(request, "_raw_body", None)
    if env is not None:
        if env.get("CONTENT_TYPE"):
            headers.append(("Content-Type", env["CONTENT_TYPE"]))
        if env.get("HTTP_AUTHORIZATION"):
            headers.append(("Authorization", env["HTTP_AUTHORIZATION"]))
    else:
        auth = request.header("authorization")
        if auth:
            headers.append(("Authorization", auth))
    if body is None:
        post = getattr(request, "post_params", None) or {}
        body = urlencode(post).encode("utf-8")
        if post and not any(k == "Content-Type" for k, _ in headers):
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    return method, path, query or "", headers, body


# python-oauth2 0.3/0.4's name for the provider (its README of that time used it).
AuthorizationController = Provider
