"""The benchmark app written against python-oauth2's 1.x API.

It runs unchanged on python-oauth2 1.1.1 and on this project's ``oauth2`` package (its drop-in
successor): whichever ``oauth2`` the venv has installed is the one measured.
"""

import oauth2
import oauth2.datatype
import oauth2.error
import oauth2.grant
import oauth2.store.memory
import oauth2.tokengenerator
import oauth2.web
import oauth2.web.wsgi

import common


class CodeSite(oauth2.web.AuthorizationCodeGrantSiteAdapter):
    """The user is signed in and consent is given without a page: the authorize leg issues a code."""

    def authenticate(self, request, environ, scopes, client):
        return {}, common.USER_ID

    def user_has_denied_access(self, request):
        return False

    def render_auth_page(self, request, response, environ, scopes, client):
        return response


class PasswordSite(oauth2.web.ResourceOwnerGrantSiteAdapter):
    def authenticate(self, request, environ, scopes, client):
        if (request.post_param("username") == common.USERNAME
                and request.post_param("password") == common.PASSWORD):
            return {}, common.USER_ID
        raise oauth2.error.UserNotAuthenticated


def make_stores():
    client_store = oauth2.store.memory.ClientStore()
    client_store.add_client(client_id=common.CLIENT_ID, client_secret=common.CLIENT_SECRET,
                            redirect_uris=[common.REDIRECT_URI])
    return client_store, oauth2.store.memory.TokenStore()


def make_app(stores=None):
    client_store, token_store = stores or make_stores()
    generator = oauth2.tokengenerator.Uuid4()
    # ClientCredentialsGrant takes no expires_in; python-oauth2's own example sets it here.
    generator.expires_in[oauth2.grant.ClientCredentialsGrant.grant_type] = \
        common.ACCESS_TOKEN_LIFETIME
    provider = oauth2.Provider(access_token_store=token_store, auth_code_store=token_store,
                               client_store=client_store, token_generator=generator)
    provider.add_grant(oauth2.grant.AuthorizationCodeGrant(
        site_adapter=CodeSite(), expires_in=common.ACCESS_TOKEN_LIFETIME))
    provider.add_grant(oauth2.grant.ResourceOwnerGrant(
        site_adapter=PasswordSite(), expires_in=common.ACCESS_TOKEN_LIFETIME))
    provider.add_grant(oauth2.grant.RefreshToken(
        expires_in=common.REFRESH_TOKEN_LIFETIME, reissue_refresh_tokens=True))
    provider.add_grant(oauth2.grant.ClientCredentialsGrant())
    return oauth2.web.wsgi.Application(provider=provider, authorize_uri=common.AUTHORIZE_PATH,
                                       token_uri=common.TOKEN_PATH)


REDIS_URL = "redis://127.0.0.1:6379/15"


def make_app_redis():
    """The same app on the engine's native Redis store (this project's package only): a store
    whose work waits on the network, so the thread phase shows what releasing the GIL buys.
    Needs Redis on 127.0.0.1:6379 (scripts/services.sh starts it). The keys go to database 15,
    away from the tests' database 0 (whose clean-ups scan it), each app under a fresh prefix;
    scripts/bench.sh empties database 15 when the run ends."""
    import uuid

    import oauth2.store.native
    store = oauth2.store.native.RedisStore(REDIS_URL,
                                           prefix="o2e-bench-%s:" % uuid.uuid4().hex[:12])
    try:
        store.add_client(client_id=common.CLIENT_ID, client_secret=common.CLIENT_SECRET,
                         redirect_uris=[common.REDIRECT_URI])
    except Exception as error:
        raise RuntimeError("the Redis thread-scaling row needs Redis on 127.0.0.1:6379 "
                           "(start it with scripts/services.sh): %s" % error)
    return make_app((store, store))


def library_version():
    version = getattr(oauth2, "__version__", None) or getattr(oauth2, "VERSION", "?")
    try:
        from importlib import metadata
        for dist in ("oauth2-engine", "python-oauth2"):
            try:
                return "%s %s" % (dist, metadata.version(dist))
            except metadata.PackageNotFoundError:
                pass
    except ImportError:
        pass
    return "oauth2 %s" % version


def fill_token_store(count, expires_at):
    """Saves ``count`` live access tokens through the memory TokenStore's ``save_token`` API.

    Returns the store (the caller keeps it alive while it reads the RSS) and the last refresh
    token saved. Each token has a refresh token, as a password or code grant issues them, so the
    store indexes it by both.
    """
    import uuid
    _, store = make_stores()
    save = store.save_token
    make = oauth2.datatype.AccessToken
    refresh = None
    for i in range(count):
        refresh = str(uuid.uuid4())
        save(make(client_id=common.CLIENT_ID, grant_type="password", token=str(uuid.uuid4()),
                  data={}, expires_at=expires_at, refresh_token=refresh,
                  refresh_expires_at=expires_at + common.REFRESH_TOKEN_LIFETIME, scopes=[],
                  user_id="user-%d" % i))
    return store, refresh
