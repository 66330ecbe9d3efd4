"""Import target for servers that take ``module:attribute`` (granian): the app named by BENCH_APP."""

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

app = importlib.import_module("apps." + os.environ["BENCH_APP"]).make_app()
