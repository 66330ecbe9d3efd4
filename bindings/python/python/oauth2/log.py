"""The package's loggers. ``app_log`` receives every exception a user callback raised."""

import logging

app_log = logging.getLogger("oauth2.application")
gen_log = logging.getLogger("oauth2.general")
