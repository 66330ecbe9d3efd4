"""oauth2.store.dbapi and oauth2.store.dbapi.mysql against the real MariaDB on 127.0.0.1:3306
(a throwaway database per test), and the same stores' PostgreSQL queries
(oauth2.store.dbapi.postgresql) against the real PostgreSQL on 127.0.0.1:5432. The contract
(flows, expiry, races) is in test_store_contract.py; this file covers the stored format, the
migration from python-oauth2 1.1.1's schema and the fixes (B10, S9, transactions)."""

import base64
import hashlib
import time
import uuid

import pymysql
import pytest

import oauth2.store.dbapi.mysql as mysql
import oauth2.tokengenerator
import oauth2.web.wsgi
from oauth2.datatype import AccessToken, AuthorizationCode
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from conftest import REDIRECT, USER_ID, make_provider, query_of
from store_backends import MYSQL, mysql_database, mysql_stores, postgres_connect, postgres_schema

FORM = {"client_id": "abc", "client_secret": "xyz"}

# python-oauth2 1.1.1's MySQL schema (its module docstring), for the migration test.
OLD_SCHEMA = [
    """CREATE TABLE access_tokens (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       client_id VARCHAR(32) NOT NULL, grant_type ENUM('authorization_code', 'implicit',
       'password', 'client_credentials', 'refresh_token') NOT NULL, token CHAR(36) NOT NULL,
       expires_at TIMESTAMP NULL, refresh_token CHAR(36) NULL,
       refresh_expires_at TIMESTAMP NULL, user_id INT NULL) ENGINE=InnoDB""",
    """CREATE TABLE access_token_scopes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       name VARCHAR(32) NOT NULL, access_token_id INT NOT NULL) ENGINE=InnoDB""",
    """CREATE TABLE access_token_data (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       `key` VARCHAR(32) NOT NULL, `value` VARCHAR(32) NOT NULL,
       access_token_id INT NOT NULL) ENGINE=InnoDB""",
    """CREATE TABLE auth_codes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       client_id VARCHAR(32) NOT NULL, code CHAR(36) NOT NULL,
       expires_at TIMESTAMP NOT NULL, redirect_uri VARCHAR(128) NULL,
       user_id INT NULL) ENGINE=InnoDB""",
    """CREATE TABLE auth_code_data (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       `key` VARCHAR(32) NOT NULL, `value` VARCHAR(32) NOT NULL,
       auth_code_id INT NOT NULL) ENGINE=InnoDB""",
    """CREATE TABLE auth_code_scopes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       name VARCHAR(32) NOT NULL, auth_code_id INT NOT NULL) ENGINE=InnoDB""",
]


@pytest.fixture
def db():
    name, drop = mysql_database()
    clients, codes, tokens, close = mysql_stores(name)
    conn = pymysql.connect(database=name, autocommit=True, **MYSQL)
    yield clients, codes, tokens, conn
    conn.close()
    close()
    drop()


def rows(conn, query, *args):
    with conn.cursor() as c:
        c.execute(query, args)
        return c.fetchall()


def test_flow_over_http_writes_python_oauth2_rows(db, serve):
    clients, codes, tokens, conn = db
    # 40-character tokens: python-oauth2's CHAR(36) columns could not hold them (B10)
    provider = make_provider(client_store=clients, token_store=tokens, code_store=codes,
                             generator=oauth2.tokengenerator.URandomTokenGenerator())
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes&scope=read%20write")
    code = query_of(r.headers["Location"])["code"]
    assert len(code) == 40
    (code_id, client_id, user_id), = rows(
        conn, "SELECT id, client_id, user_id FROM auth_codes WHERE code = %s", code)
    assert (client_id, user_id) == ("abc", USER_ID)
    assert sorted(rows(conn, "SELECT `key`, `value` FROM auth_code_data WHERE auth_code_id = %s",
                       code_id)) == [("who", "alice")]
    assert sorted(r[0] for r in rows(
        conn, "SELECT name FROM auth_code_scopes WHERE auth_code_id = %s", code_id)) == [
            "read", "write"]
    tok = s.post("/token", data=dict(FORM, grant_type="authorization_code", code=code,
                                     redirect_uri=REDIRECT)).json()
    # the code and its rows are gone
    assert rows(conn, "SELECT id FROM auth_codes WHERE code = %s", code) == ()
    assert rows(conn, "SELECT id FROM auth_code_data WHERE auth_code_id = %s", code_id) == ()
    (token_id, grant, expires, refresh, uid), = rows(
        conn, "SELECT id, grant_type, UNIX_TIMESTAMP(expires_at), refresh_token, user_id"
        " FROM access_tokens WHERE token = %s", tok["access_token"])
    assert grant == "authorization_code" and refresh == tok["refresh_token"]
    assert uid == USER_ID and abs(int(expires) - (time.time() + 120)) < 5
    assert rows(conn, "SELECT `key`, `value` FROM access_token_data WHERE access_token_id = %s",
                token_id) == (("who", "alice"),)
    assert tokens.fetch_by_refresh_token(tok["refresh_token"]).token == tok["access_token"]
    assert tokens.fetch_existing_token_of_user("abc", "authorization_code", USER_ID).token == \
        tok["access_token"]


