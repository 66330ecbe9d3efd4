"""WSGI: ``Application(provider=...)`` (1.x) and ``Wsgi(server=...)`` (0.x).

``Application.__call__`` is native: it reads the environ, answers unknown paths with
python-oauth2's 404, runs the engine (with the GIL released when a store waits on I/O) and calls
``start_response``. A
``request_class`` instance is built only when a Python callback (a site adapter, a custom
authentication source) needs one: the default ``Request`` natively, any other from the environ.
"""

from urllib.parse import unquote

from oauth2 import _engine


def _first_values(raw):
    """python-oauth2's parameter parsing (``parse_qs``: ``&``-separated, ``+`` is a space,
    percent-escapes are UTF-8 with errors replaced), first value wins, blank values dropped.
    ``Request`` parses natively with the same rule; this is its fallback for text the native
    side cannot read (a query string with lone surrogates)."""
    params = {}
    if not raw:
        return params
    for pair in raw.split("&"):
        name, _, value = pair.partition("=")
        if not value:
            # No "=", or a blank value: parse_qs drops both.
            continue
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name)
        if name in params:
            continue
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        params[name] = value
    return params


_FORM = "application/x-www-form-urlencoded"


class Request(_engine.RequestCore):
    """A WSGI request: ``method``, ``path``, ``query_string``, ``query_params``,
    ``post_params``, ``env_raw``.

    The body is read when the request is made; ``query_params`` and ``post_params`` are parsed
    on first use and can be assigned as before. ``get_param`` and ``post_param`` are native: before
    the dict is built they look the one name up in the text, with the same rule. The WSGI
    application makes this class's requests natively from the body the engine already read."""

    def __init__(self, env):
        method = env.get("REQUEST_METHOD", "GET")
        body = b""
        form = False
        if method == "POST":
            try:
                length = int(env.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            stream = env.get("wsgi.input")
            if length > 0 and stream is not None:
                body = stream.read(length)
            form = (env.get("CONTENT_TYPE") or "").startswith(_FORM)
        self._init(method, env.get("PATH_INFO", ""), env.get("QUERY_STRING", ""), env, body, form)

    def header(self, name, default=None):
        return self.env_raw.get("HTTP_" + name.upper(), default)

    # copy and pickle: the instance dict and the native fields together.
    def __getstate__(self):
        return dict(self.__dict__), self._native_state()

    def __setstate__(self, state):
        attrs, native = state
        self.__dict__.update(attrs)
        self._restore_native(native)


class Application(_engine.WsgiCore):
    """The WSGI application of a ``Provider``. It sets the provider's paths."""

    HTTP_CODES = {200: "200 OK", 301: "301 Moved Permanently", 302: "302 Found",
                  400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found"}

    def __init__(self, provider, authorize_uri="/authorize", env_vars=None, request_class=Request,
                 token_uri="/token"):
        self.provider = provider
        self.authorize_uri = authorize_uri
        self.env_vars = env_vars
        self.request_class = request_class
        self.token_uri = token_uri
        provider.authorize_path = authorize_uri
        provider.token_path = token_uri
        self._bind(provider, request_class, tuple(env_vars or ()))


class Wsgi(Application):
    """python-oauth2 0.x: ``oauth2.web.Wsgi(server=provider)``."""

    def __init__(self, server, authorize_uri="/authorize", env_vars=None, request_class=Request,
                 token_uri="/token"):
        self.server = server
        super(Wsgi, self).__init__(provider=server, authorize_uri=authorize_uri,
                                   env_vars=env_vars, request_class=request_class,
                                   token_uri=token_uri)
