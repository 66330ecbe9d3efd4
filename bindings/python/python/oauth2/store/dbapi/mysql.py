"""python-oauth2's MySQL/MariaDB stores: the queries of ``oauth2.store.dbapi`` for the table
layout below, with ``%s`` placeholders (PyMySQL, mysqlclient). Any DB-API connection to
MySQL or MariaDB works::

    import pymysql
    conn = pymysql.connect(host="127.0.0.1", user="app", password="...", database="oauth")
    oauth2.store.dbapi.mysql.create_tables(conn)          # new databases
    oauth2.store.dbapi.mysql.migrate(conn)                # databases made for python-oauth2
    tokens = MysqlAccessTokenStore(conn); codes = MysqlAuthCodeStore(conn)
    clients = MysqlClientStore(conn)

The layout is python-oauth2 1.1.1's (same tables, columns and meaning) with three changes, which
``migrate`` applies to an existing database (docs/migration.md):

- ``token``, ``refresh_token`` and ``code`` are ``VARCHAR(255)`` instead of ``CHAR(36)``, so
  tokens longer than a UUID (``URandomTokenGenerator``'s 40 characters and more) fit;
- ``auth_codes`` has two more NULL columns, ``code_challenge`` and ``code_challenge_method``
  (PKCE); codes saved without them simply have no challenge;
- data ``value`` is ``VARCHAR(255)`` instead of ``VARCHAR(32)``.

User ids must still be integers (``user_id INT``), and data values come back as strings.
"""

from oauth2.store.dbapi import DbApiAccessTokenStore, DbApiAuthCodeStore, DbApiClientStore

_GRANTS = "'authorization_code','implicit','password','client_credentials','refresh_token'"

# Table name -> column definitions (after `id INT NOT NULL AUTO_INCREMENT PRIMARY KEY`).
SCHEMA = (
    ("access_tokens", """
        `client_id` VARCHAR(32) NOT NULL,
        `grant_type` ENUM(%s) NOT NULL,
        `token` VARCHAR(255) NOT NULL,
        `expires_at` TIMESTAMP NULL,
        `refresh_token` VARCHAR(255) NULL,
        `refresh_expires_at` TIMESTAMP NULL,
        `user_id` INT NULL,
        INDEX `fetch_by_refresh_token` (`refresh_token`),
        INDEX `fetch_by_token` (`token`),
        INDEX `fetch_existing_token_of_user` (`client_id`, `grant_type`, `user_id`)""" % _GRANTS),
    ("access_token_scopes", """
        `name` VARCHAR(32) NOT NULL,
        `access_token_id` INT NOT NULL,
        INDEX `access_token_id` (`access_token_id`)"""),
    ("access_token_data", """
        `key` VARCHAR(32) NOT NULL,
        `value` VARCHAR(255) NOT NULL,
        `access_token_id` INT NOT NULL,
        INDEX `access_token_id` (`access_token_id`)"""),
    ("auth_codes", """
        `client_id` VARCHAR(32) NOT NULL,
        `code` VARCHAR(255) NOT NULL,
        `expires_at` TIMESTAMP NOT NULL,
        `redirect_uri` VARCHAR(128) NULL,
        `user_id` INT NULL,
        `code_challenge` VARCHAR(128) NULL,
        `code_challenge_method` VARCHAR(16) NULL,
        INDEX `fetch_code` (`code`)"""),
    ("auth_code_data", """
        `key` VARCHAR(32) NOT NULL,
        `value` VARCHAR(255) NOT NULL,
        `auth_code_id` INT NOT NULL,
        INDEX `auth_code_id` (`auth_code_id`)"""),
    ("auth_code_scopes", """
        `name` VARCHAR(32) NOT NULL,
        `auth_code_id` INT NOT NULL,
        INDEX `auth_code_id` (`auth_code_id`)"""),
    ("clients", """
        `identifier` VARCHAR(32) NOT NULL,
        `secret` VARCHAR(32) NOT NULL,
        INDEX `identifier` (`identifier`)"""),
    ("client_grants", """
        `name` VARCHAR(32) NOT NULL,
        `client_id` INT NOT NULL"""),
    ("client_redirect_uris", """
        `redirect_uri` VARCHAR(128) NOT NULL,
        `client_id` INT NOT NULL"""),
    ("client_response_types", """
        `response_type` VARCHAR(32) NOT NULL,
        `client_id` INT NOT NULL"""),
)

# What `migrate` runs on a database made with python-oauth2 1.1.1's schema (each statement is
# idempotent: widening a column that is already wide, or adding a column IF NOT EXISTS).
MIGRATION = (
    "ALTER TABLE `access_tokens` MODIFY `token` VARCHAR(255) NOT NULL,"
    " MODIFY `refresh_token` VARCHAR(255) NULL",
    "ALTER TABLE `auth_codes` MODIFY `code` VARCHAR(255) NOT NULL,"
    " ADD COLUMN IF NOT EXISTS `code_challenge` VARCHAR(128) NULL,"
    " ADD COLUMN IF NOT EXISTS `code_challenge_method` VARCHAR(16) NULL",
    "ALTER TABLE `access_token_data` MODIFY `value` VARCHAR(255) NOT NULL",
    "ALTER TABLE `auth_code_data` MODIFY `value` VARCHAR(255) NOT NULL",
)


def _run(connection, statements):
    cursor = connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
        connection.commit()
    finally:
        cursor.close()


