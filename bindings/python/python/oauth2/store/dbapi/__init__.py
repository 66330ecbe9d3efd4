"""python-oauth2's stores for any PEP 249 (DB-API 2.0) connection.

The classes here hold the logic; the SQL is in class attributes that a subclass fills in (see
``oauth2.store.dbapi.mysql`` for MySQL/MariaDB and ``oauth2.store.dbapi.postgresql`` for
PostgreSQL). The attribute names, the rows the queries return and the parameters they take are
python-oauth2 1.1.1's, so subclasses written for it keep working. Differences from 1.1.1:

- every multi-statement write (a token with its data and scope rows, a code with its rows) runs
  in one transaction: it is committed whole or rolled back whole;
- codes and refresh tokens can be taken atomically (``consume_code``,
  ``consume_refresh_token``): the row is deleted inside a transaction and only the caller whose
  ``DELETE`` removed it (``rowcount``) wins, so concurrent redemptions have one winner even
  across processes and hosts;
- ``data=None`` (an adapter that returned no data) is saved as no data rows instead of crashing;
- data and scope rows are deleted with their token or code when the queries for that are set
  (``delete_*_data_query``/``delete_*_scopes_query``; 1.1.1 left them behind);
- calls on one store are serialized with a lock, because most DB-API connections must not be
  used by two threads at once (PEP 249 ``threadsafety`` is at most 1 for PyMySQL and psycopg
  connections shared this way). Give each worker process its own store and connection.
"""

import contextlib
import json
import threading

from oauth2.datatype import AccessToken, AuthorizationCode, Client
from oauth2.error import AccessTokenNotFound, AuthCodeNotFound, ClientNotFoundError
from oauth2.store import AccessTokenStore, AuthCodeStore
from oauth2.store import ClientStore as ClientStoreBase


class DatabaseStore(object):
    """Runs queries on a PEP 249 connection. Placeholders are the driver's own (``%s`` for
    PyMySQL, mysqlclient and psycopg)."""

    def __init__(self, connection):
        self.connection = connection
        self._lock = threading.RLock()

    def execute(self, query, *params):
        """Runs one statement in its own transaction; returns the cursor's ``lastrowid``."""
        with self._transaction() as cursor:
            cursor.execute(query, params)
            return cursor.lastrowid

    def fetchone(self, query, *args):
        with self._transaction() as cursor:
            cursor.execute(query, args)
            return cursor.fetchone()

    def fetchall(self, query, *args):
        with self._transaction() as cursor:
            cursor.execute(query, args)
            return cursor.fetchall()

    @staticmethod
    def _inserted_id(cursor):
        """The id of the row just inserted: the first column of a ``RETURNING id`` row when
        the query returned one (PostgreSQL has no ``lastrowid``), else ``lastrowid``."""
        if cursor.description:
            return cursor.fetchone()[0]
        return cursor.lastrowid

    @staticmethod
    def _delete_children(cursor, parent_id, *queries):
        for query in queries:
            if query is not None:
                cursor.execute(query, (parent_id,))

    @contextlib.contextmanager
    def _transaction(self):
        """A cursor whose work is committed when the block ends and rolled back when it raises.
        Reads are committed too, so that a REPEATABLE READ snapshot (InnoDB's default) never
        outlives one call."""
        with self._lock:
            cursor = self.connection.cursor()
            try:
                yield cursor
                self.connection.commit()
            except BaseException:
                try:
                    self.connection.rollback()
                except Exception:  # the connection itself broke: the first error is the news
                    pass
                raise
            finally:
                cursor.close()


def _data_rows(data):
    """``data`` as (key, value) rows. None is no data (1.1.1 crashed on it, B10). Values that are
    not strings are stored as their JSON text; values come back as strings, as in 1.1.1."""
    if not data:
        return []
    rows = []
    for key, value in data.items():
        if not isinstance(value, str):
            value = json.dumps(value)
        rows.append((str(key), value))
    return rows


def _epoch(value):
    """A timestamp column read back through ``UNIX_TIMESTAMP``/``EXTRACT(EPOCH ...)``: an int,
    or None for NULL (drivers hand back int, Decimal or float)."""
    return None if value is None else int(value)