def test_code_without_data_is_saved(db):
    """B10: python-oauth2 crashed on data=None (an adapter returning no data)."""
    clients, codes, tokens, conn = db
    codes.save_code(AuthorizationCode(client_id="abc", code="c-none", expires_at=2 ** 31 - 10,
                                      redirect_uri=REDIRECT, scopes=[], data=None, user_id=None))
    found = codes.fetch_by_code("c-none")
    assert found.data == {} and found.user_id is None and found.scopes == []
    tokens.save_token(AccessToken("abc", "client_credentials", "t-none", data=None))
    assert tokens.fetch_by_token("t-none").data == {}


def test_pkce_challenge_survives_the_store(db, serve):
    clients, codes, tokens, conn = db
    provider = make_provider(client_store=clients, token_store=tokens, code_store=codes)
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes&code_challenge=%s"
              "&code_challenge_method=S256" % challenge)
    code = query_of(r.headers["Location"])["code"]
    assert rows(conn, "SELECT code_challenge FROM auth_codes WHERE code = %s", code) == (
        (challenge,),)
    form = dict(FORM, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    # without the verifier the code is refused (and, being taken, is gone)
    assert s.post("/token", data=form).json()["error"] in ("invalid_grant", "invalid_request")
    r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes&code_challenge=%s"
              "&code_challenge_method=S256" % challenge)
    form["code"] = query_of(r.headers["Location"])["code"]
    ok = s.post("/token", data=dict(form, code_verifier=verifier))
    assert ok.status_code == 200, ok.text


def test_a_failed_save_leaves_nothing_behind(db):
    """A token is written with its data and scope rows in one transaction."""
    clients, codes, tokens, conn = db
    with pytest.raises(pymysql.err.MySQLError):
        tokens.save_token(AccessToken("abc", "password", "t-bad", data={"k" * 40: "v"},
                                      scopes=["read"], user_id=1))
    assert rows(conn, "SELECT id FROM access_tokens WHERE token = 't-bad'") == ()
    assert rows(conn, "SELECT id FROM access_token_scopes") == ()
    # the store's connection is still usable
    tokens.save_token(AccessToken("abc", "password", "t-good", scopes=["read"], user_id=1))
    assert tokens.fetch_by_token("t-good").scopes == ["read"]


def test_consume_is_atomic_and_single_use(db):
    clients, codes, tokens, conn = db
    codes.save_code(AuthorizationCode(client_id="abc", code="c1", expires_at=2 ** 31 - 10,
                                      redirect_uri=REDIRECT, scopes=["read"], data={"a": "b"}))
    assert codes.consume_code("c1").data == {"a": "b"}
    with pytest.raises(AuthCodeNotFound):
        codes.consume_code("c1")
    tokens.save_token(AccessToken("abc", "password", "t1", refresh_token="r1",
                                  expires_at=2 ** 31 - 10, refresh_expires_at=2 ** 31 - 10,
                                  user_id=3))
    assert tokens.consume_refresh_token("r1").user_id == 3
    with pytest.raises(AccessTokenNotFound):
        tokens.consume_refresh_token("r1")
    with pytest.raises(AccessTokenNotFound):
        tokens.fetch_by_token("t1")  # deleted with its refresh token


def test_client_rows_decide_grants_and_redirect_uris(db, serve):
    clients, codes, tokens, conn = db
    clients.add_client("cc-only", "s", ["http://127.0.0.1:9/x"],
                       authorized_grants=["client_credentials"])
    clients.add_client("any", "s", ["http://127.0.0.1:9/y", "http://127.0.0.1:9/z"])
    c = clients.fetch_by_client_id("cc-only")
    assert c.authorized_grants == ["client_credentials"] and c.authorized_response_types is None
    a = clients.fetch_by_client_id("any")
    assert a.authorized_grants is None and sorted(a.redirect_uris) == [
        "http://127.0.0.1:9/y", "http://127.0.0.1:9/z"]
    with pytest.raises(ClientNotFoundError):
        clients.fetch_by_client_id("nobody")
    provider = make_provider(client_store=clients, token_store=tokens, code_store=codes)
    s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
    pw = {"grant_type": "password", "username": "alice", "password": "pw", "client_secret": "s"}
    assert s.post("/token", data=dict(pw, client_id="cc-only")).json()["error"] == \
        "unauthorized_client"
    assert s.post("/token", data=dict(pw, client_id="any")).status_code == 200


