"""Site adapters, the request and response interfaces, and the 0.x ``SiteAdapter``/``Wsgi``.

This module never imports tornado: ``oauth2.web.tornado`` does.
"""


class AuthenticatingSiteAdapter(object):
    """Authenticates a user (the password grant needs only this)."""

    def authenticate(self, request, environ, scopes, client):
        """Return ``data`` or ``(data, user_id)``; raise ``oauth2.error.UserNotAuthenticated``
        to show the auth page (or, for the password grant, to refuse)."""
        raise NotImplementedError


class UserFacingSiteAdapter(object):
    """Shows the user a page and reads their answer."""

    def render_auth_page(self, request, response, environ, scopes, client):
        """Fill in and return ``response`` (or any ``oauth2.web.Response``)."""
        raise NotImplementedError

    def user_has_denied_access(self, request):
        """Return exactly ``True`` when the user refused."""
        raise NotImplementedError


class AuthorizationCodeGrantSiteAdapter(UserFacingSiteAdapter, AuthenticatingSiteAdapter):
    pass


class ImplicitGrantSiteAdapter(UserFacingSiteAdapter, AuthenticatingSiteAdapter):
    pass


class ResourceOwnerGrantSiteAdapter(AuthenticatingSiteAdapter):
    pass


class SiteAdapter(AuthorizationCodeGrantSiteAdapter, ImplicitGrantSiteAdapter,
                  ResourceOwnerGrantSiteAdapter):
    """python-oauth2 0.x's one adapter for every grant, given as ``Provider(site_adapter=...)``.

    Its methods take three arguments (``authenticate(request, environ, scopes)``,
    ``render_auth_page(request, response, environ, scopes)``); the engine passes ``client`` only
    to methods that accept it, deciding once per class from the signature.
    """

    def authenticate(self, request, environ, scopes):
        raise NotImplementedError

    def render_auth_page(self, request, response, environ, scopes):
        raise NotImplementedError

    def user_has_denied_access(self, request):
        raise NotImplementedError


class Request(object):
    """The request interface site adapters and authentication sources get."""

    @property
    def method(self):
        raise NotImplementedError

    @property
    def path(self):
        raise NotImplementedError

    def get_param(self, name, default=None):
        raise NotImplementedError

    def post_param(self, name, default=None):
        raise NotImplementedError

    def header(self, name, default=None):
        raise NotImplementedError


class Response(object):
    """What ``render_auth_page`` fills in; also what ``Provider.dispatch`` returns."""

    def __init__(self):
        self.status_code = 200
        self._headers = {"Content-Type": "text/html"}
        self.body = ""

    @property
    def headers(self):
        return self._headers

    def add_header(self, header, value):
        self._headers[header] = str(value)


def __getattr__(name):
    # `oauth2.web.Wsgi` (0.x) lives in oauth2.web.wsgi, which needs this module first.
    if name == "Wsgi":
        from oauth2.web.wsgi import Wsgi
        return Wsgi
    raise AttributeError("module 'oauth2.web' has no attribute %r" % name)
