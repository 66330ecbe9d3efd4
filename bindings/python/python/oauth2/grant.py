"""Grants, as configured by python-oauth2 applications.

A grant object here is configuration: ``Provider.add_grant`` records it and the engine runs the
flow natively. Constructors, attributes and defaults are python-oauth2 1.1.1's; the site adapter
of the user-facing grants may be omitted (python-oauth2 0.x style), in which case the provider's
``site_adapter`` is used. Changing a grant's attributes after it was added marks the provider's
engine for a rebuild.
"""

import json

from oauth2 import _engine
from oauth2.compatibility import quote
from oauth2.error import InvalidSiteAdapter, OAuthInvalidError
from oauth2.web import (AuthorizationCodeGrantSiteAdapter, ImplicitGrantSiteAdapter,
                        ResourceOwnerGrantSiteAdapter)


class _DefaultLifetime(int):
    """The ``expires_in=0`` default, told apart from an explicit 0 (see docs/migration.md: an
    access-token lifetime left at its default follows ``RefreshToken(expires_in=...)``)."""

    def __repr__(self):
        return "0"


DEFAULT_EXPIRES_IN = _DefaultLifetime(0)


class _Watched(type):
    """Class attributes (``Scope.separator``) feed the engine's configuration too."""

    def __setattr__(cls, name, value):
        type.__setattr__(cls, name, value)
        _engine.bump()


def encode_scopes(scopes, use_quote=False):
    scopes_as_string = Scope.separator.join(scopes)
    if use_quote:
        return quote(scopes_as_string)
    return scopes_as_string


def json_error_response(error, response, status_code=400):
    msg = {"error": error.error, "error_description": error.explanation}
    response.status_code = status_code
    response.add_header("Content-Type", "application/json")
    response.body = json.dumps(msg)
    return response


def json_success_response(data, response):
    response.body = json.dumps(data)
    response.status_code = 200
    response.add_header("Content-Type", "application/json")
    response.add_header("Cache-Control", "no-store")
    response.add_header("Pragma", "no-cache")


class Scope(object, metaclass=_Watched):
    """python-oauth2's scope handling (for code that calls it; the engine applies the same
    rules natively). ``Scope.separator`` is the global separator, read by the engine."""

    separator = " "

    def __init__(self, available=None, default=None):
        self.scopes = []
        self.send_back = False
        if isinstance(available, list):
            self.available_scopes = available
        else:
            self.available_scopes = []
        self.default = default

    def compare(self, previous_scopes):
        for scope in self.scopes:
            if scope not in previous_scopes:
                raise OAuthInvalidError(error="invalid_scope",
                                        explanation="Invalid scope parameter in request")
        return True

    def parse(self, request, source):
        if source == "body":
            req_scope = request.post_param("scope")
        elif source == "query":
            req_scope = request.get_param("scope")
        else:
            raise ValueError("Unknown scope source '" + source + "'")
        if req_scope is None:
            if self.default is not None:
                self.scopes = [self.default]
                self.send_back = True
                return
            elif len(self.available_scopes) != 0:
                raise OAuthInvalidError(error="invalid_scope",
                                        explanation="Missing scope parameter in request")
            else:
                return
        req_scopes = req_scope.split(self.separator)
        self.scopes = [scope for scope in req_scopes if scope in self.available_scopes]
        if len(self.scopes) == 0 and self.default is not None:
            self.scopes = [self.default]
            self.send_back = True


class _GrantBase(object):
    """Every attribute write after construction asks for an engine rebuild."""

    grant_type = None

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        _engine.bump()


class GrantHandler(object):
    """python-oauth2's handler interface (the engine implements the handlers natively)."""

    def process(self, request, response, environ):
        raise NotImplementedError

    def read_validate_params(self, request):
        raise NotImplementedError

    def handle_error(self, error, response):
        raise NotImplementedError


class GrantHandlerFactory(_GrantBase):
    """Base of the grants: ``__call__(request, server)`` in python-oauth2. Grants the engine
    does not know (custom subclasses of this class) cannot be run by it; Provider refuses them."""

    def __call__(self, request, server):
        raise NotImplementedError


