#!/usr/bin/env python3
"""An x509-limbo harness around the system `openssl verify` command (a real validator).

Test fixture for the external-harness adapter: reads a limbo testcase file on stdin, runs
`openssl verify` once per SERVER case with only the case's anchors (no system store), and writes
a limbo results file on stdout. Context on failure is OpenSSL's own "error N at D depth" line.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile


def write(directory, name, pems):
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write("".join(pems))
    return path


def evaluate(testcase):
    result = {"id": testcase["id"], "actual_result": "SKIPPED", "context": None}
    if testcase["validation_kind"] != "SERVER":
        result["context"] = "non-SERVER testcases not supported"
        return result
    with tempfile.TemporaryDirectory() as directory:
        command = ["openssl", "verify", "-no-CApath", "-no-CAstore", "-purpose", "sslserver"]
        command += ["-CAfile", write(directory, "trusted.pem", testcase["trusted_certs"])]
        if testcase["untrusted_intermediates"]:
            command += ["-untrusted", write(directory, "untrusted.pem", testcase["untrusted_intermediates"])]
        if testcase.get("validation_time"):
            moment = datetime.datetime.fromisoformat(testcase["validation_time"].replace("Z", "+00:00"))
            command += ["-attime", str(int(moment.timestamp()))]
        name = testcase.get("expected_peer_name")
        if name and name["kind"] == "DNS":
            command += ["-verify_hostname", name["value"]]
        elif name and name["kind"] == "IP":
            command += ["-verify_ip", name["value"]]
        command.append(write(directory, "peer.pem", [testcase["peer_certificate"]]))
        run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode == 0:
        result["actual_result"] = "SUCCESS"
    else:
        lines = (run.stdout + run.stderr).splitlines()
        errors = [line for line in lines if line.startswith("error ")]
        result["actual_result"] = "FAILURE"
        result["context"] = errors[0] if errors else " ".join(lines)[:300]
    return result


def main():
    limbo = json.load(sys.stdin)
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    results = [evaluate(testcase) for testcase in limbo["testcases"]]
    json.dump({"version": 1, "harness": "openssl-cli " + version, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
