"""The stores of ``oauth2.store.dbapi`` for PostgreSQL (psycopg 3 or psycopg2: both use ``%s``
placeholders, like the MySQL drivers, so only the SQL differs from ``oauth2.store.dbapi.mysql``).

Same tables and columns as the MySQL layout, in PostgreSQL types: ``SERIAL`` ids,
``TIMESTAMPTZ`` times written with ``to_timestamp`` and read back with ``EXTRACT(EPOCH ...)``,
``TEXT`` checked by constraints where MySQL had an ``ENUM``. New ids come from
``INSERT ... RETURNING id`` (PostgreSQL drivers have no useful ``lastrowid``). python-oauth2
1.1.1 had no PostgreSQL layout, so there is nothing to migrate.
"""

from oauth2.store.dbapi import DbApiAccessTokenStore, DbApiAuthCodeStore, DbApiClientStore

SCHEMA = (
    ("access_tokens", """
        client_id VARCHAR(32) NOT NULL,
        grant_type TEXT NOT NULL CHECK (grant_type IN ('authorization_code', 'implicit',
            'password', 'client_credentials', 'refresh_token')),
        token VARCHAR(255) NOT NULL,
        expires_at TIMESTAMPTZ NULL,
        refresh_token VARCHAR(255) NULL,
        refresh_expires_at TIMESTAMPTZ NULL,
        user_id INT NULL"""),
    ("access_token_scopes", "name VARCHAR(32) NOT NULL, access_token_id INT NOT NULL"),
    ("access_token_data", """key VARCHAR(32) NOT NULL, value VARCHAR(255) NOT NULL,
        access_token_id INT NOT NULL"""),
    ("auth_codes", """
        client_id VARCHAR(32) NOT NULL,
        code VARCHAR(255) NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        redirect_uri VARCHAR(128) NULL,
        user_id INT NULL,
        code_challenge VARCHAR(128) NULL,
        code_challenge_method VARCHAR(16) NULL"""),
    ("auth_code_data", """key VARCHAR(32) NOT NULL, value VARCHAR(255) NOT NULL,
        auth_code_id INT NOT NULL"""),
    ("auth_code_scopes", "name VARCHAR(32) NOT NULL, auth_code_id INT NOT NULL"),
    ("clients", "identifier VARCHAR(32) NOT NULL, secret VARCHAR(32) NOT NULL"),
    ("client_grants", "name VARCHAR(32) NOT NULL, client_id INT NOT NULL"),
    ("client_redirect_uris", "redirect_uri VARCHAR(128) NOT NULL, client_id INT NOT NULL"),
    ("client_response_types", "response_type VARCHAR(32) NOT NULL, client_id INT NOT NULL"),
)

INDEXES = (
    ("access_tokens", "refresh_token"), ("access_tokens", "token"),
    ("access_tokens", "client_id, grant_type, user_id"),
    ("access_token_scopes", "access_token_id"), ("access_token_data", "access_token_id"),
    ("auth_codes", "code"), ("auth_code_data", "auth_code_id"),
    ("auth_code_scopes", "auth_code_id"), ("clients", "identifier"),
)


def create_tables(connection):
    """Creates the tables and indexes that are missing."""
    cursor = connection.cursor()
    try:
        for name, cols in SCHEMA:
            cursor.execute("CREATE TABLE IF NOT EXISTS %s (id SERIAL PRIMARY KEY, %s)"
                           % (name, cols))
        for table, cols in INDEXES:
            cursor.execute("CREATE INDEX IF NOT EXISTS %s_%s_idx ON %s (%s)" % (
                table, cols.replace(", ", "_"), table, cols))
        connection.commit()
    finally:
        cursor.close()


_TIME = "to_timestamp(CAST(%s AS DOUBLE PRECISION))"
_TOKEN_COLUMNS = """id, client_id, grant_type, token,
    CAST(EXTRACT(EPOCH FROM expires_at) AS BIGINT), refresh_token,
    CAST(EXTRACT(EPOCH FROM refresh_expires_at) AS BIGINT), user_id"""


