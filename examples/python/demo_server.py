"""Demo authorization server on 127.0.0.1:8080 (python-oauth2 1.x API on the Rust engine).

Memory stores, one demo client, a login + consent page, and every grant: authorization code
(with PKCE if the client sends a challenge), implicit, password, client credentials, refresh.
Run it with scripts/demo.sh, which builds the wheel first.
"""

import html
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer

import oauth2
import oauth2.error
import oauth2.grant
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi

HOST, PORT = "127.0.0.1", int(os.environ.get("DEMO_PORT", "8080"))
CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
REDIRECT_URI = "http://127.0.0.1:8081/callback"
USERS = {"demo": "demo-password"}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title>
<style>body{{font-family:sans-serif;max-width:28em;margin:4em auto}}
input{{display:block;margin:.4em 0;padding:.4em;width:100%}}</style></head>
<body>
<h1>{client} asks for access</h1>
<p>Scopes: <b>{scopes}</b></p>
{error}
<form method="POST">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button name="confirm" value="yes">Allow</button>
  <button name="deny" value="yes">Deny</button>
</form>
</body></html>"""


def _login(request):
    user = request.post_param("username")
    if user in USERS and request.post_param("password") == USERS[user]:
        return user
    return None


class ConsentAdapter(oauth2.web.AuthorizationCodeGrantSiteAdapter,
                     oauth2.web.ImplicitGrantSiteAdapter):
    """The browser flows: a login form that doubles as the consent page."""

    def authenticate(self, request, environ, scopes, client):
        if request.method == "POST" and request.post_param("confirm") == "yes":
            user = _login(request)
            if user is not None:
                return {"login": user}, user
        raise oauth2.error.UserNotAuthenticated

    def render_auth_page(self, request, response, environ, scopes, client):
        tried = request.method == "POST" and request.post_param("confirm") == "yes"
        response.body = PAGE.format(
            client=html.escape(client.identifier),
            scopes=html.escape(" ".join(scopes) or "(none)"),
            error="<p style='color:#b00'>Wrong user or password.</p>" if tried else "")
        return response

    def user_has_denied_access(self, request):
        return request.method == "POST" and request.post_param("deny") == "yes"


class PasswordAdapter(oauth2.web.ResourceOwnerGrantSiteAdapter):
    def authenticate(self, request, environ, scopes, client):
        user = _login(request)
        if user is None:
            raise oauth2.error.UserNotAuthenticated
        return {"login": user}, user


def build_app():
    clients = oauth2.store.memory.ClientStore()
    clients.add_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       redirect_uris=[REDIRECT_URI])
    tokens = oauth2.store.memory.TokenStore()
    generator = oauth2.tokengenerator.Uuid4()
    generator.expires_in["client_credentials"] = 3600
    provider = oauth2.Provider(access_token_store=tokens, auth_code_store=tokens,
                               client_store=clients, token_generator=generator)
    scopes = dict(scopes=["profile", "email"], default_scope="profile")
    provider.add_grant(oauth2.grant.AuthorizationCodeGrant(
        site_adapter=ConsentAdapter(), expires_in=3600, **scopes))
    provider.add_grant(oauth2.grant.ImplicitGrant(site_adapter=ConsentAdapter(), **scopes))
    provider.add_grant(oauth2.grant.ResourceOwnerGrant(
        site_adapter=PasswordAdapter(), expires_in=3600, **scopes))
    provider.add_grant(oauth2.grant.RefreshToken(expires_in=30 * 24 * 3600,
                                                 reissue_refresh_tokens=True))
    provider.add_grant(oauth2.grant.ClientCredentialsGrant(**scopes))
    return oauth2.web.wsgi.Application(provider=provider)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Handler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    app = build_app()
    base = "http://%s:%d" % (HOST, PORT)
    print("""oauth2 demo authorization server (oauth2 %s, python-oauth2 API %s) on %s

  client:  %s / %s   redirect URI: %s
  user:    demo / %s

Browser (authorization code; the redirect target need not exist, read the code from the URL):
  %s/authorize?response_type=code&client_id=%s&redirect_uri=%s&state=xyz&scope=profile%%20email

Then exchange the code:
  curl -s %s/token -d grant_type=authorization_code -d code=CODE \\
       -d redirect_uri=%s -d client_id=%s -d client_secret=%s

Client credentials:
  curl -s %s/token -d grant_type=client_credentials -d client_id=%s -d client_secret=%s

Password grant, then refresh with the refresh_token it returned:
  curl -s %s/token -d grant_type=password -d username=demo -d password=%s \\
       -d client_id=%s -d client_secret=%s
  curl -s %s/token -d grant_type=refresh_token -d refresh_token=RT \\
       -d client_id=%s -d client_secret=%s

Implicit (browser): %s/authorize?response_type=token&client_id=%s&state=xyz
""" % (oauth2.__version__, oauth2.VERSION, base, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
       USERS["demo"], base, CLIENT_ID, REDIRECT_URI, base, REDIRECT_URI, CLIENT_ID,
       CLIENT_SECRET, base, CLIENT_ID, CLIENT_SECRET, base, USERS["demo"], CLIENT_ID,
       CLIENT_SECRET, base, CLIENT_ID, CLIENT_SECRET, base, CLIENT_ID))
    sys.stdout.flush()
    httpd = make_server(HOST, PORT, app, server_class=_Server, handler_class=_Handler)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