class DbApiAccessTokenStore(DatabaseStore, AccessTokenStore):
    create_access_token_query = None
    create_data_query = None
    create_scope_query = None
    delete_refresh_token_query = None
    fetch_by_refresh_token_query = None
    fetch_by_token_query = None
    fetch_scopes_by_access_token_query = None
    fetch_data_by_access_token_query = None
    fetch_existing_token_of_user_query = None
    # Not in 1.1.1: clean up a deleted token's rows (skipped when None).
    delete_data_by_access_token_query = None
    delete_scopes_by_access_token_query = None

    def save_token(self, access_token):
        with self._transaction() as cursor:
            cursor.execute(self.create_access_token_query, (
                access_token.client_id, access_token.grant_type, access_token.token,
                access_token.expires_at, access_token.refresh_token,
                # python-oauth2 wrote 0 for "no refresh expiry"; 0 is not a TIMESTAMP.
                access_token.refresh_expires_at or None, access_token.user_id))
            token_id = self._inserted_id(cursor)
            for key, value in _data_rows(access_token.data):
                cursor.execute(self.create_data_query, (key, value, token_id))
            for scope in access_token.scopes or []:
                cursor.execute(self.create_scope_query, (scope, token_id))
        return True

    def fetch_by_refresh_token(self, refresh_token):
        row = self.fetchone(self.fetch_by_refresh_token_query, refresh_token)
        if row is None:
            raise AccessTokenNotFound
        return self._token_from_row(row)

    def fetch_by_token(self, token):
        """Not in 1.1.1 (which had no way to validate a token against a database store)."""
        if self.fetch_by_token_query is None:
            raise AccessTokenNotFound
        row = self.fetchone(self.fetch_by_token_query, token)
        if row is None:
            raise AccessTokenNotFound
        return self._token_from_row(row)

    def fetch_existing_token_of_user(self, client_id, grant_type, user_id):
        row = self.fetchone(self.fetch_existing_token_of_user_query, client_id, grant_type,
                            user_id)
        if row is None:
            raise AccessTokenNotFound
        return self._token_from_row(row)

    def delete_refresh_token(self, refresh_token):
        """Deletes the token row (access and refresh token) and its data and scope rows."""
        self._take_refresh_token(refresh_token)

    def consume_refresh_token(self, refresh_token):
        """Atomic take: returns the token and deletes it, or raises ``AccessTokenNotFound`` when
        it is missing or another caller took it first."""
        token = self._take_refresh_token(refresh_token)
        if token is None:
            raise AccessTokenNotFound
        return token

    def _take_refresh_token(self, refresh_token):
        with self._transaction() as cursor:
            cursor.execute(self.fetch_by_refresh_token_query, (refresh_token,))
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(self.delete_refresh_token_query, (refresh_token,))
            # The DELETE locks the row and re-reads it: of concurrent takers, the later ones
            # wait for the first to commit and then find nothing to delete.
            if cursor.rowcount < 1:
                return None
            token = self._token_from_row(row, cursor)
            self._delete_children(cursor, row[0], self.delete_data_by_access_token_query,
                                  self.delete_scopes_by_access_token_query)
            return token

    def _token_from_row(self, row, cursor=None):
        token_id = row[0]
        if cursor is None:
            data = self.fetchall(self.fetch_data_by_access_token_query, token_id)
            scopes = self.fetchall(self.fetch_scopes_by_access_token_query, token_id)
        else:
            cursor.execute(self.fetch_data_by_access_token_query, (token_id,))
            data = cursor.fetchall()
            cursor.execute(self.fetch_scopes_by_access_token_query, (token_id,))
            scopes = cursor.fetchall()
        return AccessToken(client_id=row[1], grant_type=row[2], token=row[3],
                           data=dict((k, v) for k, v in data), expires_at=_epoch(row[4]),
                           refresh_token=row[5], refresh_expires_at=_epoch(row[6]),
                           scopes=[s[0] for s in scopes], user_id=row[7])