class PostgresqlAccessTokenStore(DbApiAccessTokenStore):
    create_access_token_query = (
        "INSERT INTO access_tokens (client_id, grant_type, token, expires_at, refresh_token,"
        " refresh_expires_at, user_id) VALUES (%s, %s, %s, " + _TIME + ", %s, " + _TIME
        + ", %s) RETURNING id")
    create_data_query = ("INSERT INTO access_token_data (key, value, access_token_id)"
                         " VALUES (%s, %s, %s)")
    create_scope_query = "INSERT INTO access_token_scopes (name, access_token_id) VALUES (%s, %s)"
    delete_refresh_token_query = "DELETE FROM access_tokens WHERE refresh_token = %s"
    fetch_by_refresh_token_query = ("SELECT " + _TOKEN_COLUMNS + " FROM access_tokens"
                                    " WHERE refresh_token = %s LIMIT 1")
    fetch_by_token_query = ("SELECT " + _TOKEN_COLUMNS + " FROM access_tokens"
                            " WHERE token = %s LIMIT 1")
    fetch_scopes_by_access_token_query = ("SELECT name FROM access_token_scopes"
                                          " WHERE access_token_id = %s")
    fetch_data_by_access_token_query = ("SELECT key, value FROM access_token_data"
                                        " WHERE access_token_id = %s")
    fetch_existing_token_of_user_query = (
        "SELECT " + _TOKEN_COLUMNS + " FROM access_tokens WHERE client_id = %s"
        " AND grant_type = %s AND user_id = %s ORDER BY expires_at DESC NULLS LAST LIMIT 1")
    delete_data_by_access_token_query = "DELETE FROM access_token_data WHERE access_token_id = %s"
    delete_scopes_by_access_token_query = ("DELETE FROM access_token_scopes"
                                           " WHERE access_token_id = %s")


class PostgresqlAuthCodeStore(DbApiAuthCodeStore):
    pkce_columns = True
    create_auth_code_query = (
        "INSERT INTO auth_codes (client_id, code, expires_at, redirect_uri, user_id,"
        " code_challenge, code_challenge_method) VALUES (%s, %s, " + _TIME
        + ", %s, %s, %s, %s) RETURNING id")
    create_data_query = "INSERT INTO auth_code_data (key, value, auth_code_id) VALUES (%s, %s, %s)"
    create_scope_query = "INSERT INTO auth_code_scopes (name, auth_code_id) VALUES (%s, %s)"
    delete_code_query = "DELETE FROM auth_codes WHERE code = %s"
    fetch_code_query = (
        "SELECT id, client_id, code, CAST(EXTRACT(EPOCH FROM expires_at) AS BIGINT),"
        " redirect_uri, user_id, code_challenge, code_challenge_method"
        " FROM auth_codes WHERE code = %s")
    fetch_data_query = "SELECT key, value FROM auth_code_data WHERE auth_code_id = %s"
    fetch_scopes_query = "SELECT name FROM auth_code_scopes WHERE auth_code_id = %s"
    delete_data_query = "DELETE FROM auth_code_data WHERE auth_code_id = %s"
    delete_scopes_query = "DELETE FROM auth_code_scopes WHERE auth_code_id = %s"


class PostgresqlClientStore(DbApiClientStore):
    fetch_client_query = "SELECT id, identifier, secret FROM clients WHERE identifier = %s"
    fetch_grants_query = "SELECT name FROM client_grants WHERE client_id = %s"
    fetch_redirect_uris_query = "SELECT redirect_uri FROM client_redirect_uris WHERE client_id = %s"
    fetch_response_types_query = ("SELECT response_type FROM client_response_types"
                                  " WHERE client_id = %s")
    create_client_query = "INSERT INTO clients (identifier, secret) VALUES (%s, %s) RETURNING id"
    create_grant_query = "INSERT INTO client_grants (name, client_id) VALUES (%s, %s)"
    create_redirect_uri_query = ("INSERT INTO client_redirect_uris (redirect_uri, client_id)"
                                 " VALUES (%s, %s)")
    create_response_type_query = ("INSERT INTO client_response_types (response_type, client_id)"
                                  " VALUES (%s, %s)")
