"""Every storage a Provider can run on, opened on the real servers (MariaDB on 127.0.0.1:3306,
PostgreSQL on 127.0.0.1:5432, memcached on 127.0.0.1:11211, Redis on 127.0.0.1:6379; a missing
server makes the tests that need it fail, never skip), each in a throwaway namespace (a
database, a schema or a key prefix) removed afterwards (memcached keys expire by themselves).

A backend is opened with ``open_backend(name, tmp_path)`` and gives ``clients``, ``codes`` and
``tokens`` (python-oauth2 store objects; one object for all three where the module has one),
``reopen()`` (a second, independent handle on the same data: its own connection, as another
worker process would have), and ``close()``.

There is no MongoDB here: no MongoDB-compatible server can be installed on this machine (see
docs/storage.md), so ``oauth2.store.mongodb`` is tested without one in test_store_mongodb.py.
"""

import threading
import uuid

import oauth2.store.memory
import oauth2.store.native
from oauth2.datatype import AccessToken, AuthorizationCode, Client
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from oauth2.store import AccessTokenStore, AuthCodeStore, ClientStore

MYSQL = dict(host="127.0.0.1", port=3306, user="root", password="")
POSTGRES = "host=127.0.0.1 port=5432 user=root dbname=test"
MEMCACHED = ("127.0.0.1", 11211)
REDIS_URL = "redis://127.0.0.1:6379/0"