def create_tables(connection):
    """Creates the tables that are missing (InnoDB, utf8mb4)."""
    _run(connection, ["CREATE TABLE IF NOT EXISTS `%s` (`id` INT NOT NULL AUTO_INCREMENT"
                      " PRIMARY KEY, %s) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" % (name, cols)
                      for name, cols in SCHEMA])


def migrate(connection):
    """Upgrades tables made with python-oauth2 1.1.1's schema (``ADD COLUMN IF NOT EXISTS``
    needs MariaDB 10.0.2+; on MySQL run the statements of ``MIGRATION`` by hand, once)."""
    _run(connection, MIGRATION)


_TOKEN_COLUMNS = """`id`, `client_id`, `grant_type`, `token`, UNIX_TIMESTAMP(`expires_at`),
            `refresh_token`, UNIX_TIMESTAMP(`refresh_expires_at`), `user_id`"""


class MysqlAccessTokenStore(DbApiAccessTokenStore):
    create_access_token_query = """
        INSERT INTO `access_tokens` (`client_id`, `grant_type`, `token`, `expires_at`,
            `refresh_token`, `refresh_expires_at`, `user_id`)
        VALUES (%s, %s, %s, FROM_UNIXTIME(%s), %s, FROM_UNIXTIME(%s), %s)"""
    create_data_query = """
        INSERT INTO `access_token_data` (`key`, `value`, `access_token_id`)
        VALUES (%s, %s, %s)"""
    create_scope_query = """
        INSERT INTO `access_token_scopes` (`name`, `access_token_id`) VALUES (%s, %s)"""
    delete_refresh_token_query = "DELETE FROM `access_tokens` WHERE `refresh_token` = %s"
    fetch_by_refresh_token_query = """
        SELECT """ + _TOKEN_COLUMNS + """ FROM `access_tokens`
        WHERE `refresh_token` = %s LIMIT 1"""
    fetch_by_token_query = """
        SELECT """ + _TOKEN_COLUMNS + """ FROM `access_tokens` WHERE `token` = %s LIMIT 1"""
    fetch_scopes_by_access_token_query = """
        SELECT `name` FROM `access_token_scopes` WHERE `access_token_id` = %s"""
    fetch_data_by_access_token_query = """
        SELECT `key`, `value` FROM `access_token_data` WHERE `access_token_id` = %s"""
    fetch_existing_token_of_user_query = """
        SELECT """ + _TOKEN_COLUMNS + """ FROM `access_tokens`
        WHERE `client_id` = %s AND `grant_type` = %s AND `user_id` = %s
        ORDER BY `expires_at` DESC LIMIT 1"""
    delete_data_by_access_token_query = """
        DELETE FROM `access_token_data` WHERE `access_token_id` = %s"""
    delete_scopes_by_access_token_query = """
        DELETE FROM `access_token_scopes` WHERE `access_token_id` = %s"""


class MysqlAuthCodeStore(DbApiAuthCodeStore):
    pkce_columns = True
    create_auth_code_query = """
        INSERT INTO `auth_codes` (`client_id`, `code`, `expires_at`, `redirect_uri`, `user_id`,
            `code_challenge`, `code_challenge_method`)
        VALUES (%s, %s, FROM_UNIXTIME(%s), %s, %s, %s, %s)"""
    create_data_query = """
        INSERT INTO `auth_code_data` (`key`, `value`, `auth_code_id`) VALUES (%s, %s, %s)"""
    create_scope_query = """
        INSERT INTO `auth_code_scopes` (`name`, `auth_code_id`) VALUES (%s, %s)"""
    delete_code_query = "DELETE FROM `auth_codes` WHERE `code` = %s"
    fetch_code_query = """
        SELECT `id`, `client_id`, `code`, UNIX_TIMESTAMP(`expires_at`), `redirect_uri`,
            `user_id`, `code_challenge`, `code_challenge_method`
        FROM `auth_codes` WHERE `code` = %s"""
    fetch_data_query = "SELECT `key`, `value` FROM `auth_code_data` WHERE `auth_code_id` = %s"
    fetch_scopes_query = "SELECT `name` FROM `auth_code_scopes` WHERE `auth_code_id` = %s"
    delete_data_query = "DELETE FROM `auth_code_data` WHERE `auth_code_id` = %s"
    delete_scopes_query = "DELETE FROM `auth_code_scopes` WHERE `auth_code_id` = %s"


class MysqlClientStore(DbApiClientStore):
    fetch_client_query = """
        SELECT `id`, `identifier`, `secret` FROM `clients` WHERE `identifier` = %s"""
    fetch_grants_query = "SELECT `name` FROM `client_grants` WHERE `client_id` = %s"
    fetch_redirect_uris_query = """
        SELECT `redirect_uri` FROM `client_redirect_uris` WHERE `client_id` = %s"""
    fetch_response_types_query = """
        SELECT `response_type` FROM `client_response_types` WHERE `client_id` = %s"""
    create_client_query = "INSERT INTO `clients` (`identifier`, `secret`) VALUES (%s, %s)"
    create_grant_query = "INSERT INTO `client_grants` (`name`, `client_id`) VALUES (%s, %s)"
    create_redirect_uri_query = """
        INSERT INTO `client_redirect_uris` (`redirect_uri`, `client_id`) VALUES (%s, %s)"""
    create_response_type_query = """
        INSERT INTO `client_response_types` (`response_type`, `client_id`) VALUES (%s, %s)"""
