"""The harness's own checks: a correct app passes every workload, a broken one never gets a figure.

Stdlib only; runs with any Python 3.9+ from the repository root:
    python -m unittest discover -s benches/python -p 'test_harness.py'
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402
import harness  # noqa: E402
from apps import canned  # noqa: E402


def token_app(status="200 OK", body=None, location=None):
    """A WSGI app that answers every token request with ``body`` and /authorize with ``location``."""
    payload = json.dumps(body if body is not None else {
        "access_token": "a", "token_type": "Bearer", "refresh_token": "r"}).encode()

    def app(environ, start_response):
        if environ["PATH_INFO"] == common.AUTHORIZE_PATH:
            start_response("302 Found", [("Location", location or (
                common.REDIRECT_URI + "?code=c&state=" + harness.STATE))])
            return [b""]
        start_response(status, [("Content-Type", "application/json")])
        return [payload]
    return lambda: app


class CannedAppPasses(unittest.TestCase):
    def test_every_workload_is_measured_on_the_canned_app(self):
        for workload in harness.WORKLOADS:
            with self.subTest(workload=workload):
                result = harness.measure(canned.make_app, workload, duration=0.02, warmup=0.01)
                self.assertGreater(result["ops"], 0)
                self.assertGreater(result["us_per_op"], 0)

    def test_threads_are_measured_on_the_canned_app(self):
        result = harness.measure_threads(canned.make_app, "client_credentials", 2, 0.05)
        self.assertEqual(result["threads"], 2)
        self.assertGreater(result["ops"], 0)


class BrokenAppsFail(unittest.TestCase):
    def assert_rejected(self, make_app, workload, message):
        with self.assertRaisesRegex(harness.CheckFailed, message):
            harness.measure(make_app, workload, duration=0.02, warmup=0.01)

    def test_an_error_status_is_rejected(self):
        self.assert_rejected(token_app(status="400 Bad Request", body={"error": "invalid_client"}),
                             "client_credentials", "status")

    def test_a_response_without_an_access_token_is_rejected(self):
        self.assert_rejected(token_app(body={"token_type": "Bearer"}), "password",
                             "no access_token")

    def test_a_wrong_token_type_is_rejected(self):
        self.assert_rejected(token_app(body={"access_token": "a", "token_type": "mac"}),
                             "client_credentials", "not Bearer")

    def test_a_body_that_is_not_json_is_rejected(self):
        def make_app():
            def app(environ, start_response):
                start_response("200 OK", [])
                return [b"access_token=a&token_type=bearer"]
            return app
        self.assert_rejected(make_app, "client_credentials", "not JSON")

    def test_an_authorize_redirect_without_the_state_is_rejected(self):
        self.assert_rejected(token_app(location=common.REDIRECT_URI + "?code=c"),
                             "authorization_code", "bad Location")

    def test_an_authorize_redirect_elsewhere_is_rejected(self):
        self.assert_rejected(
            token_app(location="http://evil.example/cb?code=c&state=" + harness.STATE),
            "authorization_code", "bad Location")

    def test_a_refresh_without_a_new_refresh_token_is_rejected(self):
        self.assert_rejected(token_app(body={"access_token": "a", "token_type": "Bearer"}),
                             "refresh", "no refresh_token")

    def test_a_failure_in_one_thread_fails_the_whole_measurement(self):
        with self.assertRaisesRegex(harness.CheckFailed, "status"):
            harness.measure_threads(token_app(status="500 Internal Server Error"),
                                    "client_credentials", 2, 0.05)


if __name__ == "__main__":
    unittest.main()