class ScopeGrant(GrantHandlerFactory):
    def __init__(self, default_scope=None, scopes=None, scope_class=Scope, **kwargs):
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class
        super(ScopeGrant, self).__init__(**kwargs)

    def _create_scope_handler(self):
        return self.scope_class(available=self.scopes, default=self.default_scope)


class SiteAdapterMixin(object):
    site_adapter_class = None

    def __init__(self, site_adapter=None, **kwargs):
        if site_adapter is not None and not isinstance(site_adapter, self.site_adapter_class):
            raise InvalidSiteAdapter(
                "Site adapter must inherit from class '{0}'".format(
                    self.site_adapter_class.__name__))
        self.site_adapter = site_adapter
        super(SiteAdapterMixin, self).__init__(**kwargs)


class AuthorizationCodeGrant(ScopeGrant, SiteAdapterMixin):
    grant_type = "authorization_code"
    site_adapter_class = AuthorizationCodeGrantSiteAdapter

    def __init__(self, unique_token=False, expires_in=DEFAULT_EXPIRES_IN, default_scope=None,
                 scopes=None, scope_class=Scope, site_adapter=None):
        _check_adapter(site_adapter, AuthorizationCodeGrantSiteAdapter)
        self.unique_token = unique_token
        self.expires_in = expires_in
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class
        self.site_adapter = site_adapter


class ImplicitGrant(ScopeGrant, SiteAdapterMixin):
    grant_type = "implicit"
    site_adapter_class = ImplicitGrantSiteAdapter

    def __init__(self, default_scope=None, scopes=None, scope_class=Scope, site_adapter=None):
        _check_adapter(site_adapter, ImplicitGrantSiteAdapter)
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class
        self.site_adapter = site_adapter


class ResourceOwnerGrant(ScopeGrant, SiteAdapterMixin):
    grant_type = "password"
    site_adapter_class = ResourceOwnerGrantSiteAdapter

    def __init__(self, unique_token=False, expires_in=DEFAULT_EXPIRES_IN, default_scope=None,
                 scopes=None, scope_class=Scope, site_adapter=None):
        _check_adapter(site_adapter, ResourceOwnerGrantSiteAdapter)
        self.unique_token = unique_token
        self.expires_in = expires_in
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class
        self.site_adapter = site_adapter


class RefreshToken(ScopeGrant):
    """``expires_in`` is the refresh-token lifetime (python-oauth2 1.x). When the access-token
    grants leave their own ``expires_in`` at its default, it is their access-token lifetime too,
    as python-oauth2's README says; see docs/migration.md."""

    grant_type = "refresh_token"

    def __init__(self, expires_in, reissue_refresh_tokens=False, default_scope=None,
                 scopes=None, scope_class=Scope):
        self.refresh_expires_in = expires_in
        self.reissue_refresh_tokens = reissue_refresh_tokens
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class


class ClientCredentialsGrant(ScopeGrant):
    """The access-token lifetime comes from ``token_generator.expires_in["client_credentials"]``."""

    grant_type = "client_credentials"

    def __init__(self, default_scope=None, scopes=None, scope_class=Scope):
        self.default_scope = default_scope
        self.scopes = scopes
        self.scope_class = scope_class


def _check_adapter(site_adapter, cls):
    if site_adapter is not None and not isinstance(site_adapter, cls):
        raise InvalidSiteAdapter(
            "Site adapter must inherit from class '{0}'".format(cls.__name__))


class ResponseTypeGrant(GrantHandlerFactory):
    """Unused in python-oauth2 too; kept for imports."""


# python-oauth2's handler classes, kept so that imports keep working; the engine implements
# what they did.
class AuthRequestMixin(object):
    pass


class AuthorizeMixin(object):
    @staticmethod
    def sanitize_return_value(value):
        if isinstance(value, tuple) and len(value) == 2:
            return value
        return value, None


class AccessTokenMixin(object):
    pass


class AuthorizationCodeAuthHandler(GrantHandler):
    token_expiration = 600


class AuthorizationCodeTokenHandler(GrantHandler):
    pass


class ImplicitGrantHandler(GrantHandler):
    pass


class ResourceOwnerGrantHandler(GrantHandler):
    OWNER_NOT_AUTHENTICATED = "Unable to authenticate resource owner"


class RefreshTokenHandler(GrantHandler):
    pass


class ClientCredentialsHandler(GrantHandler):
    pass