class DbApiAuthCodeStore(DatabaseStore, AuthCodeStore):
    create_auth_code_query = None
    create_data_query = None
    create_scope_query = None
    delete_code_query = None
    fetch_code_query = None
    fetch_data_query = None
    fetch_scopes_query = None
    # Not in 1.1.1: clean up a deleted code's rows (skipped when None).
    delete_data_query = None
    delete_scopes_query = None
    # True when the queries also write and read the PKCE columns (code_challenge,
    # code_challenge_method): create_auth_code_query then takes two more parameters and
    # fetch_code_query returns them as the 7th and 8th columns. 1.1.1 had no PKCE.
    pkce_columns = False

    def save_code(self, authorization_code):
        params = [authorization_code.client_id, authorization_code.code,
                  authorization_code.expires_at, authorization_code.redirect_uri,
                  authorization_code.user_id]
        if self.pkce_columns:
            d = authorization_code.__dict__
            params += [d.get("code_challenge"), d.get("code_challenge_method")]
        with self._transaction() as cursor:
            cursor.execute(self.create_auth_code_query, tuple(params))
            code_id = self._inserted_id(cursor)
            for key, value in _data_rows(authorization_code.data):
                cursor.execute(self.create_data_query, (key, value, code_id))
            for scope in authorization_code.scopes or []:
                cursor.execute(self.create_scope_query, (scope, code_id))
        return True

    def fetch_by_code(self, code):
        row = self.fetchone(self.fetch_code_query, code)
        if row is None:
            raise AuthCodeNotFound
        return self._code_from_row(row)

    def delete_code(self, code):
        self._take_code(code)

    def consume_code(self, code):
        """Atomic take: returns the code and deletes it, or raises ``AuthCodeNotFound`` when it
        is missing or another caller took it first."""
        found = self._take_code(code)
        if found is None:
            raise AuthCodeNotFound
        return found

    def _take_code(self, code):
        with self._transaction() as cursor:
            cursor.execute(self.fetch_code_query, (code,))
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(self.delete_code_query, (code,))
            if cursor.rowcount < 1:
                return None
            found = self._code_from_row(row, cursor)
            self._delete_children(cursor, row[0], self.delete_data_query,
                                                   self.delete_scopes_query)
            return found

    def _code_from_row(self, row, cursor=None):
        code_id = row[0]
        if cursor is None:
            data = self.fetchall(self.fetch_data_query, code_id)
            scopes = self.fetchall(self.fetch_scopes_query, code_id)
        else:
            cursor.execute(self.fetch_data_query, (code_id,))
            data = cursor.fetchall()
            cursor.execute(self.fetch_scopes_query, (code_id,))
            scopes = cursor.fetchall()
        extra = {}
        if self.pkce_columns and len(row) >= 8:
            extra = dict(code_challenge=row[6], code_challenge_method=row[7])
        return AuthorizationCode(client_id=row[1], code=row[2], expires_at=_epoch(row[3]),
                                 redirect_uri=row[4], scopes=[s[0] for s in scopes],
                                 data=dict((k, v) for k, v in data), user_id=row[5], **extra)


class DbApiClientStore(DatabaseStore, ClientStoreBase):
    fetch_client_query = None
    fetch_grants_query = None
    fetch_redirect_uris_query = None
    fetch_response_types_query = None
    # Not in 1.1.1 (clients were inserted by hand): used by add_client.
    create_client_query = None
    create_grant_query = None
    create_redirect_uri_query = None
    create_response_type_query = None

    def add_client(self, client_id, client_secret, redirect_uris, authorized_grants=None,
                   authorized_response_types=None):
        """Inserts a client with its rows in one transaction; returns True."""
        with self._transaction() as cursor:
            cursor.execute(self.create_client_query,
                           (client_id, "" if client_secret is None else client_secret))
            row_id = self._inserted_id(cursor)
            for query, values in ((self.create_grant_query, authorized_grants),
                                  (self.create_redirect_uri_query, redirect_uris),
                                  (self.create_response_type_query, authorized_response_types)):
                for value in values or []:
                    cursor.execute(query, (value, row_id))
        return True

    def fetch_by_client_id(self, client_id):
        with self._transaction() as cursor:
            cursor.execute(self.fetch_client_query, (client_id,))
            row = cursor.fetchone()
            if row is None:
                raise ClientNotFoundError
            lists = []
            for query in (self.fetch_grants_query, self.fetch_redirect_uris_query,
                          self.fetch_response_types_query):
                cursor.execute(query, (row[0],))
                lists.append([r[0] for r in cursor.fetchall()])
        grants, redirect_uris, response_types = lists
        # As in 1.1.1: no grant rows means every grant (and likewise response types).
        return Client(identifier=row[1], secret=row[2], redirect_uris=redirect_uris,
                      authorized_grants=grants or None,
                      authorized_response_types=response_types or None)
