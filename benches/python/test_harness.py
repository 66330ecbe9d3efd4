"""The harness's own checks: a correct app passes every workload, a broken one never gets a figure.

Stdlib only; runs with any Python 3.9+ from the repository root:
    python -m unittest discover -s benches/python -p 'test_harness.py'
"""

import json
import os
import sys
import unittest
from urllib.parse import parse_qs, quote

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
                result = harness.measure(canned.make_app, workload, requests=40, warmup=10)
                self.assertEqual(result["ops"], 40)
                self.assertGreater(result["us_per_op"], 0)

    def test_threads_are_measured_on_the_canned_app(self):
        result = harness.measure_threads(canned.make_app, "client_credentials", 2, 0.05)
        self.assertEqual(result["threads"], 2)
        self.assertGreater(result["ops"], 0)


class BrokenAppsFail(unittest.TestCase):
    def assert_rejected(self, make_app, workload, message):
        with self.assertRaisesRegex(harness.CheckFailed, message):
            harness.measure(make_app, workload, requests=40, warmup=10)

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


def chain_app(tokens, seen):
    """A token endpoint that hands out ``tokens`` one by one as refresh tokens and records the
    refresh token (form-decoded) and code each request spent; /authorize redirects with the next
    token as the code."""
    issued = iter(tokens)

    def app(environ, start_response):
        if environ["PATH_INFO"] == common.AUTHORIZE_PATH:
            start_response("302 Found", [("Location", common.REDIRECT_URI + "?code="
                                          + quote(next(issued), safe="") + "&state="
                                          + harness.STATE)])
            return [b""]
        form = parse_qs(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])).decode())
        seen.append((form.get("refresh_token"), form.get("code")))
        body = json.dumps({"access_token": "a", "token_type": "Bearer",
                           "refresh_token": next(issued)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    return lambda: app


class DriverReadsWhatTheChainNeeds(unittest.TestCase):
    """Inside the timed loop the driver only scans for the next refresh token and the code; these
    check that the scan gets them right, falls back when it cannot, and is verified after."""

    def run_steps(self, workload, tokens, steps):
        seen = []
        work = harness.WORKLOADS[workload](chain_app(tokens, seen)())
        work.prepare()
        records = [work.step() for _ in range(steps)]
        harness.check_all(work, records)
        return seen

    def test_the_scan_reads_plain_and_spaced_json(self):
        for body in (b'{"access_token":"a","refresh_token":"r-1._~Z","token_type":"Bearer"}',
                     b'{"refresh_token" :\n "r-1._~Z", "x": 1}'):
            self.assertEqual(harness.scan_refresh_token(body), b"r-1._~Z")
        for body in (b'{"refresh_token": "a\\"b"}', b'{"refresh_token": "a+b"}',
                     b'{"refresh_token": null}', b'{"refresh_token": ""}', b'{}'):
            self.assertIsNone(harness.scan_refresh_token(body), body)

    def test_the_scan_reads_the_code_parameter_only(self):
        location = common.REDIRECT_URI + "?xcode=no&state=s&code=c0de-1&y=2"
        self.assertEqual(harness.scan_code([("Location", location)]), "c0de-1")
        self.assertEqual(harness.scan_code([("location", common.REDIRECT_URI + "?code=c")]), "c")
        self.assertIsNone(harness.scan_code([("Location", common.REDIRECT_URI + "?code=a%2Fb")]))
        self.assertIsNone(harness.scan_code([("Content-Type", "text/html")]))

    def test_refresh_tokens_that_need_encoding_are_spent_as_issued(self):
        tokens = ["first", "plain-1", "a+b/c d", 'q"uote\\', "é", "plain-2"]
        seen = self.run_steps("refresh", tokens, len(tokens) - 1)
        self.assertEqual([refresh for refresh, _ in seen], [None] + [[t] for t in tokens[:-1]])

    def test_codes_that_need_encoding_are_spent_as_issued(self):
        tokens = ["c0de", "r", "a+b/c d", "r", "%41&", "r"]
        seen = self.run_steps("authorization_code", tokens, 3)
        self.assertEqual([code for _, code in seen], [["c0de"], ["a+b/c d"], ["%41&"]])

    def test_a_scan_that_disagrees_with_the_full_parse_is_rejected(self):
        # Duplicate keys: the scan takes the first, json.loads the last.
        body = {"access_token": "a", "token_type": "Bearer", "refresh_token": "r"}
        payload = json.dumps(body).replace('"refresh_token"', '"refresh_token": "other", '
                                           '"refresh_token"', 1).encode()

        def app(environ, start_response):
            start_response("200 OK", [])
            return [payload]
        with self.assertRaisesRegex(harness.CheckFailed, "driver read refresh token"):
            harness.measure(lambda: app, "refresh", requests=40, warmup=10)

    def test_a_refresh_chain_without_a_token_stops_at_once(self):
        responses = iter([b'{"access_token": "a", "token_type": "Bearer", "refresh_token": "r"}',
                          b'{"access_token": "a", "token_type": "Bearer"}'])

        def app(environ, start_response):
            start_response("200 OK", [])
            return [next(responses)]
        work = harness.Refresh(app)
        work.prepare()
        with self.assertRaisesRegex(harness.CheckFailed, "no refresh_token"):
            work.step()

    def test_a_token_response_that_is_not_an_object_is_rejected(self):
        self.assert_rejected = BrokenAppsFail.assert_rejected.__get__(self)
        self.assert_rejected(token_app(body=["access_token", "token_type"]), "password",
                             "not a JSON object")

    def test_a_redirect_with_two_states_is_rejected(self):
        self.assert_rejected = BrokenAppsFail.assert_rejected.__get__(self)
        self.assert_rejected(
            token_app(location=common.REDIRECT_URI + "?code=c&state=" + harness.STATE
                      + "&state=x"), "authorization_code", "bad Location")

    def test_an_error_status_on_the_authorize_leg_is_rejected(self):
        def make_app():
            def app(environ, start_response):
                if environ["PATH_INFO"] == common.AUTHORIZE_PATH:
                    start_response("400 Bad Request", [("Location", common.REDIRECT_URI
                                                        + "?code=c&state=" + harness.STATE)])
                    return [b""]
                return token_app()()(environ, start_response)
            return app
        with self.assertRaisesRegex(harness.CheckFailed, "authorize: status"):
            harness.measure(make_app, "authorization_code", requests=40, warmup=10)

    def test_every_request_gets_a_fresh_environ_and_input(self):
        environs = []

        def app(environ, start_response):
            environs.append(environ)
            return token_app()()(environ, start_response)
        for workload in ("client_credentials", "refresh"):
            environs.clear()
            work = harness.WORKLOADS[workload](app)
            work.prepare()
            records = [work.step() for _ in range(3)]
            harness.check_all(work, records)
            self.assertEqual(len({id(e) for e in environs}), len(environs))
            self.assertEqual(len({id(e["wsgi.input"]) for e in environs}), len(environs))
            for environ in environs:
                self.assertEqual(environ["CONTENT_LENGTH"],
                                 str(len(environ["wsgi.input"].getvalue())))


if __name__ == "__main__":
    unittest.main()
