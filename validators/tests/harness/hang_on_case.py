#!/usr/bin/env python3
"""Test fixture: a limbo harness with one fault on one case (its id is the first argument).

Reads a limbo testcase file on stdin. When the file holds that case, it hangs (`hang`, the
default) or crashes (`--crash`: exit status 3); otherwise it hands the file to
openssl_verify_harness.py, so every other case gets a real verdict.
"""
import json
import os
import subprocess
import sys
import time

target = sys.argv[1]
crash = "--crash" in sys.argv[2:]
data = sys.stdin.buffer.read()
if any(case["id"] == target for case in json.loads(data)["testcases"]):
    if crash:
        sys.stderr.write("crashing on " + target + "\n")
        sys.exit(3)
    time.sleep(600)
harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openssl_verify_harness.py")
run = subprocess.run([sys.executable, harness], input=data, stdout=subprocess.PIPE)
sys.stdout.buffer.write(run.stdout)
sys.exit(run.returncode)