class PlainStore(ClientStore, AccessTokenStore, AuthCodeStore):
    """A store as an application would write it: dicts of records, python-oauth2's 1.x
    interface only (no atomic take), one lock for the dicts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clients, self.codes, self.tokens, self.refresh = {}, {}, {}, {}

    def add_client(self, client_id, client_secret, redirect_uris, **kw):
        self.clients[client_id] = (client_secret, list(redirect_uris))

    def fetch_by_client_id(self, client_id):
        if client_id not in self.clients:
            raise ClientNotFoundError
        secret, uris = self.clients[client_id]
        return Client(identifier=client_id, secret=secret, redirect_uris=list(uris))

    def save_code(self, authorization_code):
        with self.lock:
            self.codes[authorization_code.code] = dict(authorization_code.__dict__)

    def fetch_by_code(self, code):
        with self.lock:
            if code not in self.codes:
                raise AuthCodeNotFound
            return AuthorizationCode(**self.codes[code])

    def delete_code(self, code):
        with self.lock:
            self.codes.pop(code, None)

    def save_token(self, access_token):
        with self.lock:
            self.tokens[access_token.token] = dict(access_token.__dict__)
            if access_token.refresh_token:
                self.refresh[access_token.refresh_token] = access_token.token

    def fetch_by_token(self, token):
        with self.lock:
            if token not in self.tokens:
                raise AccessTokenNotFound
            return AccessToken(**self.tokens[token])

    def fetch_by_refresh_token(self, refresh_token):
        with self.lock:
            token = self.refresh.get(refresh_token)
            if token is None or token not in self.tokens:
                raise AccessTokenNotFound
            return AccessToken(**self.tokens[token])

    def delete_refresh_token(self, refresh_token):
        with self.lock:
            token = self.refresh.pop(refresh_token, None)
            if token is None:
                raise AccessTokenNotFound
            self.tokens.pop(token, None)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        raise AccessTokenNotFound


class Backend(object):
    def __init__(self, name, open_stores, close=lambda: None, shared=False):
        self.name = name
        self._open = open_stores
        self._close = close
        self._handles = []
        self.clients, self.codes, self.tokens = self.reopen()
        # True when a second handle is independent (its own connection): concurrent
        # redemption through two handles is then decided by the data engine itself.
        self.shared = shared

    def reopen(self):
        clients, codes, tokens, closer = self._open()
        self._handles.append(closer)
        return clients, codes, tokens

    def close(self):
        for closer in self._handles:
            closer()
        self._close()


def _nothing():
    pass


def _native_memory(tmp_path):
    store = oauth2.store.native.MemoryStore()
    return Backend("native-memory", lambda: (store, store, store, _nothing), shared=True)


def _native_sqlite(tmp_path):
    path = str(tmp_path / "oauth2.db")

    def open_stores():
        store = oauth2.store.native.SqliteStore(path)
        return store, store, store, _nothing
    return Backend("native-sqlite", open_stores, shared=True)


def _native_redis(tmp_path):
    import redis
    prefix = "pytest-%s:" % uuid.uuid4().hex

    def open_stores():
        store = oauth2.store.native.RedisStore(REDIS_URL, prefix=prefix)
        return store, store, store, _nothing

    def close():
        rs = redis.StrictRedis.from_url(REDIS_URL)
        for key in rs.scan_iter(prefix + "*"):
            rs.delete(key)
    return Backend("native-redis", open_stores, close, shared=True)


def _plain(tmp_path):
    store = PlainStore()
    return Backend("plain-python", lambda: (store, store, store, _nothing))


def _redisdb(tmp_path):
    import redis
    import oauth2.store.redisdb
    rs = redis.StrictRedis(host="127.0.0.1", port=6379)
    prefix = "oauth2-pytest-%s" % uuid.uuid4().hex

    def open_stores():
        tokens = oauth2.store.redisdb.TokenStore(rs=rs, prefix=prefix)
        return oauth2.store.redisdb.ClientStore(rs=rs, prefix=prefix), tokens, tokens, _nothing

    def close():
        for key in rs.scan_iter(prefix + "_*"):
            rs.delete(key)
    return Backend("redisdb", open_stores, close)


def mysql_database():
    """A throwaway MariaDB database with the tables; returns (name, drop)."""
    import pymysql
    import oauth2.store.dbapi.mysql
    name = "oauth2_pytest_%s" % uuid.uuid4().hex[:16]
    admin = pymysql.connect(**MYSQL)
    with admin.cursor() as c:
        c.execute("CREATE DATABASE `%s`" % name)
    admin.commit()
    conn = pymysql.connect(database=name, **MYSQL)
    oauth2.store.dbapi.mysql.create_tables(conn)
    conn.close()

    def drop():
        with admin.cursor() as c:
            c.execute("DROP DATABASE IF EXISTS `%s`" % name)
        admin.commit()
        admin.close()
    return name, drop


def mysql_stores(database):
    """Client, code and token stores on their own connections (python-oauth2's MySQL
    classes are separate objects: their query attributes have the same names)."""
    import pymysql
    import oauth2.store.dbapi.mysql as m
    conns = [pymysql.connect(database=database, **MYSQL) for _ in range(3)]

    def close():
        for c in conns:
            c.close()
    return (m.MysqlClientStore(conns[0]), m.MysqlAuthCodeStore(conns[1]),
            m.MysqlAccessTokenStore(conns[2]), close)


def _mysql(tmp_path):
    name, drop = mysql_database()
    return Backend("dbapi-mysql", lambda: mysql_stores(name), drop, shared=True)


def postgres_schema():
    import psycopg
    import oauth2.store.dbapi.postgresql
    name = "oauth2_pytest_%s" % uuid.uuid4().hex[:16]
    admin = psycopg.connect(POSTGRES, autocommit=True)
    admin.execute("CREATE SCHEMA %s" % name)
    conn = postgres_connect(name)
    oauth2.store.dbapi.postgresql.create_tables(conn)
    conn.close()

    def drop():
        admin.execute("DROP SCHEMA IF EXISTS %s CASCADE" % name)
        admin.close()
    return name, drop


def postgres_connect(schema):
    import psycopg
    return psycopg.connect(POSTGRES + " options='-c search_path=%s'" % schema)


def _postgres(tmp_path):
    import oauth2.store.dbapi.postgresql as pg
    name, drop = postgres_schema()

    def open_stores():
        conns = [postgres_connect(name) for _ in range(3)]

        def close():
            for c in conns:
                c.close()
        return (pg.PostgresqlClientStore(conns[0]), pg.PostgresqlAuthCodeStore(conns[1]),
                pg.PostgresqlAccessTokenStore(conns[2]), close)
    return Backend("dbapi-postgresql", open_stores, drop, shared=True)


def _memcache(tmp_path):
    from pymemcache.client.base import Client as Memcached
    import oauth2.store.memcache
    prefix = "pytest%s" % uuid.uuid4().hex[:12]
    clients = oauth2.store.memory.ClientStore()

    def open_stores():
        mc = Memcached(MEMCACHED, connect_timeout=2, timeout=2)
        tokens = oauth2.store.memcache.TokenStore(mc=mc, prefix=prefix)
        return clients, tokens, tokens, mc.close
    return Backend("memcache", open_stores, shared=True)


OPENERS = {
    "native-memory": _native_memory,
    "native-sqlite": _native_sqlite,
    "native-redis": _native_redis,
    "plain-python": _plain,
    "redisdb": _redisdb,
    "dbapi-mysql": _mysql,
    "dbapi-postgresql": _postgres,
    "memcache": _memcache,
}

# Backends whose independent handles share one data engine that takes atomically.
ATOMIC_ACROSS_HANDLES = [name for name in OPENERS
                         if name not in ("plain-python", "redisdb")]


def open_backend(name, tmp_path):
    return OPENERS[name](tmp_path)