def test_migrates_a_python_oauth2_database():
    name = "oauth2_pytest_%s" % uuid.uuid4().hex[:16]
    admin = pymysql.connect(autocommit=True, **MYSQL)
    with admin.cursor() as c:
        c.execute("CREATE DATABASE `%s`" % name)
    try:
        conn = pymysql.connect(database=name, autocommit=True, **MYSQL)
        with conn.cursor() as c:
            for statement in OLD_SCHEMA:
                c.execute(statement)
            # rows as python-oauth2 1.1.1 wrote them
            c.execute("INSERT INTO access_tokens (client_id, grant_type, token, expires_at,"
                      " refresh_token, refresh_expires_at, user_id) VALUES ('abc', 'password',"
                      " %s, FROM_UNIXTIME(%s), %s, FROM_UNIXTIME(%s), 7)",
                      ("a" * 36, 2 ** 31 - 100, "r" * 36, 2 ** 31 - 50))
            c.execute("INSERT INTO access_token_data (`key`, `value`, access_token_id)"
                      " VALUES ('who', 'bob', 1)")
            c.execute("INSERT INTO access_token_scopes (name, access_token_id) VALUES ('read', 1)")
        old_tokens = mysql.MysqlAccessTokenStore(pymysql.connect(database=name, **MYSQL))
        long_token = AccessToken("abc", "password", "L" * 60, user_id=8)
        # before the migration a 60-character token does not fit
        with pytest.raises(pymysql.err.MySQLError):
            old_tokens.save_token(long_token)
        mysql.migrate(conn)
        mysql.migrate(conn)  # idempotent
        tokens = mysql.MysqlAccessTokenStore(pymysql.connect(database=name, **MYSQL))
        old = tokens.fetch_by_refresh_token("r" * 36)
        assert (old.token, old.user_id, old.data, old.scopes) == ("a" * 36, 7, {"who": "bob"},
                                                                  ["read"])
        assert (old.expires_at, old.refresh_expires_at) == (2 ** 31 - 100, 2 ** 31 - 50)
        tokens.save_token(long_token)
        assert tokens.fetch_by_token("L" * 60).user_id == 8
        codes = mysql.MysqlAuthCodeStore(pymysql.connect(database=name, **MYSQL))
        codes.save_code(AuthorizationCode("abc", "C" * 60, 2 ** 31 - 10, REDIRECT, ["read"],
                                          code_challenge="x" * 43,
                                          code_challenge_method="S256"))
        assert codes.consume_code("C" * 60).code_challenge == "x" * 43
    finally:
        with admin.cursor() as c:
            c.execute("DROP DATABASE `%s`" % name)
        admin.close()


def test_postgresql_connection_through_the_generic_store(serve):
    """psycopg 3 uses %s placeholders like the MySQL drivers; only the SQL differs."""
    import oauth2.store.dbapi.postgresql as pg
    name, drop = postgres_schema()
    conns = [postgres_connect(name) for _ in range(3)]
    try:
        clients = pg.PostgresqlClientStore(conns[0])
        codes = pg.PostgresqlAuthCodeStore(conns[1])
        tokens = pg.PostgresqlAccessTokenStore(conns[2])
        provider = make_provider(client_store=clients, token_store=tokens, code_store=codes,
                                 generator=oauth2.tokengenerator.URandomTokenGenerator(64))
        s = serve("wsgiref", app=oauth2.web.wsgi.Application(provider=provider))
        r = s.get("/authorize?response_type=code&client_id=abc&confirm=yes")
        code = query_of(r.headers["Location"])["code"]
        tok = s.post("/token", data=dict(FORM, grant_type="authorization_code", code=code,
                                         redirect_uri=REDIRECT)).json()
        saved = tokens.fetch_by_refresh_token(tok["refresh_token"])
        assert saved.token == tok["access_token"] and len(saved.token) == 64
        assert saved.user_id == USER_ID and saved.data == {"who": "alice"}
        assert abs(saved.expires_at - (time.time() + 120)) < 5
        codes.save_code(AuthorizationCode("abc", "pg-none", int(time.time()) + 60, REDIRECT,
                                          [], data=None))
        assert codes.consume_code("pg-none").data == {}
        with pytest.raises(AuthCodeNotFound):
            codes.fetch_by_code("pg-none")
    finally:
        for c in conns:
            c.close()
        drop()
