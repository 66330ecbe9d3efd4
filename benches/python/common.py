"""What every benchmark app and the driver agree on: one client, one user, one redirect URI.

Stdlib only: this module is imported inside every library's own venv.
"""

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789"
REDIRECT_URI = "http://127.0.0.1:8080/callback"
USERNAME = "alice"
PASSWORD = "wonderland"
USER_ID = "alice"
# Lifetimes: one hour for access tokens (so every library issues refresh tokens where it does so
# by default), one day for refresh tokens.
ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 86400
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
FORM = "application/x-www-form-urlencoded"
